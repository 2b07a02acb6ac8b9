// Wrapping functions to record calls: the machinery shared by module tracing and tracked objects.
// Hot path: one call id, two clock reads, two bounded captures and two queue pushes per call; the
// wrapper falls through to the original at the cost of one check when tracing is off or stopped.
import type { AgentCore, Later } from './index.js';
import { isSecretKey, REDACTED } from '../shared/redact.js';
import { withoutOwnFrames } from './stacks.js';
import { callCompleteHead, TIMING_BUCKETS, timingBucket, TIMING_EXACT_CALLS, TIMING_SAMPLE_EVERY, type TimingSums, type TimingSummary } from '../shared/protocol.js';
import { asciiBytes, DEFAULT_LIMITS, isPlainList, isPlainPrimitive, MAX_NUMBER_BYTES, putNull, putNumber, putScalar, writePlainList, writePrimitive, type TextBytes } from './serialize.js';

type Fn = (...args: unknown[]) => unknown;

// Taken when the agent loads: a target that replaces Promise.prototype.then later does not get it called by
// the wrapper (only by its own code, as without us).
const promiseThen = Function.prototype.call.bind(Promise.prototype.then) as <T>(p: Promise<T>, onFulfilled: (v: T) => unknown, onRejected: (e: unknown) => unknown) => Promise<unknown>;
const functionToString = Function.prototype.call.bind(Function.prototype.toString) as (fn: unknown) => string;
const gopd = Object.getOwnPropertyDescriptor;
const isArray = Array.isArray;
/** Strings longer than this are captured cut, by the serializer (as core.capture does). */
const MAX_STRING = DEFAULT_LIMITS.maxString;

/**
 * The function an instrumented body belongs to, for its parameter names: `arguments.callee`, an own data
 * property in sloppy-mode functions only (strict mode makes it a throwing accessor, never called here;
 * arrows pass an array).
 */
function calleeOf(args: ArrayLike<unknown>): unknown {
  try {
    const d = gopd(args, 'callee');
    return d !== undefined && 'value' in d ? d.value : undefined;
  } catch {
    return undefined;
  }
}

export interface CallSite {
  module: string;
  fn: string;
  /** Who the call is recorded under: the tracked object for its methods, else the thread. Undefined: don't record. */
  actorOf(thisArg: unknown): string | undefined;
  /** Still recording? (a trace's limits may have stopped it) */
  active(): boolean;
  /** Called after the call settled (returned, threw, or its promise settled). */
  after?(thisArg: unknown, callId: string, args: unknown[]): void;
  /** Wire number of this function, once announced to the tracer (an `agent/site` record). */
  sid?: number;
  /** Positions of parameters with secret names (`login(user, password)`); from this one on for a rest parameter. */
  secret?: { at: number[]; restFrom: number };
  /** Timing only: the function's slot in the thread's Timings; no event per call, no argument captured. */
  timing?: number;
}

export class Calls {
  private seq = 0;
  private sites = 0;
  /** The call in progress in this thread (synchronous nesting only: async work loses its parent). */
  private current: number | null = null;

  private readonly isAsyncFunction: (fn: unknown) => boolean;
  readonly timings: Timings;

  constructor(private readonly core: AgentCore) {
    this.isAsyncFunction = core.builtin('util').types.isAsyncFunction;
    this.timings = new Timings(core);
  }

