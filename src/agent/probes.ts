// trace_line inside a thread: the agent half of a probe. The tracer sets a breakpoint at the line whose
// condition calls gate() and hit() and answers false, so the thread never pauses. A breakpoint hit costs
// ~0.1 ms however cheap its condition (DESIGN.md), so a probe on a hot line must not stay armed: when its
// budget for the second is spent, gate() asks the tracer (through the control binding) to remove the
// breakpoint until the next token is due.
import { AGENT_GLOBAL, type ProbeLimits } from '../shared/protocol.js';
import { keyMatcher } from '../shared/redact.js';
import type { AgentCore } from './index.js';
import type { PatchTable } from './patches.js';
import { serialize, type Json } from './serialize.js';

export interface ProbeConfig extends ProbeLimits {
  id: string;
  /** The original file and line, for the hit record. */
  file: string;
  line: number;
  /** Logpoint template: `{0}` stands for the value of the first capture expression. */
  log?: string;
  /** Name of the binding that asks the tracer to disarm the probe. */
  control: string;
}

interface Probe {
  c: ProbeConfig;
  tokens: number;
  refilled: number;
  evals: number;
  window: number;
  hits: number;
  end: number;
  disarmed: boolean;
  stopped?: string;
  failed: Record<string, string>;
}

/** Bounds of a probe's values, Datadog's: depth 3, 100 items, 255 characters per string. */
const LIMITS = { maxDepth: 3, maxItems: 100, maxKeys: 100, maxString: 255, maxNodes: 1000 };

type Getter = [string, () => unknown];

export class Probes {
  private readonly probes = new Map<string, Probe>();
  private global = { tokens: 0, refilled: 0 };
  /** Breakpoint conditions that ran (tests check that none runs once a probe is removed). */
  gates = 0;
  private readonly redact: (key: string) => boolean;

  constructor(
    private readonly core: AgentCore,
    patches: PatchTable,
  ) {
    this.redact = keyMatcher(core.config.redact);
    core.guard(() => this.reachFromContexts(patches));
  }

  /**
   * A breakpoint condition finds the agent on the global of the code it stops in (AGENT_REF): code a vm
   * context runs (jest runs each test file's modules in one) has that context's global, where the agent is
   * not. Each context created from now on gets it too, under the same symbol (removed on detach); one made
   * before cannot be reached (the tracer's answer says so).
   */
  private reachFromContexts(patches: PatchTable): void {
    const key = Symbol.for(AGENT_GLOBAL);
    const core = this.core;
    // Contexts a program made, each held weakly: the dead ones are dropped as the list doubles.
    let contexts: WeakRef<object>[] = [];
    let prune = 64;
    const vm = core.builtin('vm') as { createContext: (...a: unknown[]) => unknown };
    patches.patch(vm, 'createContext', (original) =>
      function (this: unknown, ...args: unknown[]) {
        const context = original.apply(this, args);
        if (patches.active && context !== null && typeof context === 'object' && !Object.hasOwn(context, key)) {
          core.guard(() => {
            Object.defineProperty(context, key, { value: core, configurable: true, enumerable: false, writable: false });
            contexts.push(new WeakRef(context));
            if (contexts.length >= prune) {
              contexts = contexts.filter((ref) => ref.deref() !== undefined);
              prune = Math.max(64, contexts.length * 2);
            }
          });
        }
        return context;
      },
    );
    patches.add(() => {
      for (const ref of contexts.splice(0)) {
        const context = ref.deref() as Record<symbol, unknown> | undefined;
        if (context && Object.getOwnPropertyDescriptor(context, key)?.value === core) delete context[key];
      }
    });
  }

  install(c: ProbeConfig): void {
    const now = this.core.nowNs();
    this.probes.set(c.id, { c, tokens: c.burst, refilled: now, evals: 0, window: now, hits: 0, end: now + c.durationMs * 1e6, disarmed: false, failed: {} });
    if (this.global.refilled === 0) this.global = { tokens: c.globalPerSecond, refilled: now };
    // The serializer's first run in a thread compiles it (over 15 ms in a fresh worker): done here, not
    // on the first hit's capture budget.
    try {
      this.capture({ a: [1, 'b', { c: null }], d: new Map([[1, new Set([2])]]), e: new Error('warm') });
      this.frames();
    } catch {
      // nothing to warm
    }
  }

