// Entry point of the in-target agent. The tracer evaluates dist/agent.js (this file bundled as an IIFE) in
// each thread and calls `install(config, require)`. Nothing here may throw into user code: every hook body
// runs inside `guard`.
import { AGENT_GLOBAL, CATEGORIES, categoryOf, levelAllows, sampleKeeps, type AgentConfig, type Category, type Level, type WireEvent } from '../shared/protocol.js';
import { Channel } from './channel.js';
import { PatchTable } from './patches.js';
import { DEFAULT_LIMITS, isPlainList, isPlainPrimitive, serialize, type Json, type TextBytes } from './serialize.js';
import { Calls } from './calls.js';
import { consoleSource } from './console.js';
import { messageSource } from './messages.js';
import { Modules, type Mechanism, type ModuleReport, type ModuleSpec } from './modules.js';
import { Objects, type TrackResult } from './objects.js';
import { webSource, wsSource } from './web.js';
import { lifecycleSource, watchChild } from './lifecycle.js';
import { Probes } from './probes.js';
import { keyMatcher } from '../shared/redact.js';

type Builtins = { (name: string): any };

export interface EmitLinks {
  from?: string | null;
  to?: string | null;
  corr?: string | null;
  ref?: string | number | null;
  /** When it happened, if not now (an event held back and sent later keeps its own time). */
  ts?: number;
}

/** What sources see of the agent. */
export interface AgentCore {
  readonly config: AgentConfig;
  readonly pid: number;
  readonly isMainThread: boolean;
  /**
   * Whether the thread's bootstrap is done: the main thread, or a worker whose parentPort is set (held before
   * its first line, or still starting, a worker has none, and touching its process.stdout then aborts it).
   */
  bootstrapped(): boolean;
  builtin: Builtins;
  emit(type: string, subtype: string, actor: string, payload: unknown, links?: EmitLinks): void;
  /**
   * For a source that encodes its own events (a hot path's own encoder, in encodeEvent's format): whether the
   * next event of a category is recorded (level and sampling, counted as emit counts them, and room in the
   * queue, else a drop is counted: a dropped event is never encoded), then `pushEncoded` it at once; and the
   * correlation id emit would give it.
   */
  keeps(category: Category): boolean;
  correlationId(): string | null;
  pushEncoded(text: string): void;
  /** Or writes it in place: `beginEvent` after `keeps`, then `endEvent(true)`, or `endEvent(false)` if it was not completed. */
  beginEvent(): TextBytes;
  endEvent(complete: boolean): void;
  capture(value: unknown): Json;
  /** Actor id of another thread of this process. */
  threadActor(threadId: number): string;
  nowNs(): number;
  /** Sets where events take their correlation id from when none is given (the web source's request). */
  setCorrelation(source: (() => string | null) | undefined): void;
  /** Incoming requests this thread began serving, and those not answered yet (kept by the web source). */
  readonly served: { started: number; open: number };
  /** Sets what a source holds back, emitted when everything must go now (the tracer asks, the thread exits). */
  setHeldBack(emitHeld: (() => void) | undefined): void;
  /** A genuine Promise (checked without touching a Proxy's traps). */
  isPromise(value: unknown): boolean;
  isProxy(value: unknown): boolean;
  /**
   * Runs `fn` as agent code (see `enter`), swallowing anything it throws: hooks must never disturb the
   * target.
   */
  guard(fn: () => void): void;
  /**
   * Agent code starts / ends: a host call that arrives in between (an interrupt, see Agent.host) waits for
   * the outermost `leave`. Every entry point of the agent's own code that touches what a host call touches
   * is counted: `guard` (sources' hooks, timers), emit, pushEncoded and the channel's socket callbacks.
   */
  enter(): void;
  leave(): void;
  /** A timer for a source: set and cleared at a microtask checkpoint, never inside Node's timer loop (see `later`). */
  later(fn: () => void, ms: number, repeat?: boolean): Later;
  /** The thread is about to end (exit, fatal exception, abort): everything queued is sent now. */
  markExiting(): void;
}

export interface Source {
  category: Category;
  enable(core: AgentCore, patches: PatchTable): void;
}

