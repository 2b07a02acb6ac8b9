// trace_module inside a thread: wraps the exported functions of a CommonJS module and the methods of its
// exported classes, now if the module is loaded, else when it is first required (Module._load is watched
// while any trace waits). Functions exported through esbuild's getters (tsx) cannot be wrapped: in a
// loaded module the tracer reaches them through the inspector (src/trace/esm.ts traceCommonJs); a module
// first required while its trace waits is answered as a proxy of its exports that returns wrappers. ES
// module namespaces are immutable, so their exports cannot be wrapped: the tracer instruments their source
// instead (src/trace/esm.ts), and their calls come back through the call hook
// installed here, under site numbers handed out by `instrumented`.
import { Calls, Limiter, type CallSite, type TraceLimits } from './calls.js';
import type { AgentCore } from './index.js';
import type { PatchTable, Undo } from './patches.js';
import { withoutOwnFrames } from './stacks.js';
import { isMethodName, RETRACE_FOR_FUNCTIONS } from '../shared/protocol.js';

/** Calls per second a breakpoint trace may take: 500 hits ≈ 50 ms of CPU each second at most (~0.1 ms a hit). */
export const ESM_MAX_RATE = 500;
/** The global the instrumented functions call (src/trace/instrument.ts CALL_HOOK). */
const CALL_HOOK = '__nodescope_call';

export interface ModuleSpec extends TraceLimits {
  /** The name the trace was asked for by: events carry it as their module. */
  module: string;
  /** The file the tracer resolved the name to (the agent resolves it itself when absent). */
  resolved?: string;
  /** Functions to trace besides the exports (non-exported ones too, where the mechanism allows). */
  functions?: string[];
  /** A loaded CommonJS module is left to the tracer (status `in_place`), which reaches more than wrappers do. */
  inPlace?: boolean;
  /** `timing`: counts and durations summed in the target (Timings), no event per call, no arguments. */
  capture?: 'timing';
}

export type Mechanism = 'wrappers' | 'live-edit' | 'breakpoints';

export interface ModuleReport {
  module: string;
  resolved: string | null;
  /** `esm`: an ES module, which the tracer traces by instrumenting its source instead (src/trace/esm.ts). */
  status: 'traced' | 'pending' | 'unsupported' | 'not_found' | 'esm' | 'in_place' | 'stopped';
  via?: Mechanism;
  functions: string[];
  methods: string[];
  note?: string;
  /** Calls recorded so far, and why the trace stopped if it did. */
  calls?: number;
  stopped?: string;
  limits?: TraceLimits;
  capture?: 'timing';
  /** Wrapped as the module was first required, its trace having begun before it loaded (the tracer then
   * looks whether its exports are its own: ThreadLink.ownFunctionsInstead). */
  required?: true;
}

type Fn = (...args: unknown[]) => unknown;
type Obj = Record<string, unknown>;
type ModuleRecord = { exports: unknown; loaded?: boolean; filename?: string; children?: ModuleRecord[] };

interface Active {
  report: ModuleReport;
  limiter: Limiter;
  undo: Undo[];
}

/**
 * A function that put a wrapper in its own place. Its breakpoint goes at the first call the wrapper records
 * (`released`), unless a call came first through a reference taken before the wrapper (`stale`: NestJS
 * calls each controller method through the one it took at startup): only the breakpoint sees those. An export
 * of a loaded CommonJS module wrapped where V8 has no live edit is one from the start, `stale` for good: the
 * program took references to it before the trace (a destructured require), which only its breakpoint sees.
 */
interface Rebind {
  site: CallSite;
  wrapper?: Fn;
  original?: Fn;
  inside: number;
  undo: Undo[];
  stale?: boolean;
  released?: boolean;
}

