// trace_module for ES modules, in one thread. Their exports are immutable bindings that no wrapper can
// replace, so the module's own source is instrumented instead (src/trace/instrument.ts) and swapped in by a
// live edit (Debugger.setScriptSource): every call, through any reference, then runs through the agent's
// call hook with the CommonJS record (arguments, result, error, duration), at a wrapper's cost.
// - Loaded already: edited now.
// - Not loaded yet (launch mode, a lazy import, a new worker): a breakpoint by URL on the module's first
//   statement that runs code (found in its file), so the thread pauses once, in that module only, and it is
//   edited before its first line. (A pause before every script, V8's instrumentation breakpoint, cost a
//   round trip to the host per script of every thread: vitest's start took 7-8 s instead of ~1 s.)
// - Where V8 offers no live edit (Node 26) or refuses one: conditional breakpoints at the start of each
//   function, whose condition hands the arguments to the agent and answers false, so the program never
//   pauses; ~0.1 ms a hit, arguments only, rate-limited hard.
// Stopping a trace puts the original source back and removes the breakpoints.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parse, type Node } from 'acorn';
import type { Protocol } from 'devtools-protocol';
import type { ModuleReport, ModuleSpec } from '../agent/modules.js';
import { AGENT_REF, isMethodName, RETRACE_FOR_FUNCTIONS } from '../shared/protocol.js';

import { CALL_HOOK, EVERY_FUNCTION, findFunctions, functionsAt, instrumented, position, type FunctionSite } from './instrument.js';
import { CdpError, type CdpSession } from './cdp.js';
import { sleep, within } from './discovery.js';
import type { ThreadLink } from './thread.js';

interface Edit {
  scriptId: string;
  /** The source before each edit, the original first: undone one edit at a time, like they were made. */
  history: string[];
  /** The functions edited ("quote", "Till#ring"). */
  names: string[];
}

type PausedFrame = Protocol.Debugger.CallFrame;

/** Remote objects a CommonJS trace reads (the exports, wrappers), released when it is done. */
const EXPORTS_GROUP = 'nodescope-exports';

/**
 * Set in the target only while nodescope reads a module's exports from a timer of the thread's own
 * (rebindThroughGetters): the one read whose getter may pause the thread, to put a wrapper in a const binding.
 */
const REBINDING = 'globalThis[Symbol.for("nodescope.rebinding")]';

/** How long a pause of ours in a getter may last before the thread is resumed, its work done or not (a
 * pause takes ~0.02-0.2 s, measured under load). */
const CONST_PAUSE_MS = 1_000;
/** A live edit refused because the function was running is tried this many times, this far apart. */
const EDIT_TRIES = 10;
const EDIT_RETRY_MS = 20;

/** An exported function, by remote object; for one read through a getter, the getter too. */
interface Exported {
  name: string;
  fn: string;
  accessor: boolean;
  getter?: string;
}

/** Scripts' sources, read in order and fetched once, as the reading first reaches each. */
type ScriptTexts = AsyncIterable<{ scriptId: string; source: string }>;

/** How many files (the module's, then those it required, breadth first) a function's text is looked for in. */
const REQUIRED_FILES = 64;

interface Waiting {
  spec: ModuleSpec;
  resolved: string;
}

export class EsmTraces {
  private enabled: Promise<void> | undefined;
  private enabledOn: CdpSession | undefined;
  private readonly offSession: (() => void)[] = [];
  private readonly edits = new Map<string, Edit[]>();
  private readonly breakpoints = new Map<string, string[]>();
  /** Breakpoint of each function traced by one, by (module, function). */
  private readonly byFunction = new Map<string, string>();
  /** Traces of modules not loaded yet, by file URL. */
  private readonly waiting = new Map<string, Waiting>();
  /**
   * Functions traced by breakpoints, by module: kept across sessions, since a breakpoint belongs to the
   * session that set it and a new one (after a reconnect) sets them again.
   */
  private readonly breakpointed = new Map<string, { spec: ModuleSpec; url: string; names: Set<string> }>();
  /** Breakpoints on the first statement of each module waited for, by file URL: set by URL, and in each
   * module script of that URL as it is parsed. */
  private readonly armed = new Map<string, { byUrl: string[]; inScripts: string[] }>();
  /** Every such breakpoint of this session: a pause on one may arrive after it was removed, still ours to end. */
  private readonly waitBreakpoints = new Set<string>();
  /** Breakpoints on esbuild getters that put a wrapper in the binding they read (rebindThroughGetters). */
  private readonly constRebinds = new Map<string, { binding: string; rebind: string }>();
  private editable: Promise<boolean> | undefined;
  /** The largest source a live edit may send (Node 20's worker inspector channel drops 64 KiB messages). */
  private maxEdit = Infinity;
  /** A thread held before its first line (launch, a new worker) is armed as it is let go, its traces known. */
  private held = false;
  /** What went wrong while instrumenting a module as it loaded, for the answers. */
  readonly problems: string[] = [];

  constructor(private readonly thread: ThreadLink) {}

  hold(): void {
    this.held = true;
  }

  /** The held thread is about to be let go (Runtime.runIfWaitingForDebugger): the traces waiting arm now. */
  async release(): Promise<void> {
    this.held = false;
    await this.arm();
  }

  /** URLs of every script this thread has loaded (the Debugger domain is enabled for it). */
  async loadedUrls(): Promise<string[]> {
    await this.enable();
    return this.thread.scripts.all().map((s) => s.url);
  }

  async isLoadedModule(file: string): Promise<boolean> {
    await this.enable();
    return this.thread.scripts.get(pathToFileURL(file).href)?.isModule === true;
  }

  /**
   * Enables the Debugger domain on the thread's session, and again on a new one after a reconnect: a domain,
   * its listeners and its breakpoints belong to one session. The old session's listeners are taken off, and
   * what the old session held (its breakpoints, its pause before scripts) is forgotten; traces still waiting
   * for their module wait on the new one.
   */
  private enable(): Promise<void> {
    const session = this.thread.session;
    if (this.enabledOn === session && this.enabled) return this.enabled;
    const reconnected = this.enabledOn !== undefined;
    this.forgetSession();
    this.enabledOn = session;
    this.enabled = (async () => {
      this.offSession.push(session.on('Debugger.paused', (event) => void this.onPaused(event.reason, event.hitBreakpoints ?? [], event.callFrames[0])));
      await this.thread.scripts.enable();
      this.offSession.push(this.thread.scripts.subscribe((script) => void (script.isModule ? this.parsed(script.url, script.scriptId) : undefined)?.catch(() => undefined)));
      if (reconnected) {
        await this.arm();
        await this.restoreBreakpoints();
      }
    })();
    return this.enabled;
  }

  /** After a reconnect: the Debugger domain on the new session, with this thread's pauses and breakpoints. */
  async resume(): Promise<void> {
    if (this.enabledOn !== undefined && this.enabledOn !== this.thread.session) await this.enable();
  }

