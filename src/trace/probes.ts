// trace_line on the host: probes at a source line, in every thread of the family, without pausing. Each
// probe is a conditional breakpoint (Debugger.setBreakpointByUrl) whose condition calls the agent
// (src/agent/probes.ts) to record the hit and answers false. TypeScript lines are mapped to the generated
// position through source maps (src/trace/sourcemaps.ts); the names in scope are read from the generated
// source (probe_source.ts). A breakpoint costs ~0.1 ms per hit however cheap its condition, so a probe whose
// budget is spent is disarmed — its breakpoint removed — until its next token is due, which keeps a probe
// on a hot line within a few milliseconds of CPU per second.
import type { ProbeLimits } from '../shared/protocol.js';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeConfig } from '../agent/probes.js';
import { AGENT_REF } from '../shared/protocol.js';
import type { CdpSession } from './cdp.js';
import { namesInScope, offsetOf, templateExpressions, unsafeExpression } from './probe_source.js';
import { pathOf, sourceMaps } from './sourcemaps.js';
import type { ThreadLink } from './thread.js';

export type { ProbeLimits };
export const DEFAULT_PROBE_LIMITS: ProbeLimits = { maxHits: 100, perSecond: 1, burst: 5, evalsPerSecond: 100, globalPerSecond: 25, durationMs: 15 * 60_000, budgetMs: 15 };

export interface ProbeRequest {
  file: string;
  line: number;
  condition?: string;
  capture?: string[];
  /** Logpoint: a message with `{expression}` placeholders, recorded with each hit. */
  log?: string;
  limits: ProbeLimits;
}

export interface ProbeSite {
  actor: string;
  /** The generated script and position the breakpoint is at (1-based). */
  url: string;
  line: number;
  column: number;
  state: 'armed' | 'disarmed' | 'waiting for the script' | 'stopped';
  stopped?: string;
}

export interface ProbeInfo {
  id: string;
  /** The file as resolved (the original source for mapped code) and the line the probe is at. */
  file: string;
  line: number;
  requested: { file: string; line: number };
  condition: string | null;
  capture: string[];
  log: string | null;
  mechanism: string;
  limits: ProbeLimits;
  state: 'active' | 'stopped' | 'removed';
  stopped: string | null;
  sites: ProbeSite[];
  /** Hits received by the host so far. */
  hits: number;
  /** Expressions refused before install, and expressions that failed in the target (first failure each). */
  rejected: { expression: string; reason: string }[];
  errors: { actor: string; expression: string; error: string }[];
}

const MECHANISM = 'conditional breakpoint that records and answers false (never pauses); disarmed between tokens, re-armed every 2–16 s on a line that runs all the time';
/** A probe whose budget ran out this soon after arming is on a hot line; its re-arm delay doubles up to the max. */
const HOT_ARMED_MS = 50;
const HOT_BACKOFF_MAX_MS = 16_000;

/** The condition's own variable: a user local of that name would be shadowed inside the probe's closures. */
const P = '__nodescope_probes';

interface Script {
  scriptId: string;
  url: string;
  sourceMapURL: string;
}

interface ThreadState {
  ready: Promise<void>;
  session: CdpSession;
  scripts: Map<string, Script>;
  /** Breakpoint ids by probe. */
  breakpoints: Map<string, string[]>;
  timers: Map<string, NodeJS.Timeout>;
  /**
   * Breakpoints being set, by probe. The agent may ask to disarm before the answer to setBreakpointByUrl
   * has been read (both arrive in one socket read, the answer's continuation a microtask later).
   */
  settling: Map<string, Promise<void>>;
  /** When each probe's breakpoint was last set, and its current re-arm delay on a hot line. */
  armedAt: Map<string, number>;
  backoff: Map<string, number>;
  cwd: string;
}

interface Probe {
  info: ProbeInfo;
  /** The original source file (absolute) and line the user named, after resolving. */
  source: string;
  /** Generated scripts the probe applies to, by how: mapped from `source`, or `source` itself. */
  expressions: { condition: string | null; capture: string[] };
  timer?: NodeJS.Timeout;
}

export class Probes {
  private readonly probes = new Map<string, Probe>();
  private readonly threads = new Map<ThreadLink, ThreadState>();
  private next = 0;
  /** Generated sources read from a thread, by script URL. */
  private readonly sources = new Map<string, string>();
  private readonly control = `__nodescope_probe_${randomBytes(4).toString('hex')}`;