const SOURCES: Source[] = [lifecycleSource, messageSource, consoleSource, webSource, wsSource];

const isArray = Array.isArray;
const parse = JSON.parse;
const noticeTermination = (_key: string, value: unknown) => value;
const getProto = Object.getPrototypeOf;
const ArrayProto = Array.prototype;

class Agent implements AgentCore {
  readonly pid: number;
  readonly isMainThread: boolean;
  readonly channel: Channel;
  private readonly patches = new PatchTable();
  /** performance.now() plus this offset is CLOCK_MONOTONIC in ns: ~4× cheaper per read than hrtime.bigint(). */
  private readonly clockOffset: number;
  private readonly perfNow: () => number;
  /** Per category, whether the level records it: checked on every event, so kept as a plain lookup. */
  private allowed: Record<string, boolean> = {};
  private readonly maxString: number;
  readonly isProxy: (v: unknown) => boolean;
  private redact: (key: string) => boolean;
  private readonly promiseBrand: (v: unknown) => boolean;
  private sampled = 0;
  private correlation: (() => string | null) | undefined;
  readonly served = { started: 0, open: 0 };
  private heldBack: (() => void) | undefined;
  private readonly enabled = new Set<Source>();
  private readonly modules: Modules;
  /** Event-loop delay histogram (perf_hooks), sampled by libuv while the agent is installed. */
  private loopDelay: { count: number; min: number; max: number; mean: number; percentile(p: number): number; disable(): void } | undefined;
  private readonly objects: Objects;
  /** Wall-clock ms of the host's last word (install, ack, any call): the watchdog's measure of silence. */
  private heardAt = Date.now();
  // `declare`: no initializer in the bundle, which must stay under the worker message limit.
  declare private watchdog: unknown;
  declare private gone: boolean;
  /** trace_line's probes: their breakpoint conditions call `probes.gate` and `probes.hit`. */
  readonly probes: Probes;

  constructor(
    public config: AgentConfig,
    public builtin: Builtins,
  ) {
    const proc = builtin('process');
    // From the actor id: a worker paused before its bootstrap finished has no process.pid yet.
    this.pid = Number(config.actor.split('/')[0]);
    this.isMainThread = builtin('worker_threads').isMainThread;
    const { performance } = builtin('perf_hooks');
    this.perfNow = performance.now.bind(performance);
    this.clockOffset = clockOffset(proc.hrtime.bigint, this.perfNow);
    this.maxString = DEFAULT_LIMITS.maxString;
    const types = builtin('util').types;
    this.isProxy = types.isProxy;
    this.promiseBrand = types.isPromise;
    this.redact = keyMatcher(config.redact);
    this.channel = new Channel(
      config,
      { nowNs: () => this.nowNs() },
      globalThis[config.binding as keyof typeof globalThis] as (text: string) => void,
      (fn, ms) => this.later(fn, ms),
      (t) => (t as Later).cancel(),
      {
        net: builtin('net'),
        hostAlive: () => hostAlive(builtin, config.data?.hostPid),
        // The data socket closed and the host process is gone: clean up now, not at the watchdog's next look.
        onHostGone: () => this.guard(() => this.hostGone()),
        run: (fn) => this.guard(fn),
        flushRequested: (id) => {
          if (id !== 0) this.bySocket.add(id);
          this.host(id, (a) => a.flushNow());
        },
        bytes: builtin('buffer').Buffer,
      },
    );
    // Before the sources: a message's own send event, recorded by their wrapper around ours, goes with it.
    if (!this.isMainThread) this.flushBeforeHandover();
    this.enableSources();
    const calls = new Calls(this);
    this.modules = new Modules(this, this.patches, calls);
    this.objects = new Objects(this, this.patches, calls);
    this.probes = new Probes(this, this.patches);
    // A module already loaded is left to the tracer, which instruments it in place where it can.
    for (const spec of config.modules ?? []) this.traceModule({ ...spec, inPlace: true });
    this.guard(() => {
      const histogram = builtin('perf_hooks').monitorEventLoopDelay({ resolution: 20 });
      histogram.enable();
      this.loopDelay = histogram;
      this.patches.add(() => histogram.disable());
    });
    this.watch();
    // Sent before install() returns, so the tracer has the thread's start event when attach resolves.
    this.channel.flush();
  }