  wrap(original: Fn, site: CallSite): Fn {
    if (site.timing !== undefined) return this.wrapTimed(original, site, site.timing);
    const calls = this;
    if (site.secret === undefined) site.secret = secretParams(original, this.core);
    // No closure is created per call: the wrapper is the only function on the hot path besides the original.
    const wrapper = function (this: unknown, ...args: unknown[]): unknown {
      const actor = site.actorOf(this);
      if (actor === undefined || !site.active()) return new.target ? Reflect.construct(original, args, new.target) : original.apply(this, args);
      const id = ++calls.seq;
      const parent = calls.current;
      calls.current = id;
      // Arguments are captured before the call can change them; the event waits until the call is over.
      const captured = calls.captureArgs(args, site);
      const t0 = calls.core.nowNs();
      let result: unknown;
      try {
        result = new.target ? Reflect.construct(original, args, new.target) : original.apply(this, args);
      } catch (error) {
        calls.current = parent;
        calls.complete(site, actor, captured, parent, 'throw', error, t0, id, this, args);
        withoutOwnFrames(error, calls.core);
        throw error;
      }
      calls.current = parent;
      // isPromise is a brand check that never throws and runs no trap (src/agent/index.ts).
      if (calls.core.isPromise(result)) return calls.settle(result as Promise<unknown>, site, actor, captured, parent, t0, id, this, args);
      calls.complete(site, actor, captured, parent, 'return', result, t0, id, this, args);
      return result;
    };
    Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
    Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true });
    return wrapper;
  }

  /**
   * Timing only: a few typed-array writes per call, two clock reads on the calls Timings.begin picks, no
   * allocation (`arguments` passed straight to apply is not materialized), no event: Timings sends the sums.
   */
  private wrapTimed(original: Fn, site: CallSite, slot: number): Fn {
    const timings = this.timings;
    const core = this.core;
    const wrapper = function (this: unknown): unknown {
      // eslint-disable-next-line prefer-rest-params
      const args = arguments as unknown as unknown[];
      if (!site.active()) return new.target ? Reflect.construct(original, args, new.target) : original.apply(this, args);
      const t0 = timings.begin(slot);
      let result: unknown;
      try {
        result = new.target ? Reflect.construct(original, args, new.target) : original.apply(this, args);
      } catch (error) {
        timings.add(slot, t0, 1);
        withoutOwnFrames(error, core);
        throw error;
      }
      if (core.isPromise(result)) return timings.settle(result as Promise<unknown>, slot, t0);
      timings.add(slot, t0, 0);
      return result;
    };
    Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
    Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true });
    return wrapper;
  }

  /**
   * The call hook of functions whose source the tracer instrumented (src/trace/instrument.ts): `body` runs
   * the original body. Same record as a wrapper's; `args` is the function's own `arguments`.
   */
  around(site: CallSite, thisArg: unknown, args: ArrayLike<unknown>, body: () => unknown): unknown {
    // Small, so V8 inlines it with the path taken into the call hook (--trace-turbo-inlining shows it for timing
    // only; the gain was within the noise of the functions bench). The instrumented function itself still makes
    // the body's closure and `arguments` each call: the hook is not inlined into it.
    return site.timing !== undefined ? this.aroundTimed(site, site.timing, body) : this.aroundRecorded(site, thisArg, args, body);
  }

  private aroundRecorded(site: CallSite, thisArg: unknown, args: ArrayLike<unknown>, body: () => unknown): unknown {
    const actor = site.actorOf(thisArg);
    if (actor === undefined || !site.active()) return body();
    const id = ++this.seq;
    const parent = this.current;
    this.current = id;
    // An arrow's parameters come as an array made for this call; `arguments` is copied (in sloppy mode it moves
    // with the parameters: the body could change what was passed), element by element: Array.prototype.slice
    // through a bound call was 4–5 % of a recorded call's time in its profile.
    const list = isArray(args) ? args : copyOf(args);
    if (site.secret === undefined) site.secret = secretParams(calleeOf(args), this.core);
    const captured = this.captureArgs(list, site);
    const t0 = this.core.nowNs();
    let result: unknown;
    try {
      result = body();
    } catch (error) {
      this.current = parent;
      this.complete(site, actor, captured, parent, 'throw', error, t0, id, thisArg, list);
      throw error;
    }
    this.current = parent;
    if (this.core.isPromise(result)) {
      // The body of an async function: the function itself is async too and adopts what we return, so the
      // caller's promise is the function's own. Handing back the body's promise, observed on the side, costs
      // no second forwarding promise (a `then` getter on the value runs once for the adoption, not twice).
      if (this.isAsyncFunction(body)) return this.observe(result as Promise<unknown>, site, actor, captured, parent, t0, id, thisArg, list);
      return this.settle(result as Promise<unknown>, site, actor, captured, parent, t0, id, thisArg, list);
    }
    this.complete(site, actor, captured, parent, 'return', result, t0, id, thisArg, list);
    return result;
  }

  private aroundTimed(site: CallSite, slot: number, body: () => unknown): unknown {
    if (!site.active()) return body();
    const timings = this.timings;
    const t0 = timings.begin(slot);
    let result: unknown;
    try {
      result = body();
    } catch (error) {
      timings.add(slot, t0, 1);
      throw error;
    }
    if (this.core.isPromise(result)) {
      // As in around(): the body of an async function hands back its own promise, watched on the side.
      if (this.isAsyncFunction(body)) {
        timings.watch(result as Promise<unknown>, slot, t0);
        return result;
      }
      return timings.settle(result as Promise<unknown>, slot, t0);
    }
    timings.add(slot, t0, 0);
    return result;
  }

  /** Announces a function to the tracer the first time it completes a call (a critical record: never dropped). */
  private siteId(site: CallSite): number {
    if (site.sid === undefined) {
      site.sid = ++this.sites;
      this.core.emit('agent', 'site', this.core.config.actor, { sid: site.sid, module: site.module, fn: site.fn });
    }
    return site.sid;
  }

  captureArgs(args: unknown[], site?: CallSite): unknown {
    try {
      const list = site?.secret === undefined || !hasSecrets(site.secret, args.length) ? args : masked(args, site.secret);
      // The list is ours (rest parameters, a copy of `arguments`, a masked copy), never a proxy: no check for one.
      return isPlainList(list, MAX_STRING) ? list : this.core.capture(list);
    } catch {
      return null;
    }
  }

  /**
   * A synchronous call is one event, `call/complete`, sent when it is over: the tracer writes it as the
   * call/call and call/return (or call/throw) rows it stands for (src/trace/ingest.ts). A call the process dies
   * inside is not recorded; the crash is. Call ids travel as numbers; the tracer spells them `<thread>:c<n>`.
   * The event is written here, positional and with the function named by number (every byte is paid again on
   * the way), straight into the bytes of its batch (writeCallComplete): arguments and result of plain
   * primitives without the serializer or JSON.stringify's walk, numbers digit by digit, no string per piece.
   * One clock read stamps the event and ends its duration.
   */
  private complete(site: CallSite, actor: string, args: unknown, parent: number | null, outcome: 'return' | 'throw', value: unknown, t0: number, id: number, thisArg: unknown, rawArgs: unknown[]): void {
    const core = this.core;
    try {
      if (core.keeps('call')) {
        const end = core.nowNs();
        // Whatever may emit or fail comes before the event is begun: nothing may be emitted while it is written.
        const sid = this.siteId(site);
        const corr = core.correlationId();
        // captureArgs hands back the very list it was given only when the list is plain: no second look at it.
        const argsJson = args === rawArgs || (isArray(args) && isPlainList(args, MAX_STRING)) ? undefined : (JSON.stringify(args) ?? 'null');
        const plainValue = isPlainPrimitive(value, MAX_STRING);
        const valueJson = plainValue ? undefined : (JSON.stringify(core.capture(value)) ?? 'null');
        let complete = false;
        try {
          writeCallComplete(core.beginEvent(), end, this.headOf(actor), corr, id, sid, args as unknown[], argsJson, parent, outcome === 'return' ? 0 : 1, value, valueJson, end - t0);
          complete = true;
        } finally {
          core.endEvent(complete);
        }
      }
      site.after?.(thisArg, `${core.config.actor}:c${id}`, afterArgs(site, rawArgs));
    } catch {
      // never into the target
    }
  }

  private lastActor = '';
  private lastHead: string | Uint8Array = '';

  /** The constant part of an actor's call/complete events, as bytes when ASCII: the same actor comes call after call. */
  private headOf(actor: string): string | Uint8Array {
    if (actor !== this.lastActor) {
      this.lastActor = actor;
      const head = callCompleteHead(actor);
      this.lastHead = asciiBytes(head) ?? head;
    }
    return this.lastHead;
  }

  /**
   * An async call gets its call/call at once (it may run for long, and a question asked meanwhile should see
   * it running) and its call/return or call/throw when the promise settles. The caller gets a promise that
   * settles like the original, one tick later: attaching handlers to the original instead would mark it
   * handled and silence an unhandled rejection the app would otherwise have had.
   */
  private settle(result: Promise<unknown>, site: CallSite, actor: string, args: unknown, parent: number | null, t0: number, id: number, thisArg: unknown, rawArgs: unknown[]): Promise<unknown> {
    const end = this.started(site, actor, args, parent, t0, id, thisArg, rawArgs);
    // The forwarding promise is resolved with the value, and resolving looks up its `then`: a `then` getter
    // (or a proxy's get trap) on the value runs once more than without us. V8 has no way to fulfil a second
    // promise with an object without that lookup, and handing back the original promise instead would mark
    // it handled (see above), which is worse: it silences a crash.
    return promiseThen(
      result,
      (value) => {
        end('return', value);
        return value;
      },
      (error) => {
        end('throw', error);
        // Thrown before the function's first await, its stack has the wrapper's frame (as a sync throw's does).
        withoutOwnFrames(error, this.core);
        throw error;
      },
    );
  }

  /** For the body of an instrumented async function (see around): watches the promise, returns it as is. */
  private observe(result: Promise<unknown>, site: CallSite, actor: string, args: unknown, parent: number | null, t0: number, id: number, thisArg: unknown, rawArgs: unknown[]): Promise<unknown> {
    const end = this.started(site, actor, args, parent, t0, id, thisArg, rawArgs);
    // Settles fulfilled either way: this side promise is nobody's, and must not become an unhandled rejection.
    promiseThen(
      result,
      (value) => end('return', value),
      (error) => {
        end('throw', error);
        // Before the program's own handlers (attached after this one): the call hook's frames out of its stack.
        withoutOwnFrames(error, this.core);
      },
    );
    return result;
  }

  /** Records the call/call of an async call now; the returned function records its end. */
  private started(site: CallSite, actor: string, args: unknown, parent: number | null, t0: number, id: number, thisArg: unknown, rawArgs: unknown[]): (subtype: 'return' | 'throw', value: unknown) => void {
    const core = this.core;
    // Stamped with its start: the body's synchronous part (and the calls it made) ran before this.
    core.guard(() => core.emit('call', 'call', actor, { module: site.module, fn: site.fn, args, parent }, { ref: id, ts: t0 }));
    return (subtype, value) =>
      core.guard(() => {
        const key = subtype === 'return' ? 'result' : 'error';
        core.emit('call', subtype, actor, { module: site.module, fn: site.fn, [key]: core.capture(value), duration_ns: core.nowNs() - t0, async: true }, { ref: id });
        site.after?.(thisArg, `${core.config.actor}:c${id}`, afterArgs(site, rawArgs));
      });
  }
}

