// Wrapping functions to record calls: the machinery shared by module tracing and tracked objects.
// Hot path: one call id, two clock reads, two bounded captures and two queue pushes per call; the
// wrapper falls through to the original at the cost of one check when tracing is off or stopped.
import type { AgentCore } from './index.js';

type Fn = (...args: unknown[]) => unknown;

export interface CallSite {
  module: string;
  fn: string;
  /** Who the call is recorded under: the tracked object for its methods, else the thread. Undefined: don't record. */
  actorOf(thisArg: unknown): string | undefined;
  /** Still recording? (a trace's limits may have stopped it) */
  active(): boolean;
  /** Called after the call settled (returned, threw, or its promise settled). */
  after?(thisArg: unknown, callId: string, args: unknown[]): void;
}

export class Calls {
  private seq = 0;
  /** The call in progress in this thread (synchronous nesting only: async work loses its parent). */
  private current: string | null = null;

  constructor(private readonly core: AgentCore) {}

  wrap(original: Fn, site: CallSite): Fn {
    const calls = this;
    const core = this.core;
    const wrapper = function (this: unknown, ...args: unknown[]): unknown {
      const actor = site.actorOf(this);
      if (actor === undefined || !site.active()) return new.target ? Reflect.construct(original, args, new.target) : original.apply(this, args);
      const id = `${core.config.actor}:c${++calls.seq}`;
      const parent = calls.current;
      calls.current = id;
      const t0 = core.nowNs();
      core.guard(() => core.emit('call', 'call', actor, { module: site.module, fn: site.fn, args: core.capture(args), parent }, { ref: id }));
      const done = (subtype: 'return' | 'throw', value: unknown, async: boolean) =>
        core.guard(() => {
          const key = subtype === 'return' ? 'result' : 'error';
          core.emit('call', subtype, actor, { module: site.module, fn: site.fn, [key]: core.capture(value), duration_ns: core.nowNs() - t0, async }, { ref: id });
          site.after?.(this, id, args);
        });
      let result: unknown;
      try {
        result = new.target ? Reflect.construct(original, args, new.target) : original.apply(this, args);
      } catch (error) {
        calls.current = parent;
        done('throw', error, false);
        throw error;
      }
      calls.current = parent;
      if (core.isPromise(result)) {
        // The caller gets a promise that settles like the original, one tick later. Attaching handlers to
        // the original instead would mark it handled and silence an unhandled rejection the app would
        // otherwise have had.
        return (result as Promise<unknown>).then(
          (value) => (done('return', value, true), value),
          (error) => {
            done('throw', error, true);
            throw error;
          },
        );
      }
      done('return', result, false);
      return result;
    };
    Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
    Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true });
    return wrapper;
  }
}

/** Per-trace limits (recon_trace style): a trace stops itself, with a recorded reason, when one trips. */
export interface TraceLimits {
  maxCalls: number;
  maxPerSecond: number;
  durationMs: number;
}

export class Limiter {
  private calls = 0;
  private windowStart = 0;
  private inWindow = 0;
  private readonly endNs: number;
  stopped: string | undefined;

  constructor(
    private readonly core: AgentCore,
    private readonly name: string,
    private readonly limits: TraceLimits,
  ) {
    this.endNs = core.nowNs() + limits.durationMs * 1e6;
  }

  /** Counts one call; false once the trace has stopped. */
  allow(): boolean {
    if (this.stopped !== undefined) return false;
    const now = this.core.nowNs();
    if (now - this.windowStart > 1e9) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (++this.calls > this.limits.maxCalls) return this.stop(`reached max_calls ${this.limits.maxCalls}`);
    if (++this.inWindow > this.limits.maxPerSecond) return this.stop(`exceeded max_rate ${this.limits.maxPerSecond}/s`);
    if (now > this.endNs) return this.stop(`reached its duration of ${this.limits.durationMs} ms`);
    return true;
  }

  stop(reason: string): false {
    this.stopped = reason;
    this.core.emit('agent', 'trace_stopped', this.core.config.actor, { trace: this.name, reason, calls: this.calls - 1 });
    return false;
  }
}