  /**
   * A worker ended from outside (terminate(), or its process exiting) runs no more JavaScript: no 'exit'
   * listener, no flush timer. What it holds goes to the host before the moments another thread may end it
   * after: before it blocks in Atomics.wait (a Piscina worker between tasks runs no timer until woken, and a
   * pool ends its workers from there), and before it posts a message (a pool terminates a worker once it has
   * its result; measured: the last 470 of 2,002 events of a worker terminated on its 'done' message were
   * lost). In a message flood that makes ~3× the batches (3 s flood: 112–150 → 261–401), not fewer stored.
   * And before it wakes a thread blocked in Atomics.wait (Atomics.notify): at the process's exit, pino's
   * transport worker wakes the main thread waiting for it, which then ends the process and the worker with it
   * (its last line was lost whenever the worker did not reach its own 'exit' first). Its worker notifies per
   * chunk it reads: 10,000 lines logged at once made 33–41 batches with or without, at the same CPU.
   */
  private flushBeforeHandover(): void {
    const { channel, patches } = this;
    const agent = this;
    const flushFirst = (original: (...args: unknown[]) => unknown) =>
      function (this: unknown, ...args: unknown[]) {
        if (patches.active) agent.guard(() => channel.handover());
        return original.apply(this, args);
      };
    for (const name of ['wait', 'notify'] as const) this.guard(() => patches.patch(Atomics as unknown as Record<typeof name, (...args: unknown[]) => unknown>, name, flushFirst));
    this.guard(() => patches.patch(this.builtin('worker_threads').MessagePort.prototype as { postMessage: (...args: unknown[]) => unknown }, 'postMessage', flushFirst));
  }

  /**
   * Checks once a second, on an unref'd timer, that the host is still there: its pid (when it shares our pid
   * namespace) and word from it within `silenceMs`. A host killed with SIGKILL leaves no other trace in the
   * target; without this its patches and the port it opened would stay forever.
   */
  private watch(): void {
    const owner = this.config.owner;
    if (!owner || this.watchdog) return;
    this.guard(() => {
      const t = (this.watchdog = this.later(() => this.guard(() => {
        // The host sends its pid only when it means the same process here (same pid namespace).
        if (Date.now() - this.heardAt > owner.silenceMs || (owner.hostPid && !hostAlive(this.builtin, owner.hostPid))) this.hostGone();
      }), 1_000, true).unref());
      this.patches.add(() => t.cancel());
    });
  }

  /** Any word from the host: it is alive. (A worker paused before its bootstrap had no timers at install.) */
  private heard(): void {
    this.heardAt = Date.now();
    this.watch();
  }

  /**
   * The host is gone (its pid ended, it fell silent, or its data channel closed): removes every patch, the
   * binding and the agent, and closes the inspector port if nodescope opened it. Queued events are dropped:
   * nobody will read them, and binding calls into a dead session are what crashed Node 20's inspector.
   * Safe to call more than once and from anywhere (the watchdog, a socket data channel's 'close'). A new
   * nodescope taking over an orphan clears `openedByUs` first: the port is its own now.
   */
  hostGone(): void {
    if (this.gone) return;
    this.channel.discard();
    this.uninstall();
    // From a timer: never from inside an inspector dispatch, where closing can hang the target.
    if (this.config.openedByUs && this.isMainThread) this.later(() => this.guard(() => this.builtin('inspector').close()), 0).unref();
  }

  bootstrapped(): boolean {
    return this.isMainThread || this.builtin('worker_threads').parentPort != null;
  }

  nowNs(): number {
    // Whole nanoseconds: shorter to print in every event, and no precision is lost that the clock has.
    return Math.round(this.clockOffset + this.perfNow() * 1e6);
  }

  setCorrelation(source: (() => string | null) | undefined): void {
    this.correlation = source;
  }

  setHeldBack(emitHeld: (() => void) | undefined): void {
    this.heldBack = emitHeld;
  }