  /** Sets the breakpoints of breakpoint-traced functions again, found by name in their script's source now. */
  private async restoreBreakpoints(): Promise<void> {
    for (const { spec, url, names } of this.breakpointed.values()) {
      const script = this.thread.scripts.get(url);
      if (!script) continue;
      const { scriptSource } = await this.thread.session.send('Debugger.getScriptSource', { scriptId: script.scriptId });
      const sites = findFunctions(scriptSource, spec.functions ?? []).sites.filter((s) => names.has(s.name));
      await this.setBreakpoints(spec, script.scriptId, scriptSource, sites);
    }
  }

  private forgetSession(): void {
    for (const off of this.offSession.splice(0)) off();
    this.breakpoints.clear();
    this.byFunction.clear();
    this.armed.clear();
    this.waitBreakpoints.clear();
    this.enabled = undefined;
    this.enabledOn = undefined;
  }

  async trace(spec: ModuleSpec, report: ModuleReport): Promise<ModuleReport> {
    await this.enable();
    const resolved = report.resolved!;
    const url = pathToFileURL(resolved).href;
    const script = this.thread.scripts.get(url);
    const again = this.tracedAgain(spec, resolved, script?.scriptId);
    if (again) return again;
    if (!script) {
      this.waiting.set(url, { spec, resolved });
      await this.arm();
      return { ...report, status: 'pending', note: 'an ES module not loaded yet in this thread: instrumented before its first line runs' };
    }
    return this.traceLoaded(spec, resolved, script.scriptId);
  }

  /**
   * The answer to a trace of a file this thread traces already, under this name or another (./lib.mjs given
   * at launch, lib.mjs later): a second edit of the same functions was refused by V8 and fell back to
   * breakpoints (an ES module), or was taken and recorded each call twice (CommonJS).
   */
  private tracedAgain(spec: ModuleSpec, resolved: string, scriptId: string | undefined): ModuleReport | undefined {
    const url = pathToFileURL(resolved).href;
    const as = this.tracedAs(url, scriptId);
    if (as === undefined) return undefined;
    const functions = as.names.filter((n) => !isMethodName(n));
    const methods = as.names.filter(isMethodName);
    return { module: spec.module, resolved, status: this.waiting.has(url) ? 'pending' : 'traced', functions, methods, note: `${as.module === spec.module ? 'already traced' : `already traced as ${as.module}`}${spec.functions?.length ? `; ${RETRACE_FOR_FUNCTIONS}` : ''}` };
  }

  /** The trace of this file (by URL, or its script) in this thread, under whichever name, if one is traced or waits. */
  private tracedAs(url: string, scriptId: string | undefined): { module: string; names: string[] } | undefined {
    for (const [module, edits] of this.edits) if (edits.some((e) => e.scriptId === scriptId)) return { module, names: edits.flatMap((e) => e.names) };
    for (const [module, b] of this.breakpointed) if (b.url === url) return { module, names: [...b.names] };
    const waiting = this.waiting.get(url);
    return waiting && { module: waiting.spec.module, names: [] };
  }

  /**
   * `frame`: paused before the module's first line (the breakpoint a waiting trace set there). Where V8
   * cannot live-edit, its function declarations are then replaced in the module's own scope by wrappers,
   * before anything can call or import them: every call is recorded whole.
   */
  private async traceLoaded(spec: ModuleSpec, resolved: string, scriptId: string, frame?: string): Promise<ModuleReport> {
    const session = this.thread.session;
    const { scriptSource } = await session.send('Debugger.getScriptSource', { scriptId });
    let found = findFunctions(scriptSource, spec.functions ?? []);
    // What vite's SSR transform (vitest) made of a module exports through calls of its own: those read the
    // functions it exports.
    const vite = found.sites.length === 0 && !spec.functions?.length ? viteExports(scriptSource) : [];
    if (vite.length > 0) found = findFunctions(scriptSource, vite);
    // A module that exports no function (a server's entry file): its own functions are what there is to trace.
    const everything = found.sites.length === 0 && !spec.functions?.length;
    if (everything) found = findFunctions(scriptSource, [EVERY_FUNCTION]);
    const skipped = found.skipped.map((s) => `${s.name} (${s.why})`);
    const base = { module: spec.module, resolved, functions: [] as string[], methods: [] as string[] };
    if (found.sites.length === 0) {
      return { ...base, status: 'unsupported', note: `no function found to trace${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}; name them in function_names where a transform exports them its own way` };
    }
    const rebound = frame !== undefined && !(await this.canEdit()) ? await this.rebindAtLoad(spec, resolved, frame, found.sites) : [];
    const { edited, refused, why, uncarried } = await this.editInPlace(spec, resolved, scriptId, scriptSource, found.sites.filter((s) => !rebound.includes(s)));
    const notes: string[] = [];
    let via: ModuleReport['via'];
    if (rebound.length > 0) {
      via = 'wrappers';
      const names = rebound.map((s) => s.name);
      base.functions.push(...names);
      notes.push(`${names.join(', ')} replaced by wrappers in the module's own scope before its first line (this Node has no live edit): every call through its imports recorded whole`);
    }
    if (edited.length > 0) {
      via = 'live-edit';
      const names = edited.map((e) => e.name);
      base.functions.push(...names.filter((n) => !isMethodName(n)));
      base.methods.push(...names.filter((n) => isMethodName(n)));
      notes.push(`${everything ? `${NO_EXPORTS}: ` : ''}${names.join(', ')} ${inPlace(spec)}`);
      if (uncarried.length) notes.push(`${uncarried.join(', ')}: closures made before the trace run untraced (V8's live edit cannot carry over an arrow whose body does not end in ")")`);
    }
    if (refused.length > 0) {
      const { now, sites } = await this.whereNow(scriptId, scriptSource, edited.length > 0, refused, everything ? [EVERY_FUNCTION] : (spec.functions ?? []));
      const traced = await this.breakpointsOn(spec, resolved, scriptId, now, sites);
      via ??= 'breakpoints';
      base.functions.push(...traced.filter((n) => !isMethodName(n)));
      base.methods.push(...traced.filter((n) => isMethodName(n)));
      const rebinding = refused.filter((r) => r.rebind && traced.includes(r.name)).map((r) => r.name);
      const plain = traced.filter((n) => !rebinding.includes(n));
      if (rebinding.length) notes.push(`${rebinding.join(', ')}: the first call by a breakpoint (arguments only, since ${why}), which then puts a wrapper in the function's place: later calls recorded whole, and those through references taken before by the breakpoint still (arguments only)`);
      if (plain.length) notes.push(`${everything && edited.length === 0 ? `${NO_EXPORTS}: ` : ''}${plain.join(', ')} ${byBreakpoints(why)}`);
    }
    if (skipped.length) notes.push(`skipped ${skipped.join(', ')}`);
    return { ...base, status: 'traced', via, note: notes.join('; ') };
  }