  constructor(private readonly live: () => ThreadLink[]) {}

  /** Active and stopped probes, for the listing of every trace. */
  list(): ProbeInfo[] {
    return [...this.probes.values()].map((p) => structuredClone(p.info));
  }

  /** A hit reached the host (the ingest's locate hook): counted for the listing. */
  counted(subtype: string, payload: unknown): void {
    const p = payload as { probe?: string; expression?: string; error?: string } | null;
    const probe = p?.probe ? this.probes.get(p.probe) : undefined;
    if (!probe) return;
    if (subtype === 'hit') probe.info.hits++;
  }

  async add(request: ProbeRequest): Promise<ProbeInfo> {
    const rejected: ProbeInfo['rejected'] = [];
    if (request.condition) {
      const why = unsafeExpression(request.condition);
      if (why) throw new Error(`the condition ${JSON.stringify(request.condition)} ${why}: a probe must not change the program, so none was set`);
    }
    const capture: string[] = [];
    for (const e of [...(request.capture ?? []), ...(request.log ? templateExpressions(request.log) : [])]) {
      if (capture.includes(e)) continue;
      const why = unsafeExpression(e);
      if (why) rejected.push({ expression: e, reason: why });
      else capture.push(e);
    }
    const threads = this.live();
    if (threads.length === 0) throw new Error('nothing is attached');
    await Promise.all(threads.map((t) => this.prepare(t)));
    const found = this.locate(request.file, request.line, threads);
    const id = `p${++this.next}`;
    const probe: Probe = {
      info: {
        id,
        file: found.source,
        line: found.line,
        requested: { file: request.file, line: request.line },
        condition: request.condition ?? null,
        capture,
        log: request.log ?? null,
        mechanism: MECHANISM,
        limits: request.limits,
        state: 'active',
        stopped: null,
        sites: [],
        hits: 0,
        rejected,
        errors: [],
      },
      source: found.source,
      expressions: { condition: request.condition ?? null, capture },
    };
    this.probes.set(id, probe);
    await Promise.all(threads.map((t) => this.install(probe, t).catch((e: Error) => probe.info.errors.push({ actor: t.actor, expression: '(install)', error: e.message }))));
    probe.timer = setTimeout(() => void this.end(probe, `reached its duration of ${request.limits.durationMs} ms`), request.limits.durationMs).unref();
    return structuredClone(probe.info);
  }

  /** Removes probes (all of them without an id); their breakpoints are gone from every thread on return. */
  async remove(id?: string): Promise<ProbeInfo[]> {
    const chosen = id === undefined ? [...this.probes.values()] : [this.probes.get(id)].filter((p): p is Probe => p !== undefined);
    if (id !== undefined && chosen.length === 0) throw new Error(`no probe ${id}; probes: ${[...this.probes.keys()].join(', ') || 'none'}`);
    for (const probe of chosen) {
      clearTimeout(probe.timer);
      probe.info.state = 'removed';
      for (const [thread, state] of this.threads) {
        await this.unset(probe.info.id, state);
        await thread.call(`probes.remove(${JSON.stringify(probe.info.id)})`).catch(() => undefined);
      }
      probe.info.state = 'removed';
      probe.info.sites = probe.info.sites.map((s) => ({ ...s, state: 'stopped', stopped: s.stopped ?? 'removed' }));
      this.probes.delete(probe.info.id);
    }
    return chosen.map((p) => structuredClone(p.info));
  }

  /** A new thread (worker, child process, or the launched program before its first line): every active probe. */
  async onThread(thread: ThreadLink): Promise<void> {
    const active = [...this.probes.values()].filter((p) => p.info.state === 'active');
    if (active.length === 0) return;
    await this.prepare(thread);
    for (const p of active) await this.install(p, thread).catch(() => undefined);
  }

  /** Before the agents go: breakpoints and the Debugger domain off in every thread. */
  async detach(): Promise<void> {
    for (const p of this.probes.values()) clearTimeout(p.timer);
    for (const [thread, state] of this.threads) {
      for (const t of state.timers.values()) clearTimeout(t);
      for (const id of [...state.breakpoints.keys()]) await this.unset(id, state);
      await state.session.send('Runtime.removeBinding', { name: this.control }).catch(() => undefined);
      await state.session.send('Runtime.evaluate', { expression: `delete globalThis[${JSON.stringify(this.control)}]`, silent: true }).catch(() => undefined);
      await state.session.send('Debugger.disable').catch(() => undefined);
      if (state.session === thread.session) thread.scripts.forget();
    }
    this.threads.clear();
    for (const p of this.probes.values()) if (p.info.state === 'active') p.info.state = 'stopped', p.info.stopped = 'detached';
  }