  emit(type: string, subtype: string, actor: string, payload: unknown, links?: EmitLinks): void {
    const category = categoryOf(type);
    if (!this.recorded(category)) return;
    // nodescope's own events never belong to a request: a host call (a flushNow sending a trace's report)
    // is dispatched by the inspector in the middle of whatever the thread runs, a request's handler included.
    const corr = links?.corr !== undefined ? links.corr : type === 'agent' ? null : this.correlationId();
    const event: WireEvent = [links?.ts ?? this.nowNs(), type, subtype, actor, links?.from ?? null, links?.to ?? null, corr, links?.ref ?? null, payload];
    this.depth++;
    try {
      this.channel.push(event, category === 'lifecycle');
    } finally {
      this.leave();
    }
  }

  /** The level records this category, and sampling keeps this event (lifecycle events are never sampled away). */
  private recorded(category: Category): boolean {
    return this.allowed[category] === true && (category === 'lifecycle' || sampleKeeps(++this.sampled, this.config.sampleRate));
  }

  keeps(category: Category): boolean {
    return this.recorded(category) && this.channel.room(category === 'lifecycle');
  }

  correlationId(): string | null {
    return this.correlation?.() ?? null;
  }

  pushEncoded(text: string): void {
    this.depth++;
    try {
      this.channel.pushEncoded(text);
    } finally {
      this.leave();
    }
  }

  beginEvent(): TextBytes {
    // Agent code until endEvent, as pushEncoded is: a host call landing in between waits (see `host`).
    this.depth++;
    return this.channel.begin();
  }

  endEvent(complete: boolean): void {
    try {
      if (complete) this.channel.commit();
      else this.channel.abandon();
    } finally {
      this.leave();
    }
  }

  isPromise(value: unknown): boolean {
    // Brand checks only: `instanceof` walks the prototype chain, and a Proxy on that chain runs its
    // getPrototypeOf trap (or throws, revoked). A proxy over a promise is not one: its `then` is the trap's.
    try {
      return typeof value === 'object' && value !== null && !this.isProxy(value) && this.promiseBrand(value) === true;
    } catch {
      return false;
    }
  }

  capture(value: unknown): Json {
    // The hot path of call tracing: primitives and short arrays of primitives need no walk. The proxy check
    // comes before anything reads the array: Array.isArray sees through a proxy (and throws on a revoked
    // one), and `.length` on a proxy is its get trap.
    if (isPlainPrimitive(value, this.maxString)) return value as Json;
    try {
      if (typeof value === 'object' && value !== null && !this.isProxy(value) && isArray(value) && getProto(value) === ArrayProto && isPlainList(value, this.maxString)) return value as Json;
    } catch {
      // fall through to the walker, which labels what it cannot read
    }
    return serialize(value, { isProxy: this.isProxy, redact: this.redact });
  }

  threadActor(threadId: number): string {
    return threadId === 0 ? String(this.pid) : `${this.pid}/w${threadId}`;
  }

  later(fn: () => void, ms: number, repeat = false): Later {
    return later(this.builtin('timers'), () => this.guard(fn), ms, repeat);
  }

  guard(fn: () => void): void {
    this.depth++;
    try {
      fn();
    } catch {
      // Swallowed on purpose: a tracing failure must not become the target's failure.
    } finally {
      this.leave();
    }
  }

  // --- the host's calls, kept out of the agent's own code ---
  //
  // The host calls the agent by Runtime.evaluate, and while the thread runs JavaScript, V8 runs an evaluation
  // as an interrupt: at any function entry or loop back-edge, in the middle of the agent's own code too. A
  // call that changes what that code is changing broke it each time one landed there: an ack inside the
  // channel's flush threw in the target's timer, a flushNow inside the web source's bookkeeping recorded a
  // request twice, one inside the queue's append would send its events twice. So every call of the host's
  // goes through `host`, which runs it at once when no agent code is on the stack (the common case: the
  // thread idles, or runs the app's own code) and else queues it for when the outermost agent code returns
  // (`leave`): microseconds later, within the same task, so a flushNow under a flood still sends at once.
  // Its answer waits in `answers` until the host asks for it (`answer`). A microtask checkpoint comes
  // only when no agent code is on the stack: it runs the queue too, should an entry point miss its `leave`
  // (atCheckpoint). The call hook (calls.ts) is not counted, to keep its cost: what it shares with host calls
  // is the queue, which it reaches through pushEncoded or beginEvent/endEvent, and its timing sums, written
  // with no call between the writes (Timings.add), where no interrupt can land.

