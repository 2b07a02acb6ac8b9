// The wire contract between the in-target agent and the tracer. Imported by both sides: by the agent (bundled
// into the target, so this file must stay free of imports) and by trace/store/query on the host.

/** Tracing levels, as in ElixirScope's `setup(tracing_level: …)`. */
export const LEVELS = ['full', 'messages_only', 'states_only', 'minimal', 'off'] as const;
export type Level = (typeof LEVELS)[number];

/**
 * Event categories. Every event `type` belongs to one; the level decides which categories are recorded.
 * `lifecycle` holds the critical events (spawn, exit, crash, drops): recorded at every level but `off`, and
 * never sampled away.
 */
export const CATEGORIES = ['lifecycle', 'message', 'state', 'call', 'web', 'log'] as const;
export type Category = (typeof CATEGORIES)[number];

const LEVEL_CATEGORIES: Record<Level, readonly Category[]> = {
  full: ['lifecycle', 'message', 'state', 'call', 'web', 'log'],
  messages_only: ['lifecycle', 'message'],
  states_only: ['lifecycle', 'state'],
  minimal: ['lifecycle'],
  off: [],
};

export function levelAllows(level: Level, category: Category): boolean {
  return LEVEL_CATEGORIES[level].includes(category);
}

/** Event types and the category each belongs to. The subtype is free-form and stored exactly as emitted. */
export const TYPE_CATEGORY = {
  process: 'lifecycle', // start, exit, signal
  worker: 'lifecycle', // start, online, exit, error
  child: 'lifecycle', // spawn, exit, error
  error: 'lifecycle', // uncaught_exception, unhandled_rejection
  agent: 'lifecycle', // dropped, trace_started, trace_stopped
  object: 'lifecycle', // track
  message: 'message', // send, receive
  state: 'state', // snapshot
  call: 'call', // call, return, throw
  probe: 'call', // hit, error (trace_line)
  http: 'web',
  ws: 'web',
  log: 'log',
} as const satisfies Record<string, Category>;
export type EventType = keyof typeof TYPE_CATEGORY;

export function categoryOf(type: string): Category {
  return (TYPE_CATEGORY as Record<string, Category>)[type] ?? 'log';
}

export function isCritical(type: string): boolean {
  return categoryOf(type) === 'lifecycle';
}

/**
 * Deterministic sampling: keeps the n-th non-critical event of a stream when it crosses a multiple of
 * 1/rate, so exactly ⌊n·rate⌋ of the first n are kept, spread evenly, and two runs keep the same ones.
 */
export function sampleKeeps(n: number, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return Math.floor(n * rate) !== Math.floor((n - 1) * rate);
}

/**
 * One event as the agent sends it: a positional array, because the hot path allocates one per event and a
 * short array serializes faster and smaller than an object with repeated keys.
 * [ts_ns, type, subtype, actor, from, to, corr, ref, payload]
 */
export type WireEvent = [
  tsNs: number,
  type: string,
  subtype: string,
  actor: string,
  from: string | null,
  to: string | null,
  corr: string | null,
  /** A message id, or a call id as a number (the tracer spells it `<thread>:c<n>`). */
  ref: string | number | null,
  payload: unknown,
];

/** One binding call: a batch of events from one thread. */
export interface WireBatch {
  /** Sequence number per agent, from 1, gap-free: the tracer acks it and asks for a resend after a reconnect. */
  seq: number;
  /** Actor id of the thread that sent it. */
  actor: string;
  /** Clock pair read when the batch was sealed, to turn `ts_ns` into wall-clock time on the host. */
  tsNs: number;
  wallMs: number;
  events: WireEvent[];
}

/**
 * A batch on the wire (binding or data socket): its header, then each event as two JSON texts — the event
 * without its payload, and the payload — joined by U+0001, which JSON.stringify never leaves raw in its
 * output. The host stores the payload text as it came: it neither parses nor re-stringifies it (that was
 * ~2.5 µs per event of the host's ~4.9), and the target pays the same as for one JSON.stringify of the batch.
 */