  /**
   * Instruments functions of one script, one function per edit: V8's live-edit diff takes several changes
   * at once for a change of an ES module's top level (BlockedByTopLevelEsModuleChange) where each alone is
   * accepted. V8 also refuses changes inside an arrow at an ES module's top level: those come back refused.
   */
  private async editInPlace(spec: ModuleSpec, resolved: string, scriptId: string, source: string, sites: FunctionSite[]): Promise<{ edited: FunctionSite[]; refused: FunctionSite[]; why: string | undefined; uncarried: string[] }> {
    const refused: FunctionSite[] = [];
    const edited: { site: FunctionSite; id: number }[] = [];
    const uncarried: string[] = [];
    const history: string[] = [source];
    let why: string | undefined;
    // In the order they end: in source order, but a function inside another before it. An edit that moves a
    // function into a new scope (its enclosing function's body, now run by the hook) leaves V8 unable to
    // match it, and its existing closures (a handler registered by a callback that ran) keep whatever code
    // they had: instrumented already, if it went first. (Which edits V8 refuses depends on the order too.)
    for (const site of [...sites].sort((a, b) => a.bodyEnd - b.bodyEnd)) {
      if (why?.startsWith('this Node')) {
        refused.push(site);
        continue;
      }
      const [id] = (await this.thread.call(`instrumented(${JSON.stringify(spec)}, ${JSON.stringify(resolved)}, ${JSON.stringify([site.name])}, "live-edit")`)) as number[];
      // Timing only reads no argument: the instrumented code then builds no `arguments` object per call.
      // (`undefined`, the identifier: with `null` or `void 0` there, V8 took the edit but kept the old code.)
      const hooked = spec.capture === 'timing' ? { ...site, argsExpression: 'undefined' } : site;
      const { source: next, lost } = instrumented(source, [...edited, { site: hooked, id: id! }]);
      const refusal = await this.edit(scriptId, next);
      if (refusal === undefined) {
        edited.push({ site: hooked, id: id! });
        history.push(next);
        if (lost.includes(site.name)) uncarried.push(site.name);
      } else {
        await this.thread.call(`forgetSite(${id})`).catch(() => undefined);
        refused.push(site);
        why ??= refusal;
      }
    }
    // Reported once its edits are made: the instrumented code runs from here on.
    if (sites.length > 0) await this.thread.call(`announce(${JSON.stringify(resolved)})`).catch(() => undefined);
    if (edited.length > 0) this.edits.set(spec.module, [...(this.edits.get(spec.module) ?? []), { scriptId, history, names: edited.map((e) => e.site.name) }]);
    const inOrder = (a: FunctionSite, b: FunctionSite) => a.bodyStart - b.bodyStart;
    return { edited: edited.map((e) => e.site).sort(inOrder), refused: refused.sort(inOrder), why, uncarried };
  }

  /** Whether this thread's V8 live-edits (Node 26's does not): one dry run of a small script onto itself. */
  async canEdit(): Promise<boolean> {
    await this.enable();
    this.editable ??= (async () => {
      const { result } = await this.thread.session.send('Runtime.evaluate', { expression: 'process.versions.node', returnByValue: true, silent: true });
      // Node 20 drops a message to a worker's inspector of 64 KiB or more, without an answer.
      if (this.thread.isWorker && String(result.value).startsWith('20.')) this.maxEdit = 48 * 1024;
      // The smallest script of the program's own (Node's internal ones are never editable).
      const own = this.thread.scripts.all().filter((s) => s.url.startsWith('file:')).sort((a, b) => a.length - b.length);
      const scriptId = own[0]?.scriptId;
      if (scriptId === undefined) return false;
      const { scriptSource } = await this.thread.session.send('Debugger.getScriptSource', { scriptId });
      return (await this.edit(scriptId, scriptSource, true)) === undefined;
    })().catch(() => false);
    return this.editable;
  }