  remove(id: string): void {
    this.probes.delete(id);
  }

  /** The tracer ended the probe (its duration ran out while no hit came to notice). */
  end(id: string, reason: string): void {
    const p = this.probes.get(id);
    if (p && p.stopped === undefined) this.stop(p, reason);
  }

  arm(id: string): void {
    const p = this.probes.get(id);
    if (p) p.disarmed = false;
  }

  /** First half of a breakpoint condition: may this hit be looked at? Cheap, and never throws. */
  gate(id: string): boolean {
    try {
      this.gates++;
      const p = this.probes.get(id);
      if (!p || p.stopped !== undefined || p.disarmed) return false;
      const now = this.core.nowNs();
      if (now > p.end) return this.stop(p, `reached its duration of ${p.c.durationMs} ms`);
      if (now - p.window > 1e9) {
        p.window = now;
        p.evals = 0;
      }
      if (++p.evals > p.c.evalsPerSecond) return this.disarm(p, p.window + 1e9 - now);
      p.tokens = Math.min(p.c.burst, p.tokens + ((now - p.refilled) / 1e9) * p.c.perSecond);
      p.refilled = now;
      const g = this.global;
      g.tokens = Math.min(p.c.globalPerSecond, g.tokens + ((now - g.refilled) / 1e9) * p.c.globalPerSecond);
      g.refilled = now;
      if (p.tokens < 1) return this.disarm(p, ((1 - p.tokens) / p.c.perSecond) * 1e9);
      if (g.tokens < 1) return this.disarm(p, ((1 - g.tokens) / p.c.globalPerSecond) * 1e9);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Second half: evaluates the condition and, when it holds, records the hit. Always false (never pause).
   * Every user expression runs inside a try: one that throws is reported, never propagated.
   */
  hit(id: string, self: unknown, condition: (() => unknown) | null, locals: Getter[], closure: Getter[], exprs: Getter[]): false {
    const p = this.probes.get(id);
    if (!p) return false;
    try {
      if (condition) {
        let holds: unknown;
        try {
          holds = condition();
        } catch (error) {
          this.failed(p, 'condition', error);
          return false;
        }
        if (!holds) return false;
      }
      p.tokens--;
      this.global.tokens--;
      p.hits++;
      const core = this.core;
      const t0 = core.nowNs();
      const deadline = t0 + p.c.budgetMs * 1e6;
      let cut = false;
      const take = (getters: Getter[], report: boolean): Record<string, Json> => {
        const out: Record<string, Json> = {};
        for (const [name, get] of getters) {
          if (core.nowNs() > deadline) {
            out[name] = { $t: 'cut' };
            cut = true;
            continue;
          }
          try {
            out[name] = this.redact(name) ? '[redacted]' : this.capture(get());
          } catch (error) {
            // A local in its temporal dead zone, or one V8 did not keep for this frame: left out.
            if (report) this.failed(p, name, error);
          }
        }
        return out;
      };
      const values = take(exprs, true);
      const payload: Record<string, unknown> = {
        probe: id,
        file: p.c.file,
        line: p.c.line,
        locals: take(locals, false),
        closure: take(closure, false),
        this: self === undefined || self === globalThis ? null : this.capture(self),
        values,
        stack: this.frames(),
      };
      if (p.c.log !== undefined) payload.message = p.c.log.replace(/\{(\d+)\}/g, (_, i: string) => text(values[exprs[Number(i)]?.[0] ?? ''] ?? null));
      const errors = Object.keys(p.failed).length ? p.failed : undefined;
      if (errors) payload.errors = errors;
      if (cut) payload.budget_exceeded = true;
      payload.capture_us = Math.round((core.nowNs() - t0) / 1e3);
      core.emit('probe', 'hit', core.config.actor, payload);
      if (p.hits >= p.c.maxHits) this.stop(p, `reached max_hits ${p.c.maxHits}`);
    } catch {
      // never into the target
    }
    return false;
  }

  private capture(value: unknown): Json {
    return serialize(value, { ...LIMITS, isProxy: this.core.isProxy, redact: this.redact });
  }

  /** The stack of the probed line, as V8's structured call sites: the host maps them to the source. */
  private frames(): unknown[] {
    const E = Error as unknown as { prepareStackTrace?: unknown; stackTraceLimit: number; captureStackTrace(o: object, fn?: unknown): void };
    const own = Object.getOwnPropertyDescriptor(E, 'prepareStackTrace');
    const limit = E.stackTraceLimit;
    const holder: { stack?: unknown } = {};
    let stack: unknown;
    try {
      // Our own formatter, for this one capture: the app's (or source-map-support's) never runs.
      E.prepareStackTrace = (_: unknown, sites: unknown[]) => sites;
      E.stackTraceLimit = 16;
      E.captureStackTrace(holder, this.hit);
      // Formatted on first read, by whichever formatter is installed then: read while ours is.
      stack = holder.stack;
    } finally {
      if (own) Object.defineProperty(E, 'prepareStackTrace', own);
      else delete E.prepareStackTrace;
      E.stackTraceLimit = limit;
    }
    const sites = (Array.isArray(stack) ? stack : []) as { getScriptNameOrSourceURL(): string | undefined; getFunctionName(): string | null; getLineNumber(): number | null; getColumnNumber(): number | null; isEval(): boolean }[];
    const out: unknown[] = [];
    for (const s of sites) {
      // The agent's own frames carry its sourceURL (nodescope-agent.js): the host leaves them out.
      const file = s.getScriptNameOrSourceURL();
      // The breakpoint condition's own frames (evaluated code) sit above the probed line.
      if (out.length === 0 && (!file || s.isEval())) continue;
      out.push([s.getFunctionName() ?? '', file ?? '', s.getLineNumber(), s.getColumnNumber()]);
      if (out.length === 12) break;
    }
    return out;
  }

  private failed(p: Probe, what: string, error: unknown): void {
    if (p.failed[what] !== undefined || Object.keys(p.failed).length >= 8) return;
    const e = this.capture(error) as { class?: string; message?: string } | null;
    const message = e && typeof e === 'object' && 'message' in e ? `${e.class}: ${e.message}` : String(text(e));
    p.failed[what] = plainly(message);
    this.core.emit('probe', 'error', this.core.config.actor, { probe: p.c.id, expression: what, error: p.failed[what] });
  }

  private disarm(p: Probe, retryNs: number): false {
    p.disarmed = true;
    this.tell(p, { probe: p.c.id, retryMs: Math.max(1, Math.ceil(retryNs / 1e6)) });
    return false;
  }

  private stop(p: Probe, reason: string): false {
    p.stopped = reason;
    this.core.emit('agent', 'trace_stopped', this.core.config.actor, { trace: `probe ${p.c.id}`, probe: p.c.id, reason, calls: p.hits });
    this.tell(p, { probe: p.c.id, stopped: reason });
    return false;
  }

  private tell(p: Probe, message: unknown): void {
    const binding = (globalThis as Record<string, unknown>)[p.c.control];
    if (typeof binding === 'function') binding(JSON.stringify(message));
  }
}

/**
 * A name the probed line cannot read, said as a person would: a let, const or class whose line has not run
 * (its temporal dead zone; V8 says "not defined" when a closure holds it), or an outer variable the function
 * does not use, which V8 does not keep for it.
 */
function plainly(message: string): string {
  if (/^ReferenceError: Cannot access '.*' before initialization$/.test(message)) return 'not declared yet: its let, const or class line has not run';
  const m = /^ReferenceError: (.+) is not defined$/.exec(message);
  return m ? `${m[1]} is not defined at this line: declared further down, misspelt, or an outer variable this function does not use (V8 keeps only those)` : message;
}

function text(v: Json): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