  /** How many of the agent's entry points are on the stack (see AgentCore.enter). */
  private depth = 0;
  /** Host calls that came while agent code ran, in order. */
  private waiting: [number, (agent: Agent) => unknown][] = [];
  /** Host calls asked on the control socket: their answers go on the data socket, a main thread's too. */
  private readonly bySocket = new Set<number>();
  /** Answers of queued host calls, by the host's call id, until it asks. */
  private answers = new Map<number, HostAnswer>();

  enter(): void {
    this.depth++;
  }

  leave(): void {
    if (--this.depth === 0 && this.waiting.length > 0) this.runWaiting();
  }

  /**
   * A call from the host (src/trace/thread.ts): `fn` runs now, or once the agent code it interrupted has
   * returned; the answer says which (`later`: ask again with `answer(id)`). Id 0: nobody asks (an ack), and
   * no answer is kept.
   */
  host(id: number, fn: (agent: Agent) => unknown): HostAnswer {
    // A termination V8 holds pending for the code it was meant for, which plain JavaScript never looks at
    // (src/trace/cdp.ts, handOnTermination), ends this call here: a call from native code finds it (the
    // reviver), and the host hands it on. Seen without it: a vm script's loop whose timeout was lost in agent
    // code ran on while every call of ours answered.
    parse('0', noticeTermination);
    this.heard();
    this.waiting.push([id, fn]);
    if (this.depth === 0) this.runWaiting();
    // Asked by each call that waits, not only the first: a host call cut by a termination leaves the calls
    // behind it queued, and no checkpoint asked for them.
    else atCheckpoint(() => this.atCheckpoint());
    return this.answer(id);
  }

  /**
   * A microtask checkpoint, where no agent code is on the stack. A depth still raised here was left by agent
   * code that a termination of the thread's JavaScript cut, for a terminated stack runs no `finally` (a vm
   * script's timeout landing in a traced call while it wrote its event): host calls would then wait for
   * checkpoints for good, every event for the one left half-written (Channel.queue holds them while one is
   * written), and every batch for a flush cut short (Channel.flush runs one at a time). All are put right
   * here; the cut event is lost.
   */
  private atCheckpoint(): void {
    if (this.depth !== 0) {
      this.depth = 0;
      this.channel.recover();
    }
    this.runWaiting();
  }

  /** The answer of a host call, once it ran. Reads and forgets only: safe wherever it lands. */
  answer(id: number): HostAnswer {
    // As in `host`: the host asks again while a call waits, and the code it waits for may be the one a
    // termination was meant for (seen: a vm loop, its timeout lost, under a call that waited for good).
    parse('0', noticeTermination);
    this.heard();
    const answer = this.answers.get(id);
    if (answer === undefined) return LATER;
    this.answers.delete(id);
    return answer;
  }

  private runWaiting(): void {
    this.depth++;
    try {
      for (let next = this.waiting.shift(); next !== undefined; next = this.waiting.shift()) {
        let answer: HostAnswer;
        try {
          answer = { v: next[1](this) };
        } catch (error) {
          answer = { e: String(error) };
        }
        if (next[0] === 0) continue;
        // Asked on the control socket: answered on the data socket only, and nobody asks for it again.
        if (this.bySocket.delete(next[0])) {
          this.channel.answer(next[0], answer);
          continue;
        }
        // Only a worker's answer is late through the inspector (Channel.answer): a main thread's is not
        // serialized and written twice.
        if (!this.isMainThread) this.channel.answer(next[0], answer);
        this.answers.set(next[0], answer);
        // Kept for the host's `answer(id)`, which it does not ask once the data socket brought the answer:
        // the oldest go (the host asks within a round trip, or never).
        if (this.answers.size > MAX_KEPT_ANSWERS) this.answers.delete(this.answers.keys().next().value!);
      }
    } finally {
      this.depth--;
    }
  }

  markExiting(): void {
    this.guard(() => this.modules.flush());
    if (this.heldBack) this.guard(this.heldBack);
    this.channel.markExiting();
  }