  /**
   * A loaded CommonJS module, in place: its exported functions are found by their text in the scripts of the
   * module and of what it required (locationOf) and instrumented there, so calls through references taken before tracing
   * (a destructured require) are recorded too. What cannot be edited gets wrappers on the exports.
   */
  async traceCommonJs(spec: ModuleSpec, resolved: string): Promise<ModuleReport> {
    const again = this.tracedAgain(spec, resolved, this.thread.scripts.get(pathToFileURL(resolved).href)?.scriptId);
    if (again) return again;
    const session = this.thread.session;
    const group = EXPORTS_GROUP;
    const wanted = new Map<string, { name: string; lineNumber: number; columnNumber: number }[]>();
    const getters = new Map<string, { name: string; lineNumber: number; columnNumber: number }[]>();
    const all: string[] = [];
    const objects = new Map<string, string>();
    const done: string[] = [];
    const viaBreakpoints: string[] = [];
    const viaGetters: string[] = [];
    const accessors = new Set<string>();
    /** Exported functions V8 would not edit, in a script it left as it was (Node 26: none is), by script. */
    const uneditedExports: { scriptId: string; source: string; sites: FunctionSite[] }[] = [];
    /** Functions of the module's script that no export reaches, instrumented, or else breakpointed. */
    const unexported: string[] = [];
    const unexportedByBreakpoints: string[] = [];
    /** The module's own functions were taken for what it exports. */
    let chosen = false;
    let elsewhere: string[] = [];
    let why: string | undefined;
    try {
      const scripts = this.scriptTexts(resolved);
      for (const { name, fn, accessor, getter } of await this.exportsOf(resolved, group)) {
        all.push(name);
        objects.set(name, fn);
        let at = await this.locationOf(fn, scripts);
        if (accessor) {
          accessors.add(name);
          // A function outside its getter's script (a wrapper an earlier session left in the binding): the
          // module's script is the getter's, where the binding is found by the export's name.
          const read = getter ? await this.locationOf(getter, scripts) : undefined;
          if (read && read.scriptId !== at?.scriptId) [at, elsewhere] = [read, [...elsewhere, name]];
        }
        const into = accessors.has(name) ? getters : wanted;
        if (at) into.set(at.scriptId, [...(into.get(at.scriptId) ?? []), { name, lineNumber: at.lineNumber, columnNumber: at.columnNumber }]);
      }
      // Exports read through getters, as esbuild (so tsx) compiles them: no wrapper can replace them, and V8
      // takes a live edit of tsx's output (one line inside an arrow) but leaves its functions as they were
      // (Node 20 and 24). A wrapper goes into the binding each getter reads instead (below); where none can,
      // a breakpoint records the function's first call and puts one there. Set before any edit moves the source.
      for (const [scriptId, fns] of getters) {
        const { scriptSource } = await session.send('Debugger.getScriptSource', { scriptId });
        const sites = functionsAt(scriptSource, fns.filter((f) => !elsewhere.includes(f.name))).flatMap((s) => withBinding(scriptSource, s, true));
        const bindings = fns.filter((f) => elsewhere.includes(f.name)).flatMap(({ name }) => {
          const binding = getterRead(scriptSource, name);
          return binding === undefined ? [] : [{ name, rebind: { binding } }];
        });
        const rebound = await this.rebindThroughGetters(spec, resolved, scriptId, scriptSource, [...sites, ...bindings], objects, group);
        viaGetters.push(...rebound);
        viaBreakpoints.push(...(await this.breakpointsOn(spec, resolved, scriptId, scriptSource, sites.filter((s) => !rebound.includes(s.name)))));
      }
      // Functions no export reaches, in the module's own script: those named, or every one when the module
      // exports no function of its own (a server's entry file, whose route handlers are callbacks; a routes
      // file exporting the router Express made) — then its own functions instead of what it exports.
      const own = this.thread.scripts.get(pathToFileURL(resolved).href)?.scriptId;
      let more = spec.functions?.length ? spec.functions : [];
      if (own !== undefined && more.length === 0 && !wanted.has(own) && !getters.has(own)) {
        const { scriptSource } = await session.send('Debugger.getScriptSource', { scriptId: own });
        if (findFunctions(scriptSource, [EVERY_FUNCTION]).sites.length > 0) {
          more = [EVERY_FUNCTION];
          chosen = true;
          wanted.clear();
          all.length = 0;
        }
      }
      if (own !== undefined && more.length > 0 && !wanted.has(own)) wanted.set(own, []);
      for (const [scriptId, fns] of wanted) {
        const { scriptSource } = await session.send('Debugger.getScriptSource', { scriptId });
        const exported = functionsAt(scriptSource, fns);
        const inner = scriptId === own ? findFunctions(scriptSource, more).sites.filter((s) => !exported.some((e) => e.bodyStart === s.bodyStart)) : [];
        const result = await this.editInPlace(spec, resolved, scriptId, scriptSource, [...exported, ...inner]);
        why ??= result.why;
        const refusedExports = result.refused.filter((s) => !inner.includes(s));
        if (result.edited.length === 0 && refusedExports.length > 0) uneditedExports.push({ scriptId, source: scriptSource, sites: refusedExports });
        unexported.push(...result.edited.filter((s) => inner.includes(s)).map((s) => s.name));
        const refusedInner = result.refused.filter((s) => inner.includes(s));
        if (refusedInner.length > 0) {
          const { now, sites } = await this.whereNow(scriptId, scriptSource, result.edited.length > 0, refusedInner, more);
          unexportedByBreakpoints.push(...(await this.breakpointsOn(spec, resolved, scriptId, now, sites)));
        }
        // V8 may take an edit of a CommonJS script and still leave a function as it was (an arrow
        // assigned to exports): only a function whose own source now calls the hook counts.
        for (const site of result.edited.filter((s) => !inner.includes(s))) {
          const check = await session.send('Runtime.callFunctionOn', { objectId: objects.get(site.name)!, functionDeclaration: `function () { return Function.prototype.toString.call(this).includes(${JSON.stringify(CALL_HOOK)}); }`, returnByValue: true, silent: true });
          if (check.result.value === true) done.push(site.name);
          else why ??= 'V8 took the live edit but left the function as it was';
        }
      }
    } finally {
      await session.send('Runtime.releaseObjectGroup', { objectGroup: group }).catch(() => undefined);
    }
    const rest = all.filter((n) => !done.includes(n) && !accessors.has(n));
    // Calls through references taken before the trace (a destructured require) never reach a wrapper on the
    // exports: where V8 edited nothing (Node 26), a breakpoint in each such function records them (arguments
    // only), and leaves the calls through the wrappers to them.
    const alsoBreakpoints = uneditedExports.map((u) => ({ ...u, sites: u.sites.filter((site) => rest.includes(site.name)) })).filter((u) => u.sites.length > 0);
    if (rest.length > 0) await this.thread.call(`wrapSome(${JSON.stringify(spec)}, ${JSON.stringify(resolved)}, ${JSON.stringify(rest)}, ${alsoBreakpoints.length > 0})`);
    const breakpointedToo: string[] = [];
    for (const { scriptId, source, sites } of alsoBreakpoints) breakpointedToo.push(...(await this.breakpointsOn(spec, resolved, scriptId, source, sites)));
    const traced = [...all.filter((n) => !accessors.has(n) || viaBreakpoints.includes(n) || viaGetters.includes(n)), ...unexported, ...unexportedByBreakpoints];
    const because = chosen ? `${NO_EXPORTS}: ` : '';
    const notes = [
      ...(done.length ? [`${done.join(', ')} ${inPlace(spec)}`] : []),
      ...(unexported.length ? [`${because}${unexported.join(', ')} ${inPlace(spec)}`] : []),
      ...(unexportedByBreakpoints.length ? [`${unexported.length ? '' : because}${unexportedByBreakpoints.join(', ')} ${byBreakpoints(why)}`] : []),
      ...(viaGetters.length ? [`${viaGetters.join(', ')} (exported through getters) replaced by wrappers in the module's own scope, which its getters return (~1 µs per call): every call through the exports recorded whole`] : []),
      ...(viaBreakpoints.length ? [`${viaBreakpoints.join(', ')} (exported through getters): the first call by a breakpoint (arguments only), which then puts a wrapper in the function's place: later calls recorded whole`] : []),
      ...(rest.length
        ? [
            `${rest.join(', ')} wrapped on the exports${why ? ` (${why})` : ''}: ${
              breakpointedToo.length
                ? `calls through references taken before tracing${breakpointedToo.length < rest.length ? ` to ${breakpointedToo.join(', ')}` : ''} are recorded by a breakpoint in each (arguments only, ~0.1 ms per call, rate-limited)`
                : 'calls through references taken before tracing are missed'
            }`,
          ]
        : []),
    ];
    return {
      module: spec.module,
      resolved,
      status: 'traced',
      via: done.length || unexported.length ? 'live-edit' : (viaBreakpoints.length || unexportedByBreakpoints.length) && !viaGetters.length ? 'breakpoints' : 'wrappers',
      functions: traced.filter((n) => !isMethodName(n)),
      methods: traced.filter((n) => isMethodName(n)),
      note: notes.join('; '),
    };
  }

  /**
   * The script as it is now and where the refused functions are in it: edits of other functions moved the
   * source, and breakpoints go by position. Found again by name, with the names the first search used.
   */
  private async whereNow(scriptId: string, source: string, edited: boolean, refused: FunctionSite[], names: string[]): Promise<{ now: string; sites: FunctionSite[] }> {
    const now = edited ? (await this.thread.session.send('Debugger.getScriptSource', { scriptId })).scriptSource : source;
    return { now, sites: now === source ? refused : findFunctions(now, names).sites.filter((s) => refused.some((r) => r.name === s.name)) };
  }

  /**
   * A loaded CommonJS module's exported functions, by remote object (in `group`): for a wrapped export, the
   * function it stands for; for one read through a getter, the getter too.
   */
  private async exportsOf(resolved: string, group: string): Promise<Exported[]> {
    const { result } = await this.thread.session.send('Runtime.evaluate', { expression: `${AGENT_REF}?.moduleExports(${JSON.stringify(resolved)})`, objectGroup: group, silent: true });
    return result.objectId ? this.exportedIn(result.objectId, group) : [];
  }