export class Modules {
  private readonly pending = new Map<string, { spec: ModuleSpec; limiter: Limiter }>();
  /** Active traces by resolved file. */
  private readonly traced = new Map<string, Active>();
  /** Limits of ES-module traces, by module name: their calls come through the call hook or esmHit. */
  private readonly esm = new Map<string, Limiter>();
  /** Functions of ES modules traced by breakpoints that replace themselves with a wrapper at their first
   * call (where V8 has no live edit), by (module, function). */
  private readonly rebinds = new Map<string, Rebind>();
  /** Call sites of instrumented functions, by the number their code passes to the call hook. */
  private readonly hookSites: (CallSite | undefined)[] = [];
  private hookInstalled = false;
  /** Reports of live-edit traces that functions joined or left since they were sent. */
  private readonly grown = new Set<ModuleReport>();
  /**
   * Reports of live-edit traces whose edits the tracer has not yet said are made (announce): sent then, not
   * before, or a question in between hears of a trace that records nothing yet (a re-forked cluster worker
   * listed as traced ~40 ms before its edit landed, a call in between unrecorded).
   */
  private readonly unannounced = new Set<ModuleReport>();
  /** Modules traced for timing only, by name. */
  private readonly timed = new Set<string>();
  /** Traces asked for before this thread could resolve paths (a worker paused before its bootstrap). */
  private unresolved: ModuleSpec[] = [];
  private booted: boolean;
  private watching = false;
  /** Within one require: module.exports values that a wrapper replaced (a function that is the module). */
  private replaced = new Map<unknown, unknown>();
  /** The function each export wrapper stands for, so the tracer can ask where an export was defined. */
  private readonly originals = new WeakMap<object, unknown>();

  constructor(
    private readonly core: AgentCore,
    private readonly patches: PatchTable,
    private readonly calls: Calls,
  ) {
    this.booted = core.bootstrapped();
    // Detach: the last sums go before the channel closes.
    patches.add(() => calls.timings.close());
  }

  trace(spec: ModuleSpec): ModuleReport {
    this.timingOf(spec);
    const resolved = spec.resolved ?? this.resolve(spec.module);
    const base = { module: spec.module, resolved, functions: [], methods: [] };
    if (resolved === null && !this.booted) {
      this.unresolved.push(spec);
      this.watchLoads();
      return { ...base, status: 'pending', note: 'this thread is starting: resolved at its first require' };
    }
    if (resolved === null) return { ...base, status: 'not_found', note: `cannot resolve "${spec.module}" from ${this.core.builtin('process').cwd()}` };
    const known = this.traced.get(resolved);
    // Wrapped already (traced before it loaded, or once loaded where nothing went in place): as it is.
    if (known) return spec.functions?.length ? { ...this.report(known), note: `already traced; ${RETRACE_FOR_FUNCTIONS}` } : this.report(known);
    if (/\.(mjs|mts)$/.test(resolved) || this.isEsm(resolved)) {
      // Exports of an ES module are immutable bindings: no wrapper can replace them. The tracer
      // instruments the module's source (or, where it cannot, sets breakpoints whose condition calls esmHit).
      if (!this.esm.has(spec.module)) this.esm.set(spec.module, new Limiter(this.core, spec.module, spec));
      return { ...base, status: 'esm', note: 'an ES module: its exports are immutable bindings, so its functions cannot be wrapped' };
    }
    const record = this.cache()[resolved] as ModuleRecord | undefined;
    // Loaded: the tracer instruments it in place where V8 can live-edit, reaching the references taken
    // before (a destructured require) that wrappers on the exports would miss; it sets breakpoints where no
    // wrapper goes (exports read through getters, as esbuild and so tsx write them), and traces the module's
    // own functions where it exports none. What it cannot reach comes back here as wrapSome.
    if (record?.loaded && spec.inPlace) return { ...base, status: 'in_place' };
    const limiter = new Limiter(this.core, spec.module, spec);
    if (record?.loaded) return this.wrapModule(spec, resolved, record, limiter);
    this.pending.set(resolved, { spec, limiter });
    this.watchLoads();
    return { ...base, status: 'pending', note: 'not loaded yet in this thread: traced when first required' };
  }

  /** Every trace of this thread, with its calls so far. */
  reports(): ModuleReport[] {
    return [...this.traced.values()].map((a) => this.report(a));
  }

  private report(active: Active): ModuleReport {
    return { ...active.report, calls: active.limiter.count, stopped: active.limiter.stopped, limits: active.report.limits };
  }