const NULL = asciiBytes('null')!;

/**
 * Room for what an event holds besides its head and its strings, reserved once: six numbers (time stamp, id,
 * site, parent, value, duration) and up to 8 arguments of at most MAX_NUMBER_BYTES each, and its 30 bytes of
 * punctuation.
 */
const EVENT_ROOM = 14 * MAX_NUMBER_BYTES + 32;

/**
 * A `call/complete` event as encodeCallComplete (src/shared/protocol.ts) spells it, written into its batch's
 * bytes: `argsJson` / `valueJson` when the arguments / the value are not plain (isPlainList, isPlainPrimitive).
 * test/unit/serialize.test.ts holds the two to the same text.
 *
 * Room is reserved once and the bytes stored at a local position: the head copied (TypedArray#set: 24–26 ns
 * for its 37 bytes, 60–100 ns in a loop), the short constants and the digits stored one by one, and numbers,
 * booleans and null among the arguments and the value written in place; only a string (JSON-escaped, maybe
 * not ASCII), a head that is not ASCII or a correlation id goes through TextBytes' text writer. Written piece
 * by piece through TextBytes (a room check and a copy per piece): 310–430 ns an event, 180–200 this way
 * (Node 20, load ~10, a microbenchmark of the writer alone).
 */
export function writeCallComplete(out: TextBytes, ts: number, head: string | Uint8Array, corr: string | null, id: number, sid: number, args: unknown[], argsJson: string | undefined, parent: number | null, threw: 0 | 1, value: unknown, valueJson: string | undefined, durationNs: number): void {
  let buf = out.reserve(EVENT_ROOM + head.length);
  let p = out.pos;
  buf[p++] = 91; // [
  p = putNumber(buf, p, ts);
  if (typeof head !== 'string' && corr === null) {
    buf.set(head, p);
    p = putNull(buf, p + head.length);
  } else {
    out.pos = p;
    if (typeof head === 'string') out.text(head);
    else out.raw(head);
    if (corr === null) out.raw(NULL);
    else out.text(JSON.stringify(corr));
    buf = out.reserve(EVENT_ROOM);
    p = out.pos;
  }
  buf[p++] = 44; // ,
  p = putNumber(buf, p, id);
  buf[p++] = 44; // ,null]\u0001[
  p = putNull(buf, p);
  buf[p++] = 93;
  buf[p++] = 1;
  buf[p++] = 91;
  p = putNumber(buf, p, sid);
  buf[p++] = 44;
  if (argsJson === undefined && !hasString(args)) {
    buf[p++] = 91;
    for (let i = 0; i < args.length; i++) {
      if (i > 0) buf[p++] = 44;
      p = putScalar(buf, p, args[i]);
    }
    buf[p++] = 93;
  } else {
    out.pos = p;
    if (argsJson === undefined) writePlainList(out, args);
    else out.text(argsJson);
    buf = out.reserve(EVENT_ROOM);
    p = out.pos;
  }
  buf[p++] = 44;
  p = parent === null ? putNull(buf, p) : putNumber(buf, p, parent);
  buf[p++] = 44;
  buf[p++] = threw === 0 ? 48 : 49;
  buf[p++] = 44;
  if (valueJson === undefined && typeof value !== 'string') p = putScalar(buf, p, value);
  else {
    out.pos = p;
    if (valueJson === undefined) writePrimitive(out, value);
    else out.text(valueJson);
    buf = out.reserve(EVENT_ROOM);
    p = out.pos;
  }
  buf[p++] = 44;
  p = putNumber(buf, p, durationNs);
  buf[p++] = 93; // ]
  out.pos = p;
}