/**
 * A traced function's name that names a method (`Cart#add`, `Till.create`), as trace reports list them apart;
 * `module.exports.handle` and `router.get('/orders/:id') callback` are functions.
 */
export function isMethodName(name: string): boolean {
  return /^[\w$]+[#.][\w$]+$/.test(name);
}

/** The note on a trace asked again with function_names: the trace already made is kept as it is. */
export const RETRACE_FOR_FUNCTIONS = 'function_names take effect on a new trace: untrace it first';

export const SEP = '\u0001';
/** Starts a line of the data socket that carries a host call's answer (`<mark><id> <json>`), not a batch. */
export const ANSWER_MARK = '\u0002';

/** One event's part of a batch. Throws what JSON.stringify throws (a BigInt): the caller counts a drop. */
export function encodeEvent(e: WireEvent): string {
  const payload = e[8];
  e[8] = null;
  try {
    return `${JSON.stringify(e)}${SEP}${payload === undefined ? 'null' : (JSON.stringify(payload) ?? 'null')}`;
  } finally {
    e[8] = payload;
  }
}

/**
 * A `call/complete` event's part of a batch, exactly as encodeEvent writes
 * `[ts, 'call', 'complete', actor, null, null, corr, id, [sid, args, parent, threw, value, durationNs]]`, put
 * together from parts that are JSON text already (`head` from callCompleteHead, `argsJson`, `valueJson`): the
 * hot path of call tracing allocates no event or payload array and walks nothing twice
 * (test/unit/serialize.test.ts holds it to encodeEvent's output).
 */
export function encodeCallComplete(ts: number, head: string, corr: string | null, id: number, sid: number, argsJson: string, parent: number | null, threw: 0 | 1, valueJson: string, durationNs: number): string {
  return `[${integerJson(ts)}${head}${corr === null ? 'null' : JSON.stringify(corr)},${id},null]${SEP}[${sid},${argsJson},${parent},${threw},${valueJson},${durationNs}]`;
}

/** What every call/complete event of one actor has in common, between its time stamp and its correlation id. */
export function callCompleteHead(actor: string): string {
  return `,"call","complete",${JSON.stringify(actor)},null,null,`;
}

/**
 * JSON text of an integer, as `${n}` writes it. Time stamps in ns have 14 digits or more, past what V8 prints
 * as an integer: it runs its shortest-double conversion, twice the time of printing two halves (measured
 * 97–130 ns against 43–83 ns a stamp on Node 20 and 24).
 */
export function integerJson(n: number): string {
  if (n < 2147483648 || !(n < 9007199254740992)) return `${n}`;
  const hi = Math.floor(n / 1e6);
  const lo = n - hi * 1e6;
  if (!(lo >= 0 && lo < 1e6) || lo !== Math.floor(lo)) return `${n}`;
  return lo >= 1e5 ? `${hi}${lo}` : `${hi}${`${lo + 1e6}`.slice(1)}`;
}

/** Appends one encoded event to a batch body (what follows the batch's header: each event with its separator in front). */
export function appendEvent(body: string, encoded: string): string {
  return `${body}${SEP}${encoded}`;
}

/** A batch: its header, then a body of encoded events (appendEvent). */
export function encodeBatchOf(header: Omit<WireBatch, 'events'>, body: string): string {
  return `${JSON.stringify(header)}${body}`;
}

export function encodeBatch(header: Omit<WireBatch, 'events'>, events: WireEvent[]): string {
  return encodeBatchOf(header, events.map(encodeEvent).reduce(appendEvent, ''));
}

/** An event as decoded on the host: the payload is still its JSON text (null when there is none). */
export type TextEvent = [tsNs: number, type: string, subtype: string, actor: string, from: string | null, to: string | null, corr: string | null, ref: string | number | null, payload: string | null];
export interface TextBatch extends Omit<WireBatch, 'events'> {
  events: TextEvent[];
}

/**
 * A batch's header and how many events it holds, without decoding them (the receiving thread checks the
 * sequence and counts; the rows are made where they are written). Throws on text that is not a batch.
 */
export function batchHeader(text: string): { header: Omit<WireBatch, 'events'>; events: number } {
  const first = text.indexOf(SEP);
  const header = JSON.parse(first < 0 ? text : text.slice(0, first)) as Omit<WireBatch, 'events'>;
  if (typeof header?.seq !== 'number' || typeof header.actor !== 'string') throw new Error('not a batch');
  let separators = 0;
  for (let at = first; at >= 0; at = text.indexOf(SEP, at + 1)) separators++;
  if (separators % 2 !== 0) throw new Error('not a batch');
  return { header, events: separators / 2 };
}

/** Throws on text that is not a batch (the caller drops it). */
export function decodeBatch(text: string): TextBatch {
  const parts = text.split(SEP);
  const batch = JSON.parse(parts[0]!) as TextBatch;
  if (typeof batch.seq !== 'number' || parts.length % 2 !== 1) throw new Error('not a batch');
  const events: TextEvent[] = new Array((parts.length - 1) / 2);
  for (let i = 1, k = 0; i < parts.length; i += 2, k++) {
    const e = JSON.parse(parts[i]!) as TextEvent;
    const payload = parts[i + 1]!;
    e[8] = payload === 'null' ? null : payload;
    events[k] = e;
  }
  batch.events = events;
  return batch;
}

/**
 * Durations of a timing-only trace (trace_module capture "timing") are counted in buckets, four per power of
 * two of ns (linear within it): bucket 0 holds < 1 ns, bucket 1 + 4e + q holds [2^e·(1 + q/4), 2^e·(1 + (q+1)/4)).
 * A percentile read back from them is off by at most a quarter of its power of two; ~4.5 days is the top.
 */
export const TIMING_BUCKETS = 1 + 4 * 48;

export function timingBucket(ns: number): number {
  // 4 ns to ~2 s, nearly every call: integer bit operations only (the two clock reads around the call cost
  // ~50 ns each; this must cost next to nothing).
  if (ns >= 4 && ns < 2147483648) {
    const n = ns | 0;
    const e = 31 - Math.clz32(n);
    return 1 + 4 * e + ((n >>> (e - 2)) & 3);
  }
  if (!(ns >= 1)) return 0;
  const e = Math.min(47, Math.floor(Math.log2(ns)));
  return 1 + 4 * e + Math.min(3, Math.floor((ns / 2 ** e - 1) * 4));
}

/** The [low, high) ns a bucket covers. */
export function timingBucketRange(b: number): [number, number] {
  if (b <= 0) return [0, 1];
  const e = (b - 1) >> 2;
  const q = (b - 1) & 3;
  return [2 ** e * (1 + q / 4), 2 ** e * (1 + (q + 1) / 4)];
}

/**
 * Which calls a timing-only trace times: every call of a function until it has had TIMING_EXACT_CALLS in the
 * current summary (a second), then 1 in TIMING_SAMPLE_EVERY on average. Two clock reads cost ~110–150 ns on
 * Node 20 and 24 (bench/README.md), more than the rest of a timing-only call: a function called fewer than
 * 256 times a second is timed on every call, its figures exact; a hot one pays the clock on ~1/16 of its calls.
 */
export const TIMING_EXACT_CALLS = 256;
export const TIMING_SAMPLE_EVERY = 16;

/**
 * An `agent/timing` event's payload: one module's sums in one thread since the last (src/agent/calls.ts
 * Timings.flush). Calls and errors count every call; a hot function's durations come from the calls timed, a
 * sample of them (TIMING_EXACT_CALLS), which the reader scales by calls / timed.
 */
export interface TimingSummary {
  module: string;
  /** The start of the period the sums cover (the end is the event's own ts). */
  since_ns: number;
  fns: TimingSums[];
}

export interface TimingSums {
  fn: string;
  /** Calls that ended (returned, threw, or their promise settled) in the period; errors: those that threw or rejected. */
  calls: number;
  errors: number;
  /** Calls whose duration was measured: total_ns, max_ns and hist are theirs. Absent (older agents): every call. */
  timed?: number;
  total_ns: number;
  max_ns: number;
  /** Timed calls per timingBucket. */
  hist: Record<number, number>;
}

export const DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;

/** What the tracer passes to `install()` inside each thread. */
export interface AgentConfig {
  binding: string;
  actor: string;
  level: Level;
  sampleRate: number;
  /** Source of a case-insensitive RegExp; keys that match are redacted from every captured value. Empty: the built-in secret words. */
  redact: string;
  batchSize: number;
  maxQueue: number;
  maxInFlight: number;
  /**
   * Bytes (UTF-16 code units of the encoded text) the queue and the unacknowledged batches may hold: with
   * `maxQueue` and `maxInFlight`, the bound on the agent's memory under a flood, whatever the events' size.
   * Defaults: 8 M each (DEFAULT_MAX_QUEUE_BYTES, DEFAULT_MAX_IN_FLIGHT_BYTES).
   */
  maxQueueBytes?: number;
  maxInFlightBytes?: number;
  flushMs: number;
  /** True when the agent runs before the thread's first line (launch mode, new workers). */
  fromStart: boolean;
  /** The worker's name as the inspector reports it (Node 20 has no `threadName`). */
  name?: string;
  /** The worker's script (file URL) as the inspector reports it. */
  url?: string;
  /** Actor id of the thread that started this worker. */
  parent?: string;
  /** Record HTTP traffic and give each incoming request a correlation id (AsyncLocalStorage). */
  web?: boolean;
  /**
   * The data channel: a Unix socket in a folder only this user can enter, and the secret the agent says first
   * on it (a line `<secret> <actor>`). Absent: everything goes through the binding.
   */
  data?: { path: string; secret: string; hostPid: number };
  /** Modules to trace from the start (trace_module given before the thread existed). */
  modules?: { module: string; resolved?: string; functions?: string[]; maxCalls: number; maxPerSecond: number; durationMs: number; capture?: 'timing' }[];
  /** The nodescope that installed this agent: another one reads it to say who holds the process. */
  owner?: AgentOwner;
  /** True when nodescope opened this process's inspector port: an orphaned agent closes it again. */
  openedByUs?: boolean;
}

/** Who holds a traced process. The agent stores it; a second nodescope reads it and leaves the process alone. */
export interface AgentOwner {
  /** One id per Tracer: agents of the same owner are resumed, others are left alone. */
  id: string;
  /** The host's pid when it shares the target's pid namespace: the agent watches it and cleans up when gone. */
  hostPid?: number;
  /** Start time of the host process (field 22 of /proc/<pid>/stat), so a reused pid is not mistaken for it. */
  hostStart?: string;
  /** How to reach the host, when it serves one (MCP over HTTP). */
  endpoint?: string;
  /** Wall-clock ms of the attach. */
  since: number;
  /** Without word from the host for this long (acks, calls, keep-alives), the agent removes itself. */
  silenceMs: number;
}

export const AGENT_GLOBAL = 'nodescope.agent';
/** The agent of a thread, as an expression evaluated in it. */
export const AGENT_REF = `globalThis[Symbol.for(${JSON.stringify(AGENT_GLOBAL)})]`;
/** The agent's script name in stack traces (its frames are left out of the stacks tools show). */
export const AGENT_SOURCE_URL = 'nodescope-agent.js';

/** A line probe's limits (trace_line), as the tracer sets them and the agent keeps them. */
export interface ProbeLimits {
  /** The probe stops after this many hits (in each thread). */
  maxHits: number;
  /** Hits recorded per second, sustained, and how many may come at once. */
  perSecond: number;
  burst: number;
  /** Times per second the line may run the condition before the probe sits out the rest of the second. */
  evalsPerSecond: number;
  /** Hits per second across all probes of a thread. */
  globalPerSecond: number;
  durationMs: number;
  /** Capture time per hit: values not captured within it are left out (`$t: "cut"`). */
  budgetMs: number;
}