  /**
   * The tracer instrumented these functions of an ES module (live edit): their code calls the hook with
   * the numbers returned here, in the same order.
   */
  instrumented(spec: ModuleSpec, resolved: string, names: string[], via: Mechanism): number[] {
    this.timingOf(spec);
    const limiter = this.esm.get(spec.module) ?? new Limiter(this.core, spec.module, spec);
    this.esm.set(spec.module, limiter);
    this.installHook();
    const ids = names.map((fn) => {
      this.hookSites.push(this.site(spec.module, fn, limiter));
      return this.hookSites.length - 1;
    });
    const report = tracedReport(spec, resolved, names, via, spec.maxPerSecond);
    const undo = () => ids.forEach((id) => (this.hookSites[id] = undefined));
    const key = `${resolved} (live-edit)`;
    const known = this.traced.get(key);
    if (known) {
      // The tracer edits one function at a time: later ones join the module's trace, which is reported
      // again whole once the tracer is done (the latest report is what get_supervision_tree lists).
      known.report.functions.push(...report.functions);
      known.report.methods.push(...report.methods);
      known.undo.push(undo);
      if (!this.unannounced.has(known.report)) this.grown.add(known.report);
      return ids;
    }
    this.traced.set(key, { report, limiter, undo: [undo] });
    this.unannounced.add(report);
    return ids;
  }

  /** The tracer made its edits of a module's script (instrumented): its trace is reported now. */
  announce(resolved: string): void {
    const report = this.traced.get(`${resolved} (live-edit)`)?.report;
    if (!report || !this.unannounced.delete(report)) return;
    // Every edit refused (Node 26 has none): its functions are in their other mechanism's report.
    if (report.functions.length + report.methods.length > 0) this.core.emit('agent', 'trace_started', this.core.config.actor, { ...report });
  }

  /** A traced function's call site; timed when its module is traced for timing only. */
  private site(module: string, fn: string, limiter: Limiter): CallSite {
    const self = this.core.config.actor;
    return {
      module,
      fn,
      actorOf: () => self,
      active: () => this.patches.active && limiter.allow(),
      ...(this.timed.has(module) ? { timing: this.calls.timings.slot(module, fn) } : {}),
    };
  }

  /** Notes a timing-only trace; the report's marker for it. */
  private timingOf(spec: ModuleSpec): { capture?: 'timing' } {
    if (spec.capture !== 'timing') return {};
    this.timed.add(spec.module);
    return { capture: 'timing' };
  }

  /** Sends the sums of timing-only traces and the reports of traces that changed now (the tracer is about to
   * answer, or the thread is ending). */
  flush(): void {
    this.calls.timings.flush();
    for (const report of this.grown) this.core.emit('agent', 'trace_started', this.core.config.actor, { ...report });
    this.grown.clear();
  }

  forgetSite(id: number): void {
    const site = this.hookSites[id];
    if (!site) return;
    this.hookSites[id] = undefined;
    for (const active of this.traced.values()) {
      if (active.report.via !== 'live-edit' || active.report.module !== site.module) continue;
      for (const list of [active.report.functions, active.report.methods]) {
        const at = list.lastIndexOf(site.fn);
        if (at < 0) continue;
        list.splice(at, 1);
        // V8 refused its edit: the report without it replaces the one that listed it.
        if (!this.unannounced.has(active.report)) this.grown.add(active.report);
      }
    }
  }

  /** Records an ES module traced by breakpoints (the tracer set them) or by wrappers it rebound, so it is
   * listed and can be stopped. */
  breakpointed(spec: ModuleSpec, resolved: string, names: string[], via: Mechanism = 'breakpoints'): void {
    this.timingOf(spec);
    // Only breakpoints cost enough to be held to ESM_MAX_RATE: wrappers take the trace's own rate.
    const maxPerSecond = via === 'breakpoints' ? Math.min(spec.maxPerSecond, ESM_MAX_RATE) : spec.maxPerSecond;
    const limiter = this.esm.get(spec.module) ?? new Limiter(this.core, spec.module, { ...spec, maxPerSecond });
    this.esm.set(spec.module, limiter);
    const report = tracedReport(spec, resolved, names, via, maxPerSecond);
    this.traced.set(`${resolved} (${via})`, { report, limiter, undo: [] });
    this.core.emit('agent', 'trace_started', this.core.config.actor, { ...report });
  }