  /** Makes sure a script's announced source map is known (cpu_profile of code tsx transformed). */
  async scriptsOf(thread: ThreadLink): Promise<void> {
    await this.prepare(thread);
  }

  // ------------------------------------------------------------------------------------------- threads

  private prepare(thread: ThreadLink): Promise<void> {
    const known = this.threads.get(thread);
    if (known && known.session === thread.session && !thread.session.closed) return known.ready;
    const session = thread.session;
    const state: ThreadState = { ready: Promise.resolve(), session, scripts: new Map(), breakpoints: new Map(), timers: new Map(), settling: new Map(), armedAt: new Map(), backoff: new Map(), cwd: '/' };
    this.threads.set(thread, state);
    // With the Debugger domain on, a `debugger;` statement in the app would stop it for good (nobody on this
    // session resumes it), and so would the pause Node schedules on the first line of a worker that waited
    // for us ("Break on start"): such pauses (none of this session's breakpoints) are resumed at once. Not
    // Debugger.setSkipAllPauses: it would also skip trace_module's pauses before a module's first line,
    // which share this session (src/trace/esm.ts).
    session.on('Debugger.paused', ({ reason, hitBreakpoints }) => {
      if ((reason === 'other' || (reason as string) === 'Break on start') && !hitBreakpoints?.length) void session.send('Debugger.resume').catch(() => undefined);
    });
    session.on('Runtime.bindingCalled', ({ name, payload }) => {
      if (name === this.control) void this.onControl(thread, state, payload);
    });
    session.onClose(() => {
      if (this.threads.get(thread) === state) this.threads.delete(thread);
    });
    state.ready = (async () => {
      // The thread's one list of scripts: module traces may have enabled the domain first.
      await thread.scripts.enable();
      thread.scripts.subscribe(({ scriptId, url, sourceMapURL }) => {
        if (url.startsWith('node:')) return;
        state.scripts.set(url, { scriptId, url, sourceMapURL });
        if (sourceMapURL) sourceMaps.announce(url, sourceMapURL);
        if (this.probes.size > 0) void this.onScript(thread, state, url);
      });
      await session.send('Runtime.addBinding', { name: this.control });
      const cwd = await session.send('Runtime.evaluate', { expression: 'process.cwd()', returnByValue: true, silent: true });
      if (typeof cwd.result.value === 'string') state.cwd = cwd.result.value;
    })();
    return state.ready;
  }

  // ------------------------------------------------------------------------------------------- where

  /** Resolves the user's file against what the threads loaded: original sources of maps, then scripts. */
  private locate(file: string, line: number, threads: ThreadLink[]): { source: string; line: number } {
    const cwd = this.threads.get(threads[0]!)?.cwd ?? process.cwd();
    const wanted = file.startsWith('file://') ? fileURLToPath(file) : file;
    const candidates = new Set<string>();
    for (const t of threads) {
      const state = this.threads.get(t);
      if (!state) continue;
      for (const s of state.scripts.values()) {
        if (isDependency(s.url) && !wanted.includes('node_modules')) continue;
        if (s.sourceMapURL) for (const src of sourceMaps.sources(s.url)) if (matches(src, wanted, state.cwd)) candidates.add(src);
        const path = pathOf(s.url);
        if (path && matches(path, wanted, state.cwd)) candidates.add(path);
      }
    }
    if (candidates.size > 1) throw new Error(`"${file}" is ambiguous: ${[...candidates].join(', ')}`);
    if (candidates.size === 1) return { source: [...candidates][0]!, line };
    // Not loaded yet in any thread: a JavaScript file on disk gets its breakpoint by URL, which V8 sets as
    // the script loads; a TypeScript file waits for a script whose map names it.
    const path = isAbsolute(wanted) ? wanted : resolve(cwd, wanted);
    try {
      readFileSync(path);
    } catch {
      throw new Error(`"${file}" is not loaded in any traced thread and is not a file at ${path}`);
    }
    return { source: path, line };
  }