  // --- called by the tracer, through `host` ---

  ack(seq: number): void {
    this.guard(() => this.channel.ack(seq));
  }

  /** Switches on the sources the level allows that are not on yet. Sources are never switched off while
   * installed: a lower level filters their events in emit(), and detach removes them all. */
  private enableSources(): void {
    // Web capture is an option besides the level (AsyncLocalStorage costs every async hop of the thread).
    this.allowed = Object.fromEntries(CATEGORIES.map((c) => [c, levelAllows(this.config.level, c) && (c !== 'web' || this.config.web === true)]));
    for (const source of SOURCES) {
      if (this.enabled.has(source) || !this.allowed[source.category]) continue;
      this.enabled.add(source);
      this.guard(() => source.enable(this, this.patches));
    }
  }

  /** The configure tool: a new level, sampling rate or web capture, from the next event on. */
  configure(changes: { level?: Level; sampleRate?: number; web?: boolean }): void {
    if (changes.level !== undefined) this.config.level = changes.level;
    if (changes.sampleRate !== undefined) this.config.sampleRate = changes.sampleRate;
    if (changes.web !== undefined) this.config.web = changes.web;
    this.enableSources();
  }

  /**
   * Sends what is queued now: the tracer calls it before answering, so answers include everything so far.
   * Answers the sequence number of the batch that carries the last of it (Channel.lastQueuedSeq).
   */
  flushNow(): number {
    this.guard(() => this.modules.flush());
    if (this.heldBack) this.guard(this.heldBack);
    this.guard(() => this.channel.flush());
    return this.channel.lastQueuedSeq();
  }

  /** Test hook: drops the data socket as a failing connection would; the channel reconnects. */
  dropDataSocket(): void {
    this.guard(() => this.channel.dropSocket());
  }

  resume(seq: number): void {
    this.guard(() => this.channel.resume(seq, globalThis[this.config.binding as keyof typeof globalThis] as (text: string) => void));
  }

  traceModule(spec: ModuleSpec): ModuleReport {
    if (!levelAllows(this.config.level, 'call')) {
      return { module: spec.module, resolved: null, status: 'unsupported', functions: [], methods: [], note: `tracing_level ${this.config.level} records no calls` };
    }
    try {
      return this.modules.trace(spec);
    } catch (error) {
      return { module: spec.module, resolved: null, status: 'unsupported', functions: [], methods: [], note: `failed: ${String(error)}` };
    }
  }

  /** The tracer instrumented an ES module's functions: site numbers for its call hook, in order. */
  instrumented(spec: ModuleSpec, resolved: string, names: string[], via: Mechanism): number[] {
    try {
      return this.modules.instrumented(spec, resolved, names, via);
    } catch {
      return [];
    }
  }

  announce(resolved: string): void {
    this.guard(() => this.modules.announce(resolved));
  }

  rebind(module: string, name: string, fn: (...args: unknown[]) => unknown, putBack?: (wrapper: unknown, fn: unknown) => void): unknown {
    try {
      return this.modules.rebind(module, name, fn, putBack);
    } catch {
      return fn;
    }
  }

  rebindMethod(module: string, name: string, cls: Record<string, unknown>, key: string, isStatic: boolean): void {
    this.guard(() => this.modules.rebindMethod(module, name, cls, key, isStatic));
  }

  /** A loaded CommonJS module's exported functions, as [name, function] pairs (read by reference). */
  moduleExports(resolved: string): unknown[] {
    try {
      return this.modules.exports(resolved);
    } catch {
      return [];
    }
  }

  requiredFiles(resolved: string, limit: number): string[] {
    try {
      return this.modules.requiredFiles(resolved, limit);
    } catch {
      return [];
    }
  }

  wrapSome(spec: ModuleSpec, resolved: string, names: string[], breakpointed?: boolean): ModuleReport | undefined {
    try {
      return this.modules.wrapSome(spec, resolved, names, breakpointed);
    } catch {
      return undefined;
    }
  }

  /** An instrumented function whose edit V8 refused: its site is not used. */
  forgetSite(id: number): void {
    this.guard(() => this.modules.forgetSite(id));
  }