  /**
   * The agent's [name, function, accessor, getter] rows in the array `objectId`, read by calls that run in
   * the thread and never by Runtime.getProperties: V8 aborts the whole process (`Check failed:
   * tryCatch.HasCaught()` in ValueMirror::getProperties) when a termination lands inside that one, and a call
   * to a thread that runs a vm script with a timeout is dispatched inside the script, where the timeout's
   * termination comes at any moment (a worker tracing modules as it starts crashed 4 of 6 runs on Node 20;
   * test/capture/terminations_worker.test.ts). A call of JavaScript that a termination cuts only fails.
   */
  private async exportedIn(objectId: string, group: string): Promise<Exported[]> {
    const session = this.thread.session;
    const shape = 'function () { const rows = []; for (let i = 0; i < this.length; i++) rows[i] = [this[i][0], this[i][2] === true, typeof this[i][3] === "function"]; return rows; }';
    const { result } = await session.send('Runtime.callFunctionOn', { objectId, functionDeclaration: shape, returnByValue: true, silent: true });
    const element = async (row: number, column: number): Promise<string | undefined> => {
      const { result } = await session.send('Runtime.callFunctionOn', { objectId, functionDeclaration: 'function (row, column) { return this[row][column]; }', arguments: [{ value: row }, { value: column }], objectGroup: group, silent: true });
      return result.type === 'function' ? result.objectId : undefined;
    };
    const found: Exported[] = [];
    for (const [row, [name, accessor, hasGetter]] of (Array.isArray(result.value) ? (result.value as [unknown, boolean, boolean][]) : []).entries()) {
      const fn = typeof name === 'string' ? await element(row, 1) : undefined;
      if (typeof name !== 'string' || !fn) continue;
      const getter = hasGetter ? await element(row, 3) : undefined;
      found.push({ name, fn, accessor, ...(getter ? { getter } : {}) });
    }
    return found;
  }

  /** The module's script and those of the files it required (ScriptTexts), for locationOf. */
  private scriptTexts(resolved: string): ScriptTexts {
    const { thread } = this;
    const texts = new Map<string, Promise<{ scriptId: string; source: string } | undefined>>();
    let files: Promise<string[]> | undefined;
    return {
      async *[Symbol.asyncIterator]() {
        files ??= thread.call(`requiredFiles(${JSON.stringify(resolved)}, ${REQUIRED_FILES})`).then(
          (found) => (Array.isArray(found) ? found.filter((f): f is string => typeof f === 'string') : [resolved]),
          () => [resolved],
        );
        for (const file of await files) {
          let text = texts.get(file);
          if (!text) {
            const scriptId = thread.scripts.get(pathToFileURL(file).href)?.scriptId;
            text = scriptId === undefined ? Promise.resolve(undefined) : thread.session.send('Debugger.getScriptSource', { scriptId }).then(({ scriptSource }) => ({ scriptId, source: scriptSource }), () => undefined);
            texts.set(file, text);
          }
          const read = await text;
          if (read) yield read;
        }
      },
    };
  }

  /**
   * Whether a loaded CommonJS module exports a function of its own file. An entry file exports none, nor a
   * routes file whose export is the router Express made: wrappers on their exports reach nothing of theirs.
   * Told by the function's text in the file, not by V8's script ids: those need the Debugger domain, which
   * this thread may not have enabled (a worker's install does not).
   */
  async exportsOwnFunction(resolved: string): Promise<boolean> {
    let file: string;
    try {
      file = await readFile(resolved, 'utf8');
    } catch {
      return true; // unreadable: its wrappers stay
    }
    const session = this.thread.session;
    try {
      for (const { fn, accessor } of await this.exportsOf(resolved, EXPORTS_GROUP)) {
        if (accessor) return true; // esbuild's getters: compiled, so its text is not the file's
        const { result } = await session.send('Runtime.callFunctionOn', { objectId: fn, functionDeclaration: 'function () { return Function.prototype.toString.call(this); }', returnByValue: true, silent: true });
        if (typeof result.value === 'string' && file.includes(result.value)) return true;
      }
      return false;
    } finally {
      await this.thread.session.send('Runtime.releaseObjectGroup', { objectGroup: EXPORTS_GROUP }).catch(() => undefined);
    }
  }