  /** Where the probe's line runs in this thread's scripts (generated positions), loaded or not. */
  private targets(probe: Probe, state: ThreadState): { url: string; urlRegex?: string; line: number; column: number; originalLine: number }[] {
    const out: { url: string; urlRegex?: string; line: number; column: number; originalLine: number }[] = [];
    const line = probe.info.requested.line;
    for (const s of state.scripts.values()) {
      if (s.sourceMapURL) {
        const g = sourceMaps.generated(s.url, probe.source, line);
        if (g) {
          out.push({ url: s.url, line: g.location.line, column: g.location.column, originalLine: g.originalLine });
          continue;
        }
      }
      if (pathOf(s.url) === probe.source) out.push({ url: s.url, line, column: 1, originalLine: line });
    }
    if (out.length === 0) {
      // Not loaded in this thread yet, but another thread ran it: its generated script is known, and a
      // breakpoint by URL is in place before the script's first line runs here (a new worker, a child).
      for (const url of sourceMaps.announcedScripts()) {
        const g = sourceMaps.generated(url, probe.source, line);
        if (g) out.push({ url, urlRegex: `^(file://)?${escapeRegex(pathOf(url) ?? url)}$`, line: g.location.line, column: g.location.column, originalLine: g.originalLine });
      }
    }
    if (out.length === 0 && /\.[cm]?js$/.test(probe.source)) {
      const g = sourceMaps.generated(probe.source, probe.source, line);
      out.push({ url: probe.source, urlRegex: `^(file://)?${escapeRegex(probe.source)}$`, line: g?.location.line ?? line, column: 1, originalLine: line });
    }
    return out;
  }

  private async install(probe: Probe, thread: ThreadLink): Promise<void> {
    const state = this.threads.get(thread);
    if (!state || probe.info.state !== 'active') return;
    await state.ready;
    const targets = this.targets(probe, state);
    if (targets.length === 0) {
      this.site(probe, { actor: thread.actor, url: probe.source, line: probe.info.requested.line, column: 0, state: 'waiting for the script' });
      return;
    }
    const config: ProbeConfig = {
      id: probe.info.id,
      file: probe.source,
      line: targets[0]!.originalLine,
      ...probe.info.limits,
      ...(probe.info.log !== null ? { log: logTemplate(probe.info.log, probe.expressions.capture) } : {}),
      control: this.control,
    };
    probe.info.line = targets[0]!.originalLine;
    await thread.call(`probes.install(${JSON.stringify(config)})`);
    for (const t of targets) await this.setBreakpoint(probe, thread, state, t);
  }

  private setBreakpoint(probe: Probe, thread: ThreadLink, state: ThreadState, t: { url: string; urlRegex?: string; line: number; column: number }): Promise<void> {
    const id = probe.info.id;
    const before = state.settling.get(id) ?? Promise.resolve();
    const done = before.then(() => this.setBreakpointNow(probe, thread, state, t));
    const settled = done.catch(() => undefined).finally(() => {
      if (state.settling.get(id) === settled) state.settling.delete(id);
    });
    state.settling.set(id, settled);
    return done;
  }

  private async setBreakpointNow(probe: Probe, thread: ThreadLink, state: ThreadState, t: { url: string; urlRegex?: string; line: number; column: number }): Promise<void> {
    const script = state.scripts.get(t.url);
    let source = this.sources.get(t.url);
    try {
      source ??= script ? (await state.session.send('Debugger.getScriptSource', { scriptId: script.scriptId })).scriptSource : readFileSync(pathOf(t.url) ?? t.url, 'utf8');
      // The script as V8 runs it (tsx's output is not on disk): kept for threads that load it later.
      if (script && this.sources.size < 50) this.sources.set(t.url, source);
    } catch {
      source = undefined;
    }
    const scope = source ? namesInScope(source, offsetOf(source, t.line, firstCode(source, t.line, t.column))) : undefined;
    const condition = conditionText(probe.info.id, probe.expressions.condition, scope?.locals ?? [], scope?.closure ?? [], probe.expressions.capture);
    const { breakpointId, locations } = await state.session.send('Debugger.setBreakpointByUrl', {
      urlRegex: scriptSelector(probe.info.id, t),
      lineNumber: t.line - 1,
      columnNumber: firstCode(source, t.line, t.column) - 1,
      condition,
    });
    if (probe.info.state !== 'active' || !this.probes.has(probe.info.id)) {
      // Removed or stopped while this breakpoint was being set: it must not outlive the probe.
      await state.session.send('Debugger.removeBreakpoint', { breakpointId }).catch(() => undefined);
      return;
    }
    state.breakpoints.set(probe.info.id, [...(state.breakpoints.get(probe.info.id) ?? []), breakpointId]);
    state.armedAt.set(probe.info.id, Date.now());
    const at = locations[0];
    // A vm context made before the agent came (jest's test files) has no agent on its global for the condition.
    const context = at ? thread.scripts.get(t.url)?.contextId : undefined;
    const reached = context === undefined || (await state.session.send('Runtime.evaluate', { expression: `${AGENT_REF} !== undefined`, contextId: context, returnByValue: true, silent: true }).catch(() => undefined))?.result.value !== false;
    const unreached = reached ? {} : { stopped: 'its code runs in a vm context made before nodescope came (a test runner\'s, as jest\'s), where the condition cannot reach the agent: no hit recorded there; contexts made from now on are' };
    this.site(probe, { actor: thread.actor, url: t.url, line: at ? at.lineNumber + 1 : t.line, column: at ? (at.columnNumber ?? 0) + 1 : t.column, state: at ? 'armed' : 'waiting for the script', ...unreached });
  }