  breakpointed(spec: ModuleSpec, resolved: string, names: string[], via?: Mechanism): void {
    this.guard(() => this.modules.breakpointed(spec, resolved, names, via));
  }

  untraceModule(module: string, reason?: string): ModuleReport[] {
    try {
      return this.modules.untrace(module, reason);
    } catch {
      return [];
    }
  }

  /** The traces of this thread, with their calls so far. */
  traces(): ModuleReport[] {
    try {
      return this.modules.reports();
    } catch {
      return [];
    }
  }

  /** CommonJS files loaded in this thread, and the folders names are resolved from. */
  loaded(): { files: string[]; cwd: string; main: string | null } {
    const proc = this.builtin('process');
    let files: string[] = [];
    this.guard(() => (files = this.modules.loadedFiles()));
    return { files, cwd: proc.cwd(), main: typeof proc.argv?.[1] === 'string' ? this.builtin('path').resolve(proc.argv[1]) : null };
  }

  esmHit(module: string, fn: string, args: ArrayLike<unknown>): false {
    try {
      return this.modules.esmHit(module, fn, args);
    } catch {
      return false;
    }
  }

  classPrototype(name: string): object | undefined {
    try {
      return this.objects.classPrototype(name);
    } catch {
      return undefined;
    }
  }

  trackAll(instances: unknown[], cls: string, max: number): TrackResult[] {
    try {
      return this.objects.trackAll(instances, cls, max);
    } catch {
      return [];
    }
  }

  untrack(id: string): boolean {
    try {
      return this.objects.untrack(id);
    } catch {
      return false;
    }
  }

  track(ref: string, name?: string): TrackResult | undefined {
    try {
      return this.objects.track(ref, name);
    } catch {
      return undefined;
    }
  }

  /** What process_info reports about this thread. Everything here is read from Node, never from the app. */
  info(): Record<string, unknown> {
    const proc = this.builtin('process');
    const { performance } = this.builtin('perf_hooks');
    const elu = performance.eventLoopUtilization();
    const delay = this.loopDelay;
    const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
    return {
      pid: this.pid,
      threadId: this.builtin('worker_threads').threadId,
      mainThread: this.isMainThread,
      title: proc.title,
      argv: proc.argv,
      execArgv: proc.execArgv,
      node: proc.version,
      uptime_s: proc.uptime(),
      memory: proc.memoryUsage(),
      cpu_us: proc.cpuUsage(),
      event_loop_utilization: Math.round(elu.utilization * 1000) / 1000,
      event_loop_delay_ms: delay && delay.count > 0 ? { min: ms(delay.min), mean: ms(delay.mean), p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), samples: delay.count } : null,
      active_resources: typeof proc.getActiveResourcesInfo === 'function' ? proc.getActiveResourcesInfo() : null,
      agent: this.channel.stats(),
    };
  }

  /** Serializes the result of an evaluation for the evaluate tool, with the same bounds as any capture. */
  captureText(value: unknown): string {
    return JSON.stringify(this.capture(value));
  }

  /** Child processes started before attach, found among the active handles (a ChildProcess is one). */
  adoptHandles(): void {
    if (!levelAllows(this.config.level, 'lifecycle')) return;
    const proc = this.builtin('process');
    const { ChildProcess } = this.builtin('child_process');
    this.guard(() => {
      for (const handle of proc._getActiveHandles()) if (handle instanceof ChildProcess) this.guard(() => watchChild(this, this.patches, handle as never, true));
    });
  }

  stats(): ReturnType<Channel['stats']> {
    return this.channel.stats();
  }

  uninstall(): void {
    this.gone = true;
    this.patches.undoAll();
    this.channel.close();
    const g = globalThis as Record<string | symbol, unknown>;
    delete g[this.config.binding];
    delete g[Symbol.for(AGENT_GLOBAL)];
  }
}

/**
 * CLOCK_MONOTONIC minus performance.now(), in ns, from the tightest of a few bracketed reads: one unbracketed
 * pair was off by more than a message hop between threads (the first hrtime read in a fresh worker is slow),
 * which put a worker's receipt before the main thread's next send.
 */