function hasString(list: unknown[]): boolean {
  for (let i = 0; i < list.length; i++) if (typeof list[i] === 'string') return true;
  return false;
}

/** A copy of a function's own `arguments` (an exotic object of the engine's: reading it runs no target code). */
function copyOf(args: ArrayLike<unknown>): unknown[] {
  const list: unknown[] = [];
  for (let i = 0; i < args.length; i++) list.push(args[i]);
  return list;
}

function hasSecrets(secret: { at: number[]; restFrom: number }, n: number): boolean {
  return (secret.at.length > 0 && secret.at[0]! < n) || secret.restFrom < n;
}

/** A copy of the arguments with the secret ones replaced; the call itself gets the originals. */
function masked(args: unknown[], secret: { at: number[]; restFrom: number }): unknown[] {
  const out = args.slice();
  for (const i of secret.at) if (i < out.length) out[i] = REDACTED;
  for (let i = secret.restFrom; i < out.length; i++) out[i] = REDACTED;
  return out;
}

function afterArgs(site: CallSite, args: unknown[]): unknown[] {
  return site.secret === undefined || !hasSecrets(site.secret, args.length) ? args : masked(args, site.secret);
}

const NO_SECRETS = { at: [] as number[], restFrom: Infinity };

/**
 * Which parameters have secret names, read from the function's source once, when it is wrapped:
 * `function login(user, password)`, `(user, { token }) =>` (a pattern is left to the key test of the walker),
 * `async connect(url, apiKey = '')`, `(...secrets)`. Function.prototype.toString runs no target code.
 */