  private site(probe: Probe, site: ProbeSite): void {
    const i = probe.info.sites.findIndex((s) => s.actor === site.actor && s.url === site.url);
    if (i >= 0) probe.info.sites[i] = site;
    else probe.info.sites.push(site);
  }

  private async unset(id: string, state: ThreadState): Promise<void> {
    clearTimeout(state.timers.get(id));
    state.timers.delete(id);
    await state.settling.get(id);
    const ids = state.breakpoints.get(id) ?? [];
    state.breakpoints.delete(id);
    for (const breakpointId of ids) await state.session.send('Debugger.removeBreakpoint', { breakpointId }).catch(() => undefined);
  }

  /** A script appeared in a thread: probes waiting for it (a TypeScript file compiled or loaded later). */
  private async onScript(thread: ThreadLink, state: ThreadState, url: string): Promise<void> {
    for (const probe of this.probes.values()) {
      if (probe.info.state !== 'active' || state.breakpoints.has(probe.info.id)) continue;
      const t = this.targets(probe, state).find((x) => x.url === url);
      if (!t) continue;
      try {
        await thread.call(`probes.install(${JSON.stringify({ id: probe.info.id, file: probe.source, line: t.originalLine, ...probe.info.limits, ...(probe.info.log !== null ? { log: logTemplate(probe.info.log, probe.expressions.capture) } : {}), control: this.control })})`);
        await this.setBreakpoint(probe, thread, state, t);
      } catch {
        // the thread ended meanwhile
      }
    }
  }

  /** The agent's word: a probe's budget is spent (disarm until `retryMs`), or it stopped at a limit. */
  private async onControl(thread: ThreadLink, state: ThreadState, payload: string): Promise<void> {
    let m: { probe: string; retryMs?: number; stopped?: string };
    try {
      m = JSON.parse(payload);
    } catch {
      return;
    }
    const probe = this.probes.get(m.probe);
    await state.settling.get(m.probe);
    if (!probe || !state.breakpoints.has(m.probe)) return;
    await this.unset(m.probe, state);
    const mark = (s: ProbeSite['state'], stopped?: string) => {
      for (const site of probe.info.sites) if (site.actor === thread.actor) Object.assign(site, { state: s }, stopped ? { stopped } : {});
    };
    if (m.stopped !== undefined) {
      mark('stopped', m.stopped);
      // Stopped wherever it was set; threads still waiting for the script will not get it either.
      if (probe.info.sites.every((s) => s.state === 'stopped' || s.state === 'waiting for the script')) {
        for (const s of probe.info.sites) if (s.state !== 'stopped') Object.assign(s, { state: 'stopped', stopped: m.stopped });
        probe.info.state = 'stopped';
        probe.info.stopped = m.stopped;
        clearTimeout(probe.timer);
      }
      return;
    }
    mark('disarmed');
    // A line so hot that its budget ran out within moments of arming: each arming costs the function (and
    // whatever inlined it) its optimized code — measured ~15% of a 100M-runs/s loop at one arming a second —
    // so such a probe re-arms ever less often, up to every HOT_BACKOFF_MAX_MS; a line that is not hot resets it.
    const armedFor = Date.now() - (state.armedAt.get(m.probe) ?? 0);
    const backoff = armedFor < HOT_ARMED_MS ? Math.min(Math.max((state.backoff.get(m.probe) ?? 0) * 2, 2_000), HOT_BACKOFF_MAX_MS) : 0;
    state.backoff.set(m.probe, backoff);
    state.timers.set(
      m.probe,
      setTimeout(() => {
        state.timers.delete(m.probe);
        if (probe.info.state !== 'active' || state.session.closed) return;
        void (async () => {
          await thread.call(`probes.arm(${JSON.stringify(m.probe)})`);
          for (const t of this.targets(probe, state)) if (probe.info.state === 'active') await this.setBreakpoint(probe, thread, state, t);
        })().catch(() => undefined);
      }, Math.max(m.retryMs ?? 1000, backoff)).unref(),
    );
  }