  /** Stops a trace: its wrappers are removed now (the tracer undoes its edits and breakpoints). */
  untrace(module: string, reason = 'untraced'): ModuleReport[] {
    const stopped: ModuleReport[] = [];
    for (const [resolved, active] of [...this.traced]) {
      if (active.report.module !== module && active.report.resolved !== module) continue;
      this.traced.delete(resolved);
      this.grown.delete(active.report);
      this.unannounced.delete(active.report);
      this.patches.undo(active.undo);
      if (active.limiter.stopped === undefined) active.limiter.stop(reason);
      // A live edit V8 refused for every function (Node 26 has none) leaves an empty report: its functions
      // are in their other mechanism's, listed on its own.
      if (active.report.via === 'live-edit' && active.report.functions.length + active.report.methods.length === 0) continue;
      stopped.push({ ...this.report(active), status: 'stopped' });
    }
    for (const [resolved, p] of [...this.pending]) {
      if (p.spec.module !== module && resolved !== module) continue;
      this.pending.delete(resolved);
      stopped.push({ module: p.spec.module, resolved, status: 'stopped', functions: [], methods: [], note: 'was waiting for the module to load' });
    }
    for (const [key, state] of [...this.rebinds]) {
      if (state.site.module !== module) continue;
      this.rebinds.delete(key);
      this.patches.undo(state.undo);
    }
    this.unresolved = this.unresolved.filter((u) => u.module !== module);
    this.esm.delete(module);
    // The last sums go now, before the answer: an untrace loses nothing counted.
    if (this.timed.delete(module)) this.calls.timings.flush(module);
    return stopped;
  }

  /** The global the instrumented code calls; removed on detach, after which that code runs its bodies directly. */
  private installHook(): void {
    if (this.hookInstalled) return;
    this.hookInstalled = true;
    const calls = this.calls;
    const sites = this.hookSites;
    const core = this.core;
    const hook = (id: number, thisArg: unknown, args: ArrayLike<unknown>, body: () => unknown): unknown => {
      const site = sites[id];
      try {
        return site === undefined ? body() : calls.around(site, thisArg, args, body);
      } catch (error) {
        withoutOwnFrames(error, core);
        throw error;
      }
    };
    Object.defineProperty(globalThis, CALL_HOOK, { value: hook, configurable: true, enumerable: false, writable: false });
    this.patches.add(() => {
      delete (globalThis as Record<string, unknown>)[CALL_HOOK];
      this.hookInstalled = false;
    });
  }

  /**
   * Called from a breakpoint condition inside a function declaration of an ES module: answers the wrapper
   * that the condition assigns to the function's own binding, so importers' live bindings reach it.
   */
  rebind(module: string, name: string, fn: Fn, putBack?: (wrapper: Fn, fn: Fn) => void): Fn {
    const state = this.rebindState(module, name);
    if (!state || typeof fn !== 'function') return fn;
    if (fn === state.wrapper) return fn;
    if (state.wrapper && fn === state.original) return state.wrapper;
    state.original = fn;
    const wrapper = (state.wrapper = this.calls.wrap(this.counted(fn, state), state.site));
    // The binding is the program's own: without this the wrapper (and its frames in stacks) outlives detach.
    if (putBack) state.undo.push(this.patches.add(() => putBack(wrapper, fn)));
    return state.wrapper;
  }

  /** The same for a method, reached through its class binding inside the method. */
  rebindMethod(module: string, name: string, cls: Obj, key: string, isStatic: boolean): void {
    const state = this.rebindState(module, name);
    if (!state || state.wrapper || (typeof cls !== 'function' && typeof cls !== 'object') || cls === null) return;
    const target = (isStatic ? cls : cls.prototype) as Obj | undefined;
    const desc = target && Object.getOwnPropertyDescriptor(target, key);
    if (!target || !desc || typeof desc.value !== 'function' || !desc.configurable) return;
    state.original = desc.value as Fn;
    state.undo.push(this.patches.patch(target, key, (original) => (state.wrapper = this.calls.wrap(this.counted(original as Fn, state), state.site))));
  }