export function secretParams(fn: unknown, core?: { isProxy(v: unknown): boolean }): { at: number[]; restFrom: number } {
  try {
    if (typeof fn !== 'function' || core?.isProxy(fn)) return NO_SECRETS;
    const names = paramNames(functionToString(fn));
    const at: number[] = [];
    let restFrom = Infinity;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const rest = name.startsWith('...');
      if (!isSecretKey(rest ? name.slice(3) : name)) continue;
      if (rest) restFrom = i;
      else at.push(i);
    }
    return at.length === 0 && restFrom === Infinity ? NO_SECRETS : { at, restFrom };
  } catch {
    return NO_SECRETS;
  }
}

/** The simple parameter names of a function's source text, in order ('' for patterns). */
export function paramNames(src: string): string[] {
  // `x => …` and `async x => …`: one parameter without parentheses.
  const bare = /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(src);
  if (bare) return [bare[1]!];
  // A class's parameters are its constructor's.
  let i = src.startsWith('class') ? src.search(/\bconstructor\s*\(/) : 0;
  i = i < 0 ? -1 : src.indexOf('(', i);
  if (i < 0) return [];
  // Split at top-level commas; comments go first, and brackets in defaults are counted (strings are not:
  // a bracket inside a default string costs that function its secret positions, nothing more).
  const list = src.slice(i + 1).replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
  const names: string[] = [];
  let depth = 0;
  let start = 0;
  for (let j = 0; j < list.length; j++) {
    const c = list[j]!;
    if (c === '(' || c === '[' || c === '{') depth++;
    else if ((c === ')' || c === ']' || c === '}') && depth-- === 0) {
      if (names.length > 0 || /\S/.test(list.slice(start, j))) names.push(simpleName(list.slice(start, j)));
      break;
    } else if (c === ',' && depth === 0) {
      names.push(simpleName(list.slice(start, j)));
      start = j + 1;
    }
  }
  return names;
}

function simpleName(param: string): string {
  const m = /^\s*(\.\.\.)?\s*([A-Za-z_$][\w$]*)\s*(?:=|$)/.exec(param);
  return m ? `${m[1] ?? ''}${m[2]}` : '';
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
    this.windowStart = core.nowNs();
    this.endNs = this.windowStart + limits.durationMs * 1e6;
  }

  /** Calls counted so far (those past max_calls are not). */
  get count(): number {
    return Math.min(this.calls, this.limits.maxCalls);
  }

  /** Counts one call; false once the trace has stopped. The clock is read every 16th call only. */
  allow(): boolean {
    if (this.stopped !== undefined) return false;
    if (++this.calls > this.limits.maxCalls) return this.stop(`reached max_calls ${this.limits.maxCalls}`, 1);
    if (++this.inWindow > this.limits.maxPerSecond) {
      // Over the rate only if the calls came within one second of the window's start.
      if (this.core.nowNs() - this.windowStart <= 1e9) return this.stop(`exceeded max_rate ${this.limits.maxPerSecond}/s`, 1);
      this.windowStart = this.core.nowNs();
      this.inWindow = 1;
    }
    if ((this.calls & 15) === 0) {
      const now = this.core.nowNs();
      if (now > this.endNs) return this.stop(`reached its duration of ${this.limits.durationMs} ms`, 1);
      if (now - this.windowStart > 1e9) {
        this.windowStart = now;
        this.inWindow = 0;
      }
    }
    return true;
  }

  /** `refused`: the call that tripped a limit, counted already but not recorded. */
  stop(reason: string, refused = 0): false {
    this.stopped = reason;
    this.core.emit('agent', 'trace_stopped', this.core.config.actor, { trace: this.name, reason, calls: this.calls - refused });
    return false;
  }
}