  /**
   * Where a function starts, found by its own text (Function.prototype.toString answers the script's source
   * from the function's start to its end) in the scripts of the module and of what it required, in that
   * order: in the first that holds the text, if it holds it once; else nowhere (its export is wrapped).
   * V8's `[[FunctionLocation]]` would say it at once, but only Runtime.getProperties answers it (exportedIn
   * says why that is never called).
   */
  private async locationOf(objectId: string, scripts: ScriptTexts): Promise<{ scriptId: string; lineNumber: number; columnNumber: number } | undefined> {
    const { result } = await this.thread.session.send('Runtime.callFunctionOn', { objectId, functionDeclaration: 'function () { return Function.prototype.toString.call(this); }', returnByValue: true, silent: true });
    const text = result.value;
    if (typeof text !== 'string') return undefined;
    for await (const { scriptId, source } of scripts) {
      const at = source.indexOf(text);
      if (at < 0) continue;
      if (source.indexOf(text, at + 1) >= 0) return undefined;
      // A method's text starts at its name, but its function at its parameters (as acorn and functionsAt
      // see it): there, when they come before its body.
      const paren = text.indexOf('(');
      const head = paren >= 0 && !/=>|\{/.test(text.slice(0, paren)) ? paren : 0;
      return { scriptId, ...position(source, at + head) };
    }
    return undefined;
  }

  /**
   * esbuild's getters (`total: () => total` in its `__export`) read the function's binding: a breakpoint
   * there whose condition puts a wrapper in that binding (and answers false: nothing pauses), fired by
   * reading the exports once now. The breakpoints go at once; the names whose export now answers another
   * function than before.
   *
   * A const binding takes a pause (constPaused), and that read is made in a timer of the thread's own, never
   * inside an evaluation of the inspector's: Node's inspector dispatches a message that comes in while it
   * runs an evaluation only at an interrupt that evaluation's own JavaScript may already have taken, and a
   * pause inside that evaluation then waits for a message it never dispatches; the thread stood paused for
   * good, spinning, even after nodescope disconnected (Node 20-26; test/capture/tsx_getters.test.ts).
   * Any other read of the getter (the program's, an evaluation's) answers false: no pause.
   */
  private async rebindThroughGetters(spec: ModuleSpec, resolved: string, scriptId: string, source: string, sites: Pick<FunctionSite, 'name' | 'rebind'>[], originals: Map<string, string>, group: string): Promise<string[]> {
    const session = this.thread.session;
    const set: string[] = [];
    const names = sites.map((s) => s.name);
    if (names.length === 0) return [];
    await this.thread.call(`breakpointed(${JSON.stringify(spec)}, ${JSON.stringify(resolved)}, ${JSON.stringify(names)}, "wrappers")`);
    try {
      for (const site of sites) {
        const b = (site.rebind as { binding: string }).binding;
        // From an identifier's start only: tried at every position, an inline source map's run of 54,000
        // letters took ~30 s to scan (the run's length squared).
        const getter = new RegExp(`(?<![\\w$])[\\w$]+\\s*:\\s*\\(\\)\\s*=>\\s*(${b.replace(/\$/g, '\\$')})(?![\\w$])`, 'g');
        for (const m of source.matchAll(getter)) {
          const at = m.index + m[0].length - b.length;
          // A const binding (an exported arrow) refuses the assignment: the condition then answers true in
          // nodescope's own read, and the pause that follows sets the binding from outside (constPaused), the
          // one way V8 allows.
          const rebind = rebindCall(AGENT_REF, `${JSON.stringify(spec.module)}, ${JSON.stringify(site.name)}`, b);
          // Nothing to do once the binding holds the wrapper (rebind answers it for it): no second pause.
          const condition = `try { ${b} === ${rebind} ? false : (${b} = ${rebind} ?? ${b}, false) } catch { ${REBINDING} === true }`;
          const { breakpointId } = await session.send('Debugger.setBreakpoint', { location: { scriptId, ...position(source, at) }, condition }).catch(() => ({ breakpointId: undefined }));
          if (breakpointId) set.push(breakpointId);
          if (breakpointId) this.constRebinds.set(breakpointId, { binding: b, rebind });
        }
      }
      if (set.length === 0) return [];
      const read = `(() => { ${REBINDING} = true; try { return a.moduleExports(${JSON.stringify(resolved)}); } finally { delete ${REBINDING}; } })()`;
      const expression = `(() => { const a = ${AGENT_REF}; return a && new Promise((answer) => a.later(() => answer(${read}), 0)); })()`;
      const { result } = await session.send('Runtime.evaluate', { expression, awaitPromise: true, objectGroup: group, silent: true });
      const rebound: string[] = [];
      for (const { name, fn } of result.objectId ? await this.exportedIn(result.objectId, group) : []) {
        const before = names.includes(name) ? originals.get(name) : undefined;
        if (!before) continue;
        const check = await session.send('Runtime.callFunctionOn', { objectId: before, functionDeclaration: 'function (now) { return typeof now === "function" && now !== this; }', arguments: [{ objectId: fn }], returnByValue: true, silent: true });
        if (check.result.value === true) rebound.push(name);
      }
      return rebound;
    } finally {
      for (const breakpointId of set) {
        await session.send('Debugger.removeBreakpoint', { breakpointId }).catch(() => undefined);
        // Only now: the pause our read caused comes before this answer, still ours to end.
        this.constRebinds.delete(breakpointId);
      }
    }
  }

  /**
   * Paused on an esbuild getter whose binding is a const (rebindThroughGetters): the wrapper goes into the
   * nearest scope that holds the binding, by Debugger.setVariableValue, which V8 allows on a const where
   * the assignment throws; then the thread goes on. Happens once per such export, while it is traced.
   */
  private async constPaused(frame: PausedFrame, rebind: { binding: string; rebind: string }): Promise<void> {
    const session = this.thread.session;
    const work = (async () => {
      const { result } = await session.send('Debugger.evaluateOnCallFrame', { callFrameId: frame.callFrameId, expression: rebind.rebind, objectGroup: EXPORTS_GROUP, silent: true });
      if (result.type !== 'function' || !result.objectId) return;
      for (const [scopeNumber, scope] of frame.scopeChain.entries()) {
        if (scope.type === 'global') break;
        const set = await session
          .send('Debugger.setVariableValue', { callFrameId: frame.callFrameId, scopeNumber, variableName: rebind.binding, newValue: { objectId: result.objectId } })
          .then(() => true)
          .catch(() => false); // not in this scope: the next one out
        if (set) break;
      }
    })();
    // Without an answer in time (the thread ended, or answers late): the export stays as it was, and the
    // thread goes on all the same.
    await within(work.catch(() => undefined), CONST_PAUSE_MS);
    await session.send('Debugger.resume').catch(() => undefined);
  }

  /** Function declarations rebound to wrappers from the paused module frame; the sites done. */
  private async rebindAtLoad(spec: ModuleSpec, resolved: string, frame: string, sites: FunctionSite[]): Promise<FunctionSite[]> {
    const done: FunctionSite[] = [];
    for (const site of sites) {
      if (!site.rebind || !('binding' in site.rebind)) continue;
      const b = site.rebind.binding;
      const { result, exceptionDetails } = await this.thread.session.send('Debugger.evaluateOnCallFrame', {
        callFrameId: frame,
        expression: `${rebindBinding(AGENT_REF, `${JSON.stringify(spec.module)}, ${JSON.stringify(site.name)}`, b)}, typeof ${b}`,
        silent: true,
        returnByValue: true,
      });
      if (!exceptionDetails && result.value === 'function') done.push(site);
    }
    if (done.length > 0) await this.thread.call(`breakpointed(${JSON.stringify(spec)}, ${JSON.stringify(resolved)}, ${JSON.stringify(done.map((s) => s.name))}, "wrappers")`);
    return done;
  }

  /** Applies a live edit; why V8 refused it, or undefined when it took it. */
  private async edit(scriptId: string, scriptSource: string, dryRun = false): Promise<string | undefined> {
    // JSON escaping grows the text: stay well under the channel's limit.
    if (scriptSource.length > this.maxEdit) return `the source is too large to edit in a worker on Node 20 (${Math.round(scriptSource.length / 1024)} KiB)`;
    try {
      for (let attempt = 1; ; attempt++) {
        const result = await this.thread.session.send('Debugger.setScriptSource', { scriptId, scriptSource, dryRun });
        const status = (result as { status?: string }).status;
        if (result.exceptionDetails) return `the instrumented source did not compile: ${result.exceptionDetails.text}`;
        // The edit runs as an interrupt of the thread's JavaScript, which may be inside the very function: a
        // moment later it is not (a vitest spec calling it every 50 ms: refused in 5 of 12 runs at load ~4).
        if (status === 'BlockedByActiveFunction' && attempt < EDIT_TRIES) {
          await sleep(EDIT_RETRY_MS);
          continue;
        }
        return status === undefined || status === 'Ok' ? undefined : `V8 refused the live edit (${status})`;
      }
    } catch (error) {
      return `this Node has no live edit (${error instanceof CdpError ? error.reason : (error as Error).message})`;
    }
  }

  /** Breakpoints whose condition records the call and answers false; the names of the functions set. */
  private async breakpointsOn(spec: ModuleSpec, resolved: string, scriptId: string, source: string, sites: FunctionSite[]): Promise<string[]> {
    const traced = await this.setBreakpoints(spec, scriptId, source, sites);
    const url = pathToFileURL(resolved).href;
    const names = this.breakpointed.get(spec.module)?.names ?? new Set<string>();
    for (const name of traced) names.add(name);
    this.breakpointed.set(spec.module, { spec, url, names });
    await this.thread.call(`breakpointed(${JSON.stringify(spec)}, ${JSON.stringify(resolved)}, ${JSON.stringify(traced)})`);
    return traced;
  }

  private async setBreakpoints(spec: ModuleSpec, scriptId: string, source: string, sites: FunctionSite[]): Promise<string[]> {
    const ids: string[] = [];
    const traced: string[] = [];
    for (const site of sites) {
      const agent = AGENT_REF;
      const names = `${JSON.stringify(spec.module)}, ${JSON.stringify(site.name)}`;
      // Where the function can be reached from its own scope, its first call also puts a wrapper in its
      // place (the module's binding, or its class's method): from then on calls are recorded whole, at a
      // wrapper's cost, and the breakpoint goes (an agent/rebound event). A throw here (a const binding)
      // leaves the breakpoint alone, which V8 takes as false.
      const rebind =
        site.rebind === undefined
          ? ''
          : 'binding' in site.rebind
            ? `, ${rebindBinding(agent, names, site.rebind.binding)}`
            : `, ${agent}?.rebindMethod(${names}, ${site.rebind.cls}, ${JSON.stringify(site.rebind.key)}, ${site.rebind.static})`;
      const condition = `(${agent}?.esmHit(${names}, ${site.argsExpression})${rebind}, false)`;
      try {
        const { breakpointId } = await this.thread.session.send('Debugger.setBreakpoint', { location: { scriptId, ...position(source, site.bodyStart) }, condition });
        ids.push(breakpointId);
        this.byFunction.set(`${spec.module}\0${site.name}`, breakpointId);
        traced.push(site.name);
      } catch {
        // No breakable position there (an empty body): that function is left out of the report.
      }
    }
    this.breakpoints.set(spec.module, [...(this.breakpoints.get(spec.module) ?? []), ...ids]);
    return traced;
  }

  /**
   * Sets a breakpoint by URL on the first statement of each module waited for: V8 sets it as it compiles
   * the module, before any of it runs, and the thread pauses there only. The statement is found in the file
   * on disk; a loader that transforms the source (tsx) moves it, which parsed() puts right.
   */
  private async arm(): Promise<void> {
    if (this.held) return;
    for (const [url, { resolved }] of this.waiting) {
      if (this.armed.has(url)) continue;
      const ids = { byUrl: [] as string[], inScripts: [] as string[] };
      this.armed.set(url, ids);
      const sets = await Promise.all((await startsOnDisk(resolved)).map((at) => this.thread.session.send('Debugger.setBreakpointByUrl', { url, ...at }).catch(() => undefined)));
      for (const set of sets) {
        if (!set) continue;
        ids.byUrl.push(set.breakpointId);
        this.waitBreakpoints.add(set.breakpointId);
      }
    }
  }

  /**
   * A module waited for was compiled: a breakpoint on its first statement as V8 holds it, in case the file
   * on disk said otherwise (a transforming loader). Only then is it late by a round trip: a module runs
   * after its imports are loaded, and this one's may all be loaded already.
   */
  private async parsed(url: string, scriptId: string): Promise<void> {
    const ids = this.armed.get(url);
    if (!ids) return;
    const { scriptSource } = await this.thread.session.send('Debugger.getScriptSource', { scriptId });
    const start = moduleStart(scriptSource);
    if (start === undefined || this.armed.get(url) !== ids) return;
    // Refused when the one by URL is there already (the file on disk was the source).
    const set = await this.thread.session.send('Debugger.setBreakpoint', { location: { scriptId, ...position(scriptSource, start) } }).catch(() => undefined);
    if (set) this.waitBreakpoints.add(set.breakpointId);
    if (set && this.armed.get(url) === ids) ids.inScripts.push(set.breakpointId);
    else if (set) await this.thread.session.send('Debugger.removeBreakpoint', { breakpointId: set.breakpointId }).catch(() => undefined);
  }

  private async disarm(url: string): Promise<void> {
    const ids = this.armed.get(url);
    this.armed.delete(url);
    for (const breakpointId of [...(ids?.byUrl ?? []), ...(ids?.inScripts ?? [])]) await this.thread.session.send('Debugger.removeBreakpoint', { breakpointId }).catch(() => undefined);
  }

  private async onPaused(reason: string, hit: string[], frame: PausedFrame | undefined): Promise<void> {
    // Only our own pause is ours to end: another debugger's breakpoint stays paused for that debugger.
    // A worker held for its agent (NodeWorker waitForDebuggerOnStart, ours) breaks on its first line when it
    // is let go with the Debugger domain on: that pause is ours to end.
    if (reason === 'Break on start') return void this.thread.session.send('Debugger.resume').catch(() => undefined);
    const constRebind = hit.map((id) => this.constRebinds.get(id)).find((r) => r !== undefined);
    if (constRebind && frame) return this.constPaused(frame, constRebind);
    if (!hit.some((id) => this.waitBreakpoints.has(id))) return;
    const [url, ids] = [...this.armed].find(([, ids]) => [...ids.byUrl, ...ids.inScripts].some((id) => hit.includes(id))) ?? [];
    const wait = url === undefined ? undefined : this.waiting.get(url);
    try {
      if (!url || !ids || !wait || !frame) return;
      const scriptId = frame.location.scriptId;
      if (this.thread.scripts.all().find((s) => s.scriptId === scriptId)?.isModule === false && !(await this.isViteModule(scriptId))) {
        // The same file run as a script (a test runner's own module loader): not the module waited for,
        // and a breakpoint by URL would stop that script again; module scripts of the URL keep theirs.
        // (What vite's SSR transform made of the module, as vitest runs it, is the module: traced.)
        for (const breakpointId of ids.byUrl.splice(0)) await this.thread.session.send('Debugger.removeBreakpoint', { breakpointId }).catch(() => undefined);
        return;
      }
      this.waiting.delete(url);
      const report = await this.traceLoaded(wait.spec, wait.resolved, scriptId, frame.callFrameId).catch(() => undefined);
      if (report?.status !== 'traced' && this.problems.length < 20) this.problems.push(`${wait.spec.module}: ${report?.note ?? 'could not be instrumented'}`);
      await this.disarm(url);
    } finally {
      await this.thread.session.send('Debugger.resume').catch(() => undefined);
    }
  }

  /** Whether a script is a module as vite's SSR transform writes one (vitest evaluates those as scripts). */
  private async isViteModule(scriptId: string): Promise<boolean> {
    const { scriptSource } = await this.thread.session.send('Debugger.getScriptSource', { scriptId }).catch(() => ({ scriptSource: '' }));
    return viteExports(scriptSource).length > 0;
  }

  /** A function replaced itself with a wrapper (agent/rebound): its breakpoint's work is done. */
  async rebound(module: string, fn: string): Promise<void> {
    const key = `${module}\0${fn}`;
    this.breakpointed.get(module)?.names.delete(fn);
    const breakpointId = this.byFunction.get(key);
    if (breakpointId === undefined) return;
    this.byFunction.delete(key);
    this.breakpoints.set(module, (this.breakpoints.get(module) ?? []).filter((id) => id !== breakpointId));
    await this.thread.session.send('Debugger.removeBreakpoint', { breakpointId }).catch(() => undefined);
  }

  /** Stops one trace here: the original source back, its breakpoints gone, no longer waited for. */
  async stop(module: string): Promise<string[]> {
    const problems: string[] = [];
    const session = this.thread.session;
    for (const edit of this.edits.get(module) ?? []) {
      for (let i = edit.history.length - 2; i >= 0; i--) {
        // Refused while one of its functions is running (an await inside it): the agent's hook already
        // runs those bodies untraced, so the program is unaffected.
        const refusal = await this.edit(edit.scriptId, edit.history[i]!);
        if (refusal !== undefined) {
          problems.push(`the original source of ${module} could not be put back yet: ${refusal}`);
          break;
        }
      }
    }
    this.edits.delete(module);
    for (const breakpointId of this.breakpoints.get(module) ?? []) await session.send('Debugger.removeBreakpoint', { breakpointId }).catch(() => undefined);
    this.breakpoints.delete(module);
    this.breakpointed.delete(module);
    for (const key of [...this.byFunction.keys()]) if (key.startsWith(`${module}\0`)) this.byFunction.delete(key);
    for (const [url, w] of [...this.waiting]) {
      if (w.spec.module !== module) continue;
      this.waiting.delete(url);
      await this.disarm(url);
    }
    return problems;
  }

  async removeAll(): Promise<void> {
    for (const module of new Set([...this.edits.keys(), ...this.breakpoints.keys(), ...[...this.waiting.values()].map((w) => w.spec.module)])) await this.stop(module);
    if (this.enabledOn === this.thread.session) {
      await this.thread.session.send('Debugger.disable').catch(() => undefined);
      this.thread.scripts.forget();
    }
    this.forgetSession();
  }
}

/**
 * The agent's wrapper for a function (`names`: the module and function, quoted) whose binding `b` is to hold
 * it, with the means to put the function back on detach or untrace while the binding still holds the
 * wrapper: nothing else can reach that binding (a const one refuses, and keeps the wrapper).
 */
function rebindCall(agent: string, names: string, b: string): string {
  return `${agent}?.rebind(${names}, ${b}, (nodescope$w, nodescope$f) => ${b} === nodescope$w && (${b} = nodescope$f))`;
}

/** Puts the agent's wrapper in a function's binding (rebindCall). */
function rebindBinding(agent: string, names: string, b: string): string {
  return `${b} = ${rebindCall(agent, names, b)} ?? ${b}`;
}

/**
 * A function's site with the binding to put a wrapper in: for an export read through esbuild's getter
 * (`convert: () => convert`), the binding that getter reads, whatever holds it (a function declaration, or
 * a const holding an arrow, as `export const convert = (…) => …` compiles); else a function declaration's
 * own name. None for another function.
 */
function withBinding(source: string, site: FunctionSite, exported = false): FunctionSite[] {
  const read = exported ? getterRead(source, site.name) : undefined;
  if (read !== undefined) return [{ ...site, rebind: { binding: read } }];
  const declared = /^(?:async\s+)?function\s+([\w$]+)/.exec(source.slice(source.lastIndexOf('function', site.bodyStart), site.bodyStart))?.[1];
  return declared === undefined ? [] : [{ ...site, rebind: site.rebind ?? { binding: declared } }];
}

/** The binding esbuild's getter of an export reads (`convert: () => convert` in its `__export`). */
function getterRead(source: string, name: string): string | undefined {
  return new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}\\s*:\\s*\\(\\)\\s*=>\\s*([\\w$]+)(?![\\w$])`).exec(source)?.[1];
}

/**
 * The local names of what a module exports, where vite's SSR transform wrote its exports as calls that
 * read them: `__vite_ssr_exportName__("quote", () => { try { return quote } catch {} })` (vite 7 and 8), or
 * `Object.defineProperty(__vite_ssr_exports__, "quote", { …, get(){ return quote }})` before. Re-exports
 * (reads of an import, `__vite_ssr_import_0__.x`) are another module's functions.
 */
function viteExports(source: string): string[] {
  const reads = /__vite_ssr_exportName__\(\s*"(?:[^"\\]|\\.)*"\s*,\s*\(\)\s*=>\s*\{\s*try\s*\{\s*return\s+([\w$]+)\s*\}|Object\.defineProperty\(\s*__vite_ssr_exports__\s*,\s*"(?:[^"\\]|\\.)*"\s*,\s*\{[^{}]*get\s*\(\)\s*\{\s*return\s+([\w$]+)\s*\}/g;
  const names = [...source.matchAll(reads)].map((m) => (m[1] ?? m[2])!);
  return [...new Set(names.filter((n) => !n.startsWith('__vite_ssr_')))];
}

/** What an in-place trace records, and at what cost a call (bench/README.md), as its note says it. */
function byBreakpoints(why: string | undefined): string {
  return `traced by conditional breakpoints, since ${why}: arguments only (no results, errors or durations), ~0.1 ms per call, rate-limited`;
}

/** Why a trace took functions the user did not name. */
const NO_EXPORTS = 'it exports no function of its own, so every function in it';

function inPlace(spec: ModuleSpec): string {
  return spec.capture === 'timing'
    ? 'instrumented in place (live edit, ~0.2 µs a call): every call through any reference, counted and timed'
    : 'instrumented in place (live edit, ~0.8 µs a call): every call through any reference, with results, errors and durations';
}

/**
 * Where a module's own code starts: its first top-level statement that runs code. Imports, function and
 * class declarations run nothing of their own (and V8 would move a breakpoint there into the nearest
 * function, which pauses only when called); a module of declarations only starts at its end, which still
 * comes before any module that imports it runs. Undefined where the source is not JavaScript.
 */
export function moduleStart(source: string): number | undefined {
  let body: AnyNode[];
  try {
    body = (parse(source, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true, allowAwaitOutsideFunction: true }) as AnyNode).body;
  } catch {
    return undefined;
  }
  return body.find(runsCode)?.start ?? source.length;
}

type AnyNode = Node & Record<string, any>;

function runsCode(node: AnyNode): boolean {
  switch (node.type) {
    case 'ImportDeclaration':
    case 'ExportAllDeclaration':
    case 'FunctionDeclaration':
    case 'ClassDeclaration':
    case 'EmptyStatement':
      return false;
    case 'ExportNamedDeclaration':
    case 'ExportDefaultDeclaration':
      return node.declaration ? runsCode(node.declaration) : false;
    case 'VariableDeclaration':
      return node.declarations.some((d: AnyNode) => d.init);
    default:
      return true;
  }
}

/**
 * Where to break in a module's file before it runs. JavaScript: its first statement. TypeScript, which acorn
 * does not read: the start of every line, so that whatever a loader made of it (Node's type stripping keeps
 * each position, tsx's output is shorter), a line holds its first top-level statement; a breakpoint that
 * lands in a function instead stops only when that function is called, which the top level does first.
 */
async function startsOnDisk(file: string): Promise<{ lineNumber: number; columnNumber: number }[]> {
  const source = await readFile(file, 'utf8').catch(() => undefined);
  if (source === undefined) return [{ lineNumber: 0, columnNumber: 0 }];
  const start = moduleStart(source);
  if (start !== undefined) return [position(source, start)];
  return source.split('\n').map((_, lineNumber) => ({ lineNumber, columnNumber: 0 }));
}