  private rebindState(module: string, name: string) {
    const key = `${module}\0${name}`;
    let state = this.rebinds.get(key);
    const limiter = this.esm.get(module);
    if (!state && limiter && this.patches.active) {
      state = { site: this.site(module, name, limiter), inside: 0, undo: [] };
      this.rebinds.set(key, state);
    }
    return state;
  }

  /** The original, counting when a call is inside it (the breakpoint still in it must not record again). */
  private counted(fn: Fn, state: { inside: number }): Fn {
    const counting = function (this: unknown, ...args: unknown[]) {
      state.inside++;
      try {
        return new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args);
      } finally {
        state.inside--;
      }
    };
    // The wrapper made of it takes its name and length, which the program may read (`quote.name`).
    Object.defineProperty(counting, 'name', { value: fn.name, configurable: true });
    Object.defineProperty(counting, 'length', { value: fn.length, configurable: true });
    return counting;
  }

  /** A breakpoint at the start of an ES module's function was reached: record the call, never pause. */
  esmHit(module: string, fn: string, args: ArrayLike<unknown>): false {
    const state = this.rebinds.get(`${module}\0${fn}`);
    if (state?.wrapper) {
      // A call through the wrapper that replaced this function is the wrapper's to record.
      if (state.inside > 0) {
        if (!state.stale && !state.released) {
          state.released = true;
          this.core.emit('agent', 'rebound', this.core.config.actor, { module, fn });
        }
        return false;
      }
      state.stale = true;
    }
    const limiter = this.esm.get(module);
    // A breakpoint sees a call start, never its end: nothing to time (a rebound wrapper times the next ones).
    if (!limiter || !this.patches.active || this.timed.has(module) || !limiter.allow()) return false;
    const self = this.core.config.actor;
    this.core.emit('call', 'call', self, { module, fn, args: this.core.capture(Array.from(args)), parent: null, via: 'breakpoint' });
    return false;
  }

  /**
   * The module's file, then the files it required and theirs (breadth first, at most `limit`): where the
   * tracer looks for the source of what it exports, a function it re-exports included.
   */
  requiredFiles(resolved: string, limit: number): string[] {
    const first = this.cache()[resolved] as ModuleRecord | undefined;
    const files: string[] = [];
    const queue = first ? [first] : [];
    for (let i = 0; i < queue.length && files.length < limit; i++) {
      const { filename, children } = queue[i];
      if (typeof filename !== 'string' || files.includes(filename)) continue;
      files.push(filename);
      if (Array.isArray(children)) queue.push(...children);
    }
    return files;
  }

  /** Files of the CommonJS modules loaded in this thread. */
  loadedFiles(): string[] {
    return Object.keys(this.cache());
  }

  private cache(): Record<string, unknown> {
    return this.core.builtin('module')._cache ?? {};
  }

  private resolve(spec: string): string | null {
    const Module = this.core.builtin('module');
    const path = this.core.builtin('path');
    const proc = this.core.builtin('process');
    const target = spec.startsWith('file:') ? this.core.builtin('url').fileURLToPath(spec) : spec;
    // From the working directory, then from the main script's folder (an app started as `node apps/shop/app.js`).
    const main = typeof proc.argv?.[1] === 'string' ? path.dirname(path.resolve(proc.argv[1])) : undefined;
    // `src/price.ts` as people write it is, to require, a package named src: also tried as ./src/price.ts.
    const asPath = /^(\.{0,2}\/|@)/.test(target) || path.isAbsolute(target) ? [] : [`./${target}`];
    for (const dir of [proc.cwd(), main]) {
      if (dir === undefined) continue;
      for (const name of [target, ...asPath]) {
        try {
          return this.compiledFrom(Module.createRequire(path.join(dir, 'index.js')).resolve(name));
        } catch {
          // next spelling, next folder
        }
      }
    }
    return null;
  }

  /**
   * A TypeScript source not loaded: the JavaScript it compiles to where the main script's source map says
   * (dist/app.js from src/app.ts puts src/rates.ts at dist/rates.js), if that file's own map lists it, so
   * the trace waits for the file that will load; else the source itself (run by tsx or type stripping).
   */
  private compiledFrom(file: string): string {
    if (!/\.[cm]?tsx?$/.test(file) || this.cache()[file]) return file;
    const path = this.core.builtin('path');
    const argv1 = this.core.builtin('process').argv?.[1];
    if (typeof argv1 !== 'string') return file;
    const main = path.resolve(argv1);
    const js = file.replace(/\.([cm]?)tsx?$/, '.$1js');
    for (const source of this.mapSources(main)) {
      const compiled = path.resolve(path.dirname(main), path.relative(path.dirname(source), js));
      if (this.mapSources(compiled).includes(file)) return compiled;
    }
    return file;
  }

  /** The sources a compiled file's source map names (a .map file or an inline map), as absolute paths. */
  private mapSources(file: string): string[] {
    const fs = this.core.builtin('fs');
    const path = this.core.builtin('path');
    try {
      const text = fs.readFileSync(file, 'utf8') as string;
      const url = /\/\/[#@] sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
      if (url === undefined) return [];
      const inline = /^data:application\/json;(?:charset=utf-8;)?base64,(.*)$/.exec(url)?.[1];
      const mapFile = path.resolve(path.dirname(file), url);
      const map = JSON.parse(inline !== undefined ? this.core.builtin('buffer').Buffer.from(inline, 'base64').toString('utf8') : (fs.readFileSync(mapFile, 'utf8') as string));
      const root = path.resolve(path.dirname(inline !== undefined ? file : mapFile), map.sourceRoot ?? '');
      return (map.sources as string[]).map((s) => (s.startsWith('file:') ? this.core.builtin('url').fileURLToPath(s) : path.resolve(root, s)));
    } catch {
      return []; // no such file, no map, or not one we read
    }
  }

  /** A .js or .ts file under the nearest package.json that says "type": "module". */
  private isEsm(file: string): boolean {
    if (!/\.[jt]s$/.test(file)) return false;
    const fs = this.core.builtin('fs');
    const path = this.core.builtin('path');
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
      try {
        return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).type === 'module';
      } catch {
        if (path.dirname(dir) === dir) return false;
      }
    }
  }

  private watchLoads(): void {
    if (this.watching) return;
    this.watching = true;
    const Module = this.core.builtin('module');
    const modules = this;
    this.patches.patch(Module as { _load: Fn }, '_load', (original) =>
      function (this: unknown, ...args: unknown[]) {
        const result = original.apply(this, args);
        if (!modules.patches.active) return result;
        modules.replaced.clear(); // what a wrap outside a require left
        modules.booted = true;
        if (modules.unresolved.length > 0) for (const spec of modules.unresolved.splice(0)) modules.core.guard(() => void modules.trace(spec));
        if (modules.pending.size > 0) modules.core.guard(() => modules.loadPending());
        // The require that loaded a module whose module.exports is a function it just wrapped (a Piscina
        // task) returns the wrapper: its caller would otherwise keep the original, and no call be recorded.
        const wrapped = modules.replaced.get(result);
        modules.replaced.clear();
        return wrapped ?? result;
      },
    );
  }

  private loadPending(): void {
    const cache = this.cache();
    for (const [resolved, { spec, limiter }] of this.pending) {
      const record = cache[resolved] as ModuleRecord | undefined;
      if (!record?.loaded) continue;
      this.pending.delete(resolved);
      this.wrapModule(spec, resolved, record, limiter, undefined, true);
    }
  }

  private wrapModule(spec: ModuleSpec, resolved: string, record: ModuleRecord, limiter: Limiter, only?: string[], required = false, breakpointed = false): ModuleReport {
    const report: ModuleReport = { module: spec.module, resolved, status: 'traced', via: 'wrappers', functions: [], methods: [], limits: { maxCalls: spec.maxCalls, maxPerSecond: spec.maxPerSecond, durationMs: spec.durationMs }, ...this.timingOf(spec) };
    if (required) report.required = true;
    const undo: Undo[] = [];
    const self = this.core.config.actor;
    const getters: string[] = [];
    for (const { name, holder, key, accessor } of exportedFunctions(record, this.core.isProxy)) {
      if (only && !only.includes(name)) continue;
      if (accessor) {
        getters.push(name);
        continue;
      }
      const before = holder[key];
      const site = this.site(spec.module, name, limiter);
      // Its breakpoint stays (see Rebind): calls inside the wrapper are the wrapper's to record.
      const state: Rebind | undefined = breakpointed ? { site, inside: 0, undo: [], stale: true } : undefined;
      if (state) this.rebinds.set(`${spec.module}\0${name}`, state);
      undo.push(this.patches.patch(holder, key, (original) => (state ? (state.wrapper = this.calls.wrap(this.counted(original as Fn, state), site)) : this.calls.wrap(original as Fn, site))));
      this.originals.set(holder[key] as Fn, before);
      if (holder === (record as unknown as Obj)) this.replaced.set(before, holder[key]);
      (isMethodName(name) ? report.methods : report.functions).push(name);
    }
    // Exports read through getters (esbuild's, so tsx's), just required: none of those getters can be
    // replaced, but nothing has the exports yet. The require answers a proxy of them that returns wrappers.
    if (getters.length > 0 && !only) {
      undo.push(this.exportsWithWrappers(spec, record, getters, limiter));
      report.functions.push(...getters);
      report.note = `${getters.join(', ')} (exported through getters): the require answers a proxy of the exports that returns wrappers, so calls through the exports are recorded whole; calls inside the module itself are not`;
    }
    this.traced.set(resolved, { report, limiter, undo });
    this.core.emit('agent', 'trace_started', self, { ...report });
    return report;
  }

  /**
   * Puts in the module's place a proxy of its exports that answers a wrapper for each traced name, read
   * through the original's getter (so it stays live); everything else goes to the original untouched.
   * Undone: the original is the module's exports again, and a proxy already handed out answers originals.
   */
  private exportsWithWrappers(spec: ModuleSpec, record: ModuleRecord, names: string[], limiter: Limiter): Undo {
    const original = record.exports as Obj;
    const { patches, calls } = this;
    const sites = new Map(names.map((name) => [name, this.site(spec.module, name, limiter)]));
    // The wrapper of the value last read, by name: made again only if the module assigned another function.
    const wrappers = new Map<string, [Fn, Fn]>();
    const proxy = new Proxy(original, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        const site = typeof key === 'string' ? sites.get(key) : undefined;
        if (!site || typeof value !== 'function' || !patches.active) return value;
        const known = wrappers.get(key as string);
        if (known !== undefined && known[0] === value) return known[1];
        const wrapper = calls.wrap(value as Fn, site);
        wrappers.set(key as string, [value as Fn, wrapper]);
        return wrapper;
      },
    });
    const undo = this.patches.patch(record, 'exports', () => proxy);
    this.replaced.set(original, proxy);
    return undo;
  }

  /** The exported functions of a loaded CommonJS module, for the tracer to instrument in place; true third
   * for one read through a getter, which no wrapper can replace, and that getter. */
  exports(resolved: string): [string, Fn, boolean, Fn?][] {
    const record = this.cache()[resolved] as ModuleRecord | undefined;
    // The getter fourth: it is in the module's own script even when the function it answers is not (a
    // wrapper an earlier session left in the binding).
    return record
      ? exportedFunctions(record, this.core.isProxy).map(({ name, holder, key, accessor }): [string, Fn, boolean, Fn?] =>
          accessor ? [name, holder[key] as Fn, true, Object.getOwnPropertyDescriptor(holder, key)?.get as Fn] : [name, (this.originals.get(holder[key] as Fn) ?? holder[key]) as Fn, false],
        )
      : [];
  }

  /** Wrappers for the exports the tracer could not instrument in place; `breakpointed`: it sets a breakpoint
   * in each too, for the calls through references taken before (which the wrappers leave to it). */
  wrapSome(spec: ModuleSpec, resolved: string, names: string[], breakpointed = false): ModuleReport | undefined {
    const record = this.cache()[resolved] as ModuleRecord | undefined;
    if (!record || names.length === 0) return undefined;
    const limiter = this.esm.get(spec.module) ?? new Limiter(this.core, spec.module, spec);
    return this.wrapModule(spec, resolved, record, limiter, names, false, breakpointed);
  }
}