/** How often a timing-only trace sends its sums while it has calls. */
const TIMING_SUMMARY_MS = 1_000;

/**
 * Timing-only traces (trace_module capture "timing"): per function, calls and errors (every call), and for
 * the calls timed (Timings.begin picks them) their count, total and max ns and a duration histogram
 * (src/shared/protocol.ts timingBucket), in typed arrays; one `agent/timing` event per module carries what
 * changed, each second while there are calls and whenever the tracer asks (flushNow, untrace, detach, exit),
 * so nothing counted is lost. The reader scales the timed calls' figures by calls / timed. An `agent` event:
 * never sampled away, never dropped for a flood of calls (a summary stands for many of them).
 */
export class Timings {
  private fns: { module: string; fn: string }[] = [];
  private calls = new Float64Array(8);
  private errors = new Float64Array(8);
  private timed = new Float64Array(8);
  private totalNs = new Float64Array(8);
  private maxNs = new Float64Array(8);
  private hist = new Uint32Array(8 * TIMING_BUCKETS);
  /** Calls left until the next timed one, per function (≤ 1: the next call is timed). */
  private skip = new Float64Array(8);
  /** 1 once a function has returned a promise: timed on every call (see settle). */
  private settles = new Uint8Array(8);
  /** xorshift32 state for the gaps between timed calls. */
  private seed = 0x2545f491;
  /** When each module's sums were last sent (ns): the start of the period the next summary covers. */
  private readonly since = new Map<string, number>();
  private timer: Later | undefined;
  private closed = false;
  /** ms, fractional: performance.now, the cheaper clock (~50 ns a read on Node 20 and 24). */
  private readonly now: () => number;

  constructor(private readonly core: AgentCore) {
    const { performance } = core.builtin('perf_hooks');
    this.now = performance.now.bind(performance);
  }

  /** A slot for one traced function. */
  slot(module: string, fn: string): number {
    const i = this.fns.length;
    if (i === this.calls.length) this.grow(i * 2);
    this.fns.push({ module, fn });
    if (!this.since.has(module)) this.since.set(module, this.core.nowNs());
    this.start();
    return i;
  }

  /**
   * At a call's start: the clock when this call is to be timed, else -1 (counted only: one decrement and one
   * comparison). Past TIMING_EXACT_CALLS the gap to the next timed call is drawn in [1, 2·TIMING_SAMPLE_EVERY
   * − 1], mean TIMING_SAMPLE_EVERY: a fixed 1 in N would alias with the caller's own period (a loop whose every
   * other call is the slow one: timed always or never).
   */
  begin(slot: number): number {
    if (--this.skip[slot]! > 0) return -1;
    this.skip[slot] = this.calls[slot]! < TIMING_EXACT_CALLS || this.settles[slot] === 1 ? 1 : this.gap();
    return this.now();
  }