  /** The probe's time is up: every thread records why, and the breakpoints go. */
  private async end(probe: Probe, reason: string): Promise<void> {
    if (probe.info.state !== 'active') return;
    probe.info.state = 'stopped';
    probe.info.stopped = reason;
    for (const [thread, state] of this.threads) {
      await thread.call(`probes.end(${JSON.stringify(probe.info.id)}, ${JSON.stringify(reason)})`).catch(() => undefined);
      await this.unset(probe.info.id, state);
    }
    for (const s of probe.info.sites) Object.assign(s, { state: 'stopped', stopped: reason });
  }

  /** Errors the agents reported for a probe's expressions (probe/error events), for the listing. */
  noteError(actor: string, payload: unknown): void {
    const p = payload as { probe?: string; expression?: string; error?: string } | null;
    const probe = p?.probe ? this.probes.get(p.probe) : undefined;
    if (probe && probe.info.errors.length < 20) probe.info.errors.push({ actor, expression: String(p!.expression), error: String(p!.error) });
  }
}

/**
 * The breakpoint condition: the agent's gate (rate, budget), then its hit, with a getter per name in scope
 * and per expression. Each getter is its own function so that one that throws (a `let` not yet initialised,
 * a variable V8 did not keep) costs only its own value. Always false: the thread never pauses.
 */
export function conditionText(id: string, condition: string | null, locals: string[], closure: string[], capture: string[]): string {
  const getters = (names: string[]) => `[${names.map((n) => `[${JSON.stringify(n)}, () => ${n}]`).join(', ')}]`;
  const exprs = `[${capture.map((e) => `[${JSON.stringify(e)}, () => (${e})]`).join(', ')}]`;
  const q = JSON.stringify(id);
  return `(() => { const ${P} = ${AGENT_REF}?.probes; return ${P} !== undefined && ${P}.gate(${q}) && ${P}.hit(${q}, this, ${condition ? `() => (${condition})` : 'null'}, ${getters(locals)}, ${getters(closure)}, ${exprs}); })()`;
}

/** `total {order.total}` → `total {0}`: the agent fills placeholders by position. */
function logTemplate(template: string, capture: string[]): string {
  return template.replace(/\{([^{}]+)\}/g, (whole, e: string) => {
    const i = capture.indexOf(e.trim());
    return i >= 0 ? `{${i}}` : whole;
  });
}

/** The column of the first non-blank character of a line (1-based), at or after `column`. */
function firstCode(source: string | undefined, line: number, column: number): number {
  if (!source) return column;
  const start = offsetOf(source, line, 1);
  const end = source.indexOf('\n', start);
  const text = source.slice(start, end < 0 ? undefined : end);
  const m = /\S/.exec(text.slice(column - 1));
  return m ? column + m.index : column;
}

function isDependency(url: string): boolean {
  return url.includes('/node_modules/');
}

/** `src/payments.ts`, `./src/payments.ts`, `payments.ts` or an absolute path, against a full path. */
function matches(path: string, wanted: string, cwd: string): boolean {
  if (isAbsolute(wanted)) return path === wanted;
  if (path === resolve(cwd, wanted)) return true;
  const tail = wanted.replace(/^\.\//, '');
  return path.endsWith(`/${tail}`);
}

/**
 * The scripts a probe's breakpoint applies to, as a regex of its own: V8 refuses a second breakpoint with the
 * same script selector, line and column ("Breakpoint at specified location already exists"), whatever its
 * condition, so a second probe on a line got none. An alternative that never matches (`(?!)`) names
 * the probe; V8 then evaluates both probes' conditions at each pass, and removing one leaves the other.
 */
function scriptSelector(probe: string, t: { url: string; urlRegex?: string }): string {
  return `${t.urlRegex ?? `^${escapeRegex(t.url)}$`}|(?!)${probe}`;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