/** A trace's report: its functions and methods (Class#m, Class.m) apart, and its limits. */
function tracedReport(spec: ModuleSpec, resolved: string, names: string[], via: Mechanism, maxPerSecond: number): ModuleReport {
  return {
    module: spec.module,
    resolved,
    status: 'traced',
    via,
    functions: names.filter((n) => !isMethodName(n)),
    methods: names.filter((n) => isMethodName(n)),
    limits: { maxCalls: spec.maxCalls, maxPerSecond, durationMs: spec.durationMs },
    ...(spec.capture === 'timing' ? { capture: 'timing' as const } : {}),
  };
}

/**
 * Where a CommonJS module's functions are: the exports object itself if it is one, its own function-valued
 * data properties, and the methods and static methods of exported classes (read through descriptors: no
 * getter runs).
 */
function exportedFunctions(record: ModuleRecord, isProxy: (v: unknown) => boolean): Exported[] {
  const found: Exported[] = [];
  const ofClass = (cls: Fn & Obj, name: string) => {
    const proto = cls.prototype as Obj | undefined;
    if (proto && typeof proto === 'object') {
      for (const key of Object.getOwnPropertyNames(proto)) {
        const desc = Object.getOwnPropertyDescriptor(proto, key);
        if (key !== 'constructor' && desc && typeof desc.value === 'function' && desc.configurable) found.push({ name: `${name}#${key}`, holder: proto, key });
      }
    }
    for (const key of Object.getOwnPropertyNames(cls)) {
      const desc = Object.getOwnPropertyDescriptor(cls, key);
      if (!['length', 'name', 'prototype'].includes(key) && desc && typeof desc.value === 'function' && desc.configurable) found.push({ name: `${name}.${key}`, holder: cls, key });
    }
  };
  const exp = record.exports;
  if (typeof exp === 'function') {
    if (isClass(exp)) ofClass(exp as Fn & Obj, exp.name || 'default');
    else found.push({ name: exp.name || 'default', holder: record as unknown as Obj, key: 'exports' });
  } else if (exp && typeof exp === 'object' && !isProxy(exp)) {
    for (const key of Object.keys(exp)) {
      const desc = Object.getOwnPropertyDescriptor(exp, key);
      const value = desc?.get ? bindingRead(desc.get) : desc?.value;
      if (!desc || typeof value !== 'function') continue;
      if (isClass(value)) ofClass(value as Fn & Obj, key);
      else if (desc.get) found.push({ name: key, holder: exp as Obj, key, accessor: true });
      else if (desc.writable || desc.configurable) found.push({ name: key, holder: exp as Obj, key });
    }
  }
  return found;
}

interface Exported {
  name: string;
  holder: Obj;
  key: string;
  /** Read through a getter (esbuild's exports): no wrapper can replace it, only an edit in place reaches it. */
  accessor?: true;
}

/**
 * The value of an export whose getter only reads a binding, as esbuild (and so tsx) compiles `export
 * function f` to CommonJS: `() => f` on the module's exports, `() => from[key]` where `__toCommonJS` copies
 * them. Reading such a getter runs nothing of the program's; any other getter is left unread.
 */
function bindingRead(get: () => unknown): unknown {
  try {
    return /^\(\)\s*=>\s*[\w$]+(\[[\w$]+\])?$/.test(Function.prototype.toString.call(get)) ? get() : undefined;
  } catch {
    return undefined; // a binding not initialised yet
  }
}

function isClass(fn: unknown): boolean {
  try {
    return typeof fn === 'function' && Function.prototype.toString.call(fn).startsWith('class');
  } catch {
    return false;
  }
}