  private gap(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x;
    return 1 + ((x >>> 0) % (2 * TIMING_SAMPLE_EVERY - 1));
  }

  add(slot: number, t0: number, threw: 0 | 1): void {
    if (t0 >= 0) {
      const ns = (this.now() - t0) * 1e6;
      // Every call before the first write: a host call (an interrupt, at a function entry) lands before them, never between.
      const bucket = slot * TIMING_BUCKETS + timingBucket(ns);
      this.timed[slot]!++;
      this.totalNs[slot]! += ns;
      if (ns > this.maxNs[slot]!) this.maxNs[slot] = ns;
      this.hist[bucket]!++;
    }
    this.calls[slot]!++;
    this.errors[slot]! += threw;
  }

  /**
   * A wrapper's promise: the caller gets one that settles like it (see Calls.settle for why not the same).
   * Its function is timed on every call from now on: the settle path costs a few µs, the clock ~0.1.
   */
  settle(result: Promise<unknown>, slot: number, t0: number): Promise<unknown> {
    this.settles[slot] = 1;
    return promiseThen(
      result,
      (value) => {
        this.add(slot, t0, 0);
        return value;
      },
      (error) => {
        this.add(slot, t0, 1);
        withoutOwnFrames(error, this.core);
        throw error;
      },
    );
  }

  /** An instrumented async body's own promise, watched on the side (see Calls.observe). */
  watch(result: Promise<unknown>, slot: number, t0: number): void {
    this.settles[slot] = 1;
    promiseThen(
      result,
      () => this.add(slot, t0, 0),
      (error) => {
        this.add(slot, t0, 1);
        withoutOwnFrames(error, this.core);
      },
    );
  }

  /** Sends the sums of every module (or of one) that had calls since its last summary, and zeroes them. */
  flush(module?: string): void {
    if (this.fns.length > 0) this.start();
    const byModule = new Map<string, TimingSums[]>();
    for (let i = 0; i < this.fns.length; i++) {
      const n = this.calls[i]!;
      const site = this.fns[i]!;
      if (n === 0 || (module !== undefined && site.module !== module)) continue;
      const hist: Record<number, number> = {};
      const base = i * TIMING_BUCKETS;
      for (let b = 0; b < TIMING_BUCKETS; b++) if (this.hist[base + b]! > 0) hist[b] = this.hist[base + b]!;
      const fns = byModule.get(site.module) ?? [];
      byModule.set(site.module, fns);
      fns.push({ fn: site.fn, calls: n, errors: this.errors[i]!, timed: this.timed[i]!, total_ns: Math.round(this.totalNs[i]!), max_ns: Math.round(this.maxNs[i]!), hist });
      // The next summary's first calls are timed again.
      this.calls[i] = this.errors[i] = this.timed[i] = this.totalNs[i] = this.maxNs[i] = this.skip[i] = 0;
      this.hist.fill(0, base, base + TIMING_BUCKETS);
    }
    const now = this.core.nowNs();
    for (const [m, fns] of byModule) {
      const summary: TimingSummary = { module: m, since_ns: this.since.get(m) ?? now, fns };
      this.core.emit('agent', 'timing', this.core.config.actor, summary);
      this.since.set(m, now);
    }
  }

  /** Stops the summaries (detach): what is counted is sent first. */
  close(): void {
    this.flush();
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /**
   * The summaries' timer, unref'd. A worker paused before its bootstrap has no timers: then flushNow,
   * untrace and exit still send the sums.
   */
  private start(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = this.core.later(() => this.core.guard(() => this.flush()), TIMING_SUMMARY_MS, true).unref();
  }

  private grow(size: number): void {
    const bigger = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.calls = bigger(this.calls, size);
    this.errors = bigger(this.errors, size);
    this.timed = bigger(this.timed, size);
    this.totalNs = bigger(this.totalNs, size);
    this.maxNs = bigger(this.maxNs, size);
    this.skip = bigger(this.skip, size);
    this.settles = bigger(this.settles, size);
    this.hist = bigger(this.hist, size * TIMING_BUCKETS);
  }
}