function clockOffset(hrtime: () => bigint, perfNow: () => number): number {
  hrtime();
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 8; i++) {
    const a = perfNow();
    const h = Number(hrtime());
    const b = perfNow();
    if (b - a < best) {
      best = b - a;
      offset = h - ((a + b) / 2) * 1e6;
    }
  }
  return offset;
}

/**
 * Runs `fn` at the thread's next microtask checkpoint, for what touches Node's timer lists on the host's
 * behalf. The host's calls are evaluations, which the inspector runs as interrupts of whatever JavaScript is
 * running, Node's timer loop included: a timer cleared after Node took it off its list and checked its
 * callback, before calling it, ended the target with "timer._onTimeout is not a function". A checkpoint
 * comes between two timers or after a callback, never inside Node's bookkeeping; a timer that fires first
 * finds its work done (a closed channel, a removed agent). `await` of a plain value looks up no `then`.
 */
function atCheckpoint(fn: () => void): void {
  void (async () => {
    await undefined;
    try {
      fn();
    } catch {
      // never into the target
    }
  })();
}

/** What a host call answers: its value, what it threw, or `later` (it waits for the agent code it interrupted). */
export interface HostAnswer {
  v?: unknown;
  e?: string;
  later?: true;
}

const LATER: HostAnswer = { later: true };
/** Host call answers kept unasked at most (see runWaiting). */
const MAX_KEPT_ANSWERS = 64;

/** A timer set on the host's behalf (see `later`). */
export interface Later {
  unref(): Later;
  cancel(): void;
}

/**
 * A timer created and cleared at the thread's next microtask checkpoint, with its handle returned at once.
 * Setting a timer adds to Node's timer lists and priority queue, and a host call may land inside Node's own
 * walk of them (see atCheckpoint). Before a worker's bootstrap, timers may not work: then the timer never
 * fires, and the host's periodic flush carries the events instead.
 */
function later(timers: typeof import('node:timers'), fn: () => void, ms: number, repeat = false): Later {
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  let unrefed = false;
  atCheckpoint(() => {
    if (cancelled) return;
    timer = repeat ? timers.setInterval(fn, ms) : timers.setTimeout(fn, ms);
    if (unrefed) timer.unref();
  });
  const handle: Later = {
    unref() {
      unrefed = true;
      timer?.unref();
      return handle;
    },
    cancel() {
      cancelled = true;
      if (timer !== undefined) {
        const t = timer;
        atCheckpoint(() => (repeat ? timers.clearInterval(t) : timers.clearTimeout(t)));
      }
    },
  };
  return handle;
}

/**
 * Whether the host process lives: `kill(pid, 0)` fails with ESRCH once it is gone (EPERM: alive, not ours).
 * A host killed by SIGKILL stays a zombie until its parent reaps it, which kill(pid, 0) and /proc/<pid> still
 * find: its state in /proc/<pid>/stat says so (where there is a /proc). Its data socket closes at once, and
 * a parent that never reaps (a shell that exec'd, a hung client) left the agent waiting for its silence (60 s).
 */
function hostAlive(builtin: Builtins, pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    builtin('process').kill(pid, 0);
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
  try {
    const stat: string = builtin('fs').readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true;
  }
}

/**
 * Installs the agent in the current thread, or returns the one already there: a reconnecting tracer finds
 * its own agent alive and resumes it; another nodescope finds someone else's, which it must leave alone
 * (the tracer compares `owner` and backs off — it never takes over a live owner's binding). `require` is only
 * needed on Node < 20.16, which lacks `process.getBuiltinModule`.
 */
export function install(config: AgentConfig, req?: (name: string) => unknown): Agent {
  const key = Symbol.for(AGENT_GLOBAL);
  const existing = (globalThis as Record<symbol, unknown>)[key] as Agent | undefined;
  if (existing) return existing;
  const proc = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process;
  // Kept: getBuiltinModule took ~5 µs a call in a traced server's profile, and every timer set asks for 'timers'.
  const modules = new Map<string, any>();
  const builtin: Builtins = (name) => modules.get(name) ?? modules.set(name, proc?.getBuiltinModule?.(name) ?? req?.(name)).get(name);
  const agent = new Agent(config, builtin);
  Object.defineProperty(globalThis, key, { value: agent, configurable: true, enumerable: false, writable: false });
  return agent;
}
