// trace_module for ES modules, in one thread. Their exports are immutable bindings that no wrapper can
// replace, so the module's own source is instrumented instead (src/trace/instrument.ts) and swapped in by a
// live edit (Debugger.setScriptSource): every call, through any reference, then runs through the agent's
// call hook with the CommonJS record (arguments, result, error, duration), at a wrapper's cost.
// - Loaded already: edited now.
// - Not loaded yet (launch mode, a lazy import, a new worker): the thread pauses before each script runs
//   (an instrumentation breakpoint, armed only while such a trace waits) and the module is edited before
//   its first line.
// - Where V8 offers no live edit (Node 26) or refuses one: conditional breakpoints at the start of each
//   function, whose condition hands the arguments to the agent and answers false, so the program never
//   pauses; ~0.1 ms a hit, arguments only, rate-limited hard.
// Stopping a trace puts the original source back and removes the breakpoints.
import { pathToFileURL } from 'node:url';
import type { ModuleReport, ModuleSpec } from '../agent/modules.js';
import { AGENT_REF } from '../shared/protocol.js';

import { CALL_HOOK, findFunctions, functionsAt, instrument, position, type FunctionSite } from './instrument.js';
import type { CdpSession } from './cdp.js';
import type { ThreadLink } from './thread.js';

interface Edit {
  scriptId: string;
  /** The source before each edit, the original first: undone one edit at a time, like they were made. */
  history: string[];
}

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
  private armed: string | undefined;
  private editable: Promise<boolean> | undefined;
  /** The largest source a live edit may send (Node 20's worker inspector channel drops 64 KiB messages). */
  private maxEdit = Infinity;
  private everArmed = false;
  /**
   * A thread held before its first line (launch, a new worker) is armed only as it is let go: once armed,
   * every script pauses before it runs, an evaluation of ours too (a probe set on the new thread), and one
   * that paused while the thread was held left the program held for ever.
   */
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
      this.offSession.push(session.on('Debugger.paused', (event) => void this.onPaused(event.reason, event.data as { url?: string; scriptId?: string } | undefined, event.callFrames[0]?.callFrameId)));
      await this.thread.scripts.enable();
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
    this.armed = undefined;
    this.enabled = undefined;
    this.enabledOn = undefined;
  }

  async trace(spec: ModuleSpec, report: ModuleReport): Promise<ModuleReport> {
    await this.enable();
    const resolved = report.resolved!;
    const url = pathToFileURL(resolved).href;
    if (this.edits.has(spec.module) || this.breakpoints.has(spec.module)) return { ...report, status: 'traced', note: 'already traced' };
    const script = this.thread.scripts.get(url);
    if (!script) {
      this.waiting.set(url, { spec, resolved });
      await this.arm();
      return { ...report, status: 'pending', note: 'an ES module not loaded yet in this thread: instrumented before its first line runs' };
    }
    return this.traceLoaded(spec, resolved, script.scriptId);
  }

  /**
   * `frame`: paused before the module's first line (an instrumentation pause). Where V8 cannot live-edit,
   * its function declarations are then replaced in the module's own scope by wrappers, before anything can
   * call or import them: every call is recorded whole.
   */
  private async traceLoaded(spec: ModuleSpec, resolved: string, scriptId: string, frame?: string): Promise<ModuleReport> {
    const session = this.thread.session;
    const { scriptSource } = await session.send('Debugger.getScriptSource', { scriptId });
    const found = findFunctions(scriptSource, spec.functions ?? []);
    const skipped = found.skipped.map((s) => `${s.name} (${s.why})`);
    const base = { module: spec.module, resolved, functions: [] as string[], methods: [] as string[] };
    if (found.sites.length === 0) {
      return { ...base, status: 'unsupported', note: `no function found to trace${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}` };
    }
    const rebound = frame !== undefined && !(await this.canEdit()) ? await this.rebindAtLoad(spec, resolved, frame, found.sites) : [];
    const { edited, refused, why } = await this.editInPlace(spec, resolved, scriptId, scriptSource, found.sites.filter((s) => !rebound.includes(s)));
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
      base.functions.push(...names.filter((n) => !/[#.]/.test(n)));
      base.methods.push(...names.filter((n) => /[#.]/.test(n)));
      notes.push(`${names.join(', ')} ${inPlace(spec)}`);
    }
    if (refused.length > 0) {
      const traced = await this.breakpointsOn(spec, resolved, scriptId, scriptSource, refused);
      via ??= 'breakpoints';
      base.functions.push(...traced.filter((n) => !/[#.]/.test(n)));
      base.methods.push(...traced.filter((n) => /[#.]/.test(n)));
      const rebinding = refused.filter((r) => r.rebind && traced.includes(r.name)).map((r) => r.name);
      const plain = traced.filter((n) => !rebinding.includes(n));
      if (rebinding.length) notes.push(`${rebinding.join(', ')}: the first call by a breakpoint (arguments only, since ${why}), which then puts a wrapper in the function's place: later calls recorded whole, except through references taken before`);
      if (plain.length) notes.push(`${plain.join(', ')} traced by conditional breakpoints, since ${why}: arguments only (no results, errors or durations), ~0.1 ms per call, rate-limited`);
    }
    if (skipped.length) notes.push(`skipped ${skipped.join(', ')}`);
    return { ...base, status: 'traced', via, note: notes.join('; ') };
  }

  /**
   * Instruments functions of one script, one function per edit: V8's live-edit diff takes several changes
   * at once for a change of an ES module's top level (BlockedByTopLevelEsModuleChange) where each alone is
   * accepted. V8 also refuses changes inside an arrow at an ES module's top level: those come back refused.
   */
  private async editInPlace(spec: ModuleSpec, resolved: string, scriptId: string, source: string, sites: FunctionSite[]): Promise<{ edited: FunctionSite[]; refused: FunctionSite[]; why: string | undefined }> {
    const refused: FunctionSite[] = [];
    const edited: { site: FunctionSite; id: number }[] = [];
    const history: string[] = [source];
    let why: string | undefined;
    for (const site of sites) {
      if (why?.startsWith('this Node')) {
        refused.push(site);
        continue;
      }
      const [id] = (await this.thread.call(`instrumented(${JSON.stringify(spec)}, ${JSON.stringify(resolved)}, ${JSON.stringify([site.name])}, "live-edit")`)) as number[];
      // Timing only reads no argument: the instrumented code then builds no `arguments` object per call.
      // (`undefined`, the identifier: with `null` or `void 0` there, V8 took the edit but kept the old code.)
      const hooked = spec.capture === 'timing' ? { ...site, argsExpression: 'undefined' } : site;
      const next = instrument(source, [...edited, { site: hooked, id: id! }]);
      const refusal = await this.edit(scriptId, next);
      if (refusal === undefined) {
        edited.push({ site: hooked, id: id! });
        history.push(next);
      } else {
        await this.thread.call(`forgetSite(${id})`).catch(() => undefined);
        refused.push(site);
        why ??= refusal;
      }
    }
    if (edited.length > 0) this.edits.set(spec.module, [...(this.edits.get(spec.module) ?? []), { scriptId, history }]);
    return { edited: edited.map((e) => e.site), refused, why };
  }

  /** Whether this thread's V8 live-edits (Node 26's does not): one dry run of a small script onto itself. */
  async canEdit(): Promise<boolean> {
    await this.enable();
    this.editable ??= (async () => {
      const { result } = await this.thread.session.send('Runtime.evaluate', { expression: 'process.versions.node', returnByValue: true, silent: true });
      // Node 20 drops a message to a worker's inspector of 64 KiB or more, without an answer.
      if (this.thread.actor.includes('/w') && String(result.value).startsWith('20.')) this.maxEdit = 48 * 1024;
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
   * A loaded CommonJS module, in place: its exported functions are found by V8's own location of each
   * function object and instrumented in their scripts, so calls through references taken before tracing
   * (a destructured require) are recorded too. What cannot be edited gets wrappers on the exports.
   */
  async traceCommonJs(spec: ModuleSpec, resolved: string): Promise<ModuleReport> {
    const session = this.thread.session;
    const group = 'nodescope-exports';
    const wanted = new Map<string, { name: string; lineNumber: number; columnNumber: number }[]>();
    const all: string[] = [];
    const objects = new Map<string, string>();
    const done: string[] = [];
    let why: string | undefined;
    try {
      const { result } = await session.send('Runtime.evaluate', { expression: `${AGENT_REF}?.moduleExports(${JSON.stringify(resolved)})`, objectGroup: group, silent: true });
      const pairs = result.objectId ? (await session.send('Runtime.getProperties', { objectId: result.objectId, ownProperties: true })).result : [];
      for (const pair of pairs.filter((p) => /^\d+$/.test(p.name) && p.value?.objectId)) {
        const [name, fn] = (await session.send('Runtime.getProperties', { objectId: pair.value!.objectId!, ownProperties: true })).result.filter((p) => /^[01]$/.test(p.name)).sort((a, b) => a.name.localeCompare(b.name));
        if (typeof name?.value?.value !== 'string' || !fn?.value?.objectId) continue;
        all.push(name.value.value);
        objects.set(name.value.value, fn.value.objectId);
        const { internalProperties } = await session.send('Runtime.getProperties', { objectId: fn.value.objectId, ownProperties: true });
        const at = internalProperties?.find((p) => p.name === '[[FunctionLocation]]')?.value?.value as { scriptId: string; lineNumber: number; columnNumber: number } | undefined;
        if (at) wanted.set(at.scriptId, [...(wanted.get(at.scriptId) ?? []), { name: name.value.value, lineNumber: at.lineNumber, columnNumber: at.columnNumber }]);
      }
      for (const [scriptId, fns] of wanted) {
        const { scriptSource } = await session.send('Debugger.getScriptSource', { scriptId });
        const result = await this.editInPlace(spec, resolved, scriptId, scriptSource, functionsAt(scriptSource, fns));
        why ??= result.why;
        // V8 may take an edit of a CommonJS script and still leave a function as it was (an arrow
        // assigned to exports): only a function whose own source now calls the hook counts.
        for (const site of result.edited) {
          const check = await session.send('Runtime.callFunctionOn', { objectId: objects.get(site.name)!, functionDeclaration: `function () { return Function.prototype.toString.call(this).includes(${JSON.stringify(CALL_HOOK)}); }`, returnByValue: true, silent: true });
          if (check.result.value === true) done.push(site.name);
          else why ??= 'V8 took the live edit but left the function as it was';
        }
      }
    } finally {
      await session.send('Runtime.releaseObjectGroup', { objectGroup: group }).catch(() => undefined);
    }
    const rest = all.filter((n) => !done.includes(n));
    if (rest.length > 0) await this.thread.call(`wrapSome(${JSON.stringify(spec)}, ${JSON.stringify(resolved)}, ${JSON.stringify(rest)})`);
    const notes = [
      ...(done.length ? [`${done.join(', ')} ${inPlace(spec)}`] : []),
      ...(rest.length ? [`${rest.join(', ')} wrapped on the exports${why ? ` (${why})` : ''}: calls through references taken before tracing are missed`] : []),
    ];
    return {
      module: spec.module,
      resolved,
      status: 'traced',
      via: done.length ? 'live-edit' : 'wrappers',
      functions: all.filter((n) => !/[#.]/.test(n)),
      methods: all.filter((n) => /[#.]/.test(n)),
      note: notes.join('; '),
    };
  }

  /** Function declarations rebound to wrappers from the paused module frame; the sites done. */
  private async rebindAtLoad(spec: ModuleSpec, resolved: string, frame: string, sites: FunctionSite[]): Promise<FunctionSite[]> {
    const done: FunctionSite[] = [];
    for (const site of sites) {
      if (!site.rebind || !('binding' in site.rebind)) continue;
      const b = site.rebind.binding;
      const { result, exceptionDetails } = await this.thread.session.send('Debugger.evaluateOnCallFrame', {
        callFrameId: frame,
        expression: `${b} = ${AGENT_REF}?.rebind(${JSON.stringify(spec.module)}, ${JSON.stringify(site.name)}, ${b}) ?? ${b}, typeof ${b}`,
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
      const result = await this.thread.session.send('Debugger.setScriptSource', { scriptId, scriptSource, dryRun });
      const status = (result as { status?: string }).status;
      if (result.exceptionDetails) return `the instrumented source did not compile: ${result.exceptionDetails.text}`;
      return status === undefined || status === 'Ok' ? undefined : `V8 refused the live edit (${status})`;
    } catch (error) {
      return `this Node has no live edit (${(error as Error).message})`;
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
            ? `, ${site.rebind.binding} = ${agent}?.rebind(${names}, ${site.rebind.binding}) ?? ${site.rebind.binding}`
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

  /** Pauses before each script runs while a trace waits for its module, so it is edited before it runs. */
  private async arm(): Promise<void> {
    if (this.held || this.armed || this.waiting.size === 0) return;
    const { breakpointId } = await this.thread.session.send('Debugger.setInstrumentationBreakpoint', { instrumentation: 'beforeScriptExecution' });
    this.armed = breakpointId;
    this.everArmed = true;
  }

  private async disarm(): Promise<void> {
    if (!this.armed || this.waiting.size > 0) return;
    const breakpointId = this.armed;
    this.armed = undefined;
    await this.thread.session.send('Debugger.removeBreakpoint', { breakpointId }).catch(() => undefined);
  }

  private async onPaused(reason: string, data: { url?: string; scriptId?: string } | undefined, frame: string | undefined): Promise<void> {
    // Only our own pause is ours to end: another debugger's breakpoint stays paused for that debugger. One
    // may still arrive after we disarmed (it was on its way), and is ours to end too.
    // A worker held for its agent (NodeWorker waitForDebuggerOnStart, ours) breaks on its first line when it
    // is let go with the Debugger domain on, as ours is while a trace waits: that pause is ours to end.
    if (reason === 'Break on start') return void this.thread.session.send('Debugger.resume').catch(() => undefined);
    if (reason !== 'instrumentation' || !this.everArmed) return;
    try {
      const wait = data?.url ? this.waiting.get(data.url) : undefined;
      if (wait && data?.scriptId && this.thread.scripts.get(data.url!)?.isModule !== false) {
        this.waiting.delete(data.url!);
        const report = await this.traceLoaded(wait.spec, wait.resolved, data.scriptId, frame).catch(() => undefined);
        if (report?.status !== 'traced' && this.problems.length < 20) this.problems.push(`${wait.spec.module}: ${report?.note ?? 'could not be instrumented'}`);
        await this.disarm();
      }
    } finally {
      await this.thread.session.send('Debugger.resume').catch(() => undefined);
    }
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
    for (const [url, w] of [...this.waiting]) if (w.spec.module === module) this.waiting.delete(url);
    await this.disarm();
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

/** What an in-place trace records, and at what cost a call (bench/README.md), as its note says it. */
function inPlace(spec: ModuleSpec): string {
  return spec.capture === 'timing'
    ? 'instrumented in place (live edit, ~0.2 µs a call): every call through any reference, counted and timed'
    : 'instrumented in place (live edit, ~0.8 µs a call): every call through any reference, with results, errors and durations';
}
