// Receives agent batches and the host's own rows and hands them on to be written. With a writer thread (the
// server's store, src/trace/ingest_thread.ts) a batch goes over as the text it came in, and the rows are
// decoded there (src/trace/rows.ts): this thread, which answers the tools, reads a batch's header only.
// Without one (a Tracer made on a Store, as tests do), the rows are decoded and written here. Either way,
// what arrives in the same turn of the event loop is coalesced into one transaction (a setImmediate later),
// which keeps SQLite in its fast lane without holding events for long. Batches whose events carry a stack
// are decoded here first: the source maps that locate their frames live with the tracer.
import { batchHeader, decodeBatch, type TextBatch, type TextEvent } from '../shared/protocol.js';
import type { EventRow, Store } from '../store/store.js';
import { DataChannel } from './data_channel.js';
import type { IngestThread } from './ingest_thread.js';
import { RecordingPolicy } from './policy.js';
import { hostNowNs, RowDecoder, type BatchInput, type Lifecycle } from './rows.js';

/**
 * Time per transaction written on this thread (no writer thread): long enough for SQLite's fast lane
 * (hundreds of rows at least), short enough that a tool call waiting behind it still answers within the
 * 50 ms bar of issue 11 (a fixed 5,000 rows took 20 ms on a quiet machine and over 100 ms on a loaded one).
 * Events per transaction follow the measured cost per event.
 */
const BACKGROUND_MS = 8;

/**
 * Events the host may hold unwritten (received, or handed to the writer thread and not yet committed) before
 * it stops acknowledging batches (then the agents queue, and past their caps count drops): the host's memory
 * stays bounded whatever the agents offer. Without a writer thread a tool call writes the whole backlog
 * first (12,000 rows at ~3.7 µs each is ~45 ms on a quiet machine); with one, it waits a bounded time.
 */
export const MAX_BACKLOG_EVENTS = 12_000;
const MIN_EVENTS = 500;
const MAX_EVENTS = 20_000;

/** How long the host's own decisions (is this process's exit recorded?) wait for the writer thread. */
const FLUSH_WAIT_MS = 2_000;

export type LifecycleListener = (row: EventRow, payload: any) => void;

export class Ingest {
  /** Batches received and not yet handed over, with their event counts. */
  private batches: { input: BatchInput; events: number }[] = [];
  /** The host's own rows, not yet handed over. */
  private rows: EventRow[] = [];
  /** Events in `batches` and `rows`. */
  private held = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private readonly listeners = new Set<LifecycleListener>();
  /** Rows are decoded here only without a writer thread. */
  private readonly decoder: RowDecoder | undefined;

  constructor(
    private readonly store: Store,
    private readonly writer?: IngestThread,
    /** The tracer's: what the host's own rows are filtered by (the agents' are filtered where they arise). */
    private readonly policy = new RecordingPolicy(),
  ) {
    if (writer) writer.onLifecycle = (lifecycle) => this.notify(lifecycle);
    else this.decoder = new RowDecoder();
  }

  private channel: DataChannel | undefined;
  private readonly useData = process.env.NODESCOPE_DATA_CHANNEL !== 'off' && process.platform !== 'win32';

  /**
   * The agents' data channel, opened on first use; undefined when switched off
   * (NODESCOPE_DATA_CHANNEL=off: everything through the inspector binding, as before — the bench compares both).
   */
  data(): DataChannel | undefined {
    if (!this.useData) return undefined;
    this.channel ??= new DataChannel();
    return this.channel;
  }

  /** Closes the data channel (detach): agents left behind fall back to the binding, or clean up. */
  closeData(): void {
    this.channel?.close();
    this.channel = undefined;
  }

  /** Events received and not yet written. */
  backlog(): number {
    return this.held + (this.writer?.pending() ?? 0);
  }

  /**
   * Called for each lifecycle event once it is written (by the writer thread: then a moment after, once it
   * says so): the tracer follows new children this way.
   */
  onLifecycle(listener: LifecycleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Rewrites the locations of an event that carries a stack (source maps, src/trace/sourcemaps.ts). */
  locate: ((type: string, subtype: string, actor: string, payload: unknown) => void) | undefined;

  /** Events received in the current second and the one before it (Ingest.perSecond). */
  private second = 0;
  private thisSecond = 0;
  private lastSecond = 0;

  /** Events received per second lately: the previous whole second, or this one if it already has more. */
  perSecond(): number {
    this.count(0);
    return Math.max(this.lastSecond, this.thisSecond);
  }

  private count(events: number): void {
    const now = Math.floor(performance.now() / 1000);
    if (now !== this.second) {
      this.lastSecond = now === this.second + 1 ? this.thisSecond : 0;
      this.thisSecond = 0;
      this.second = now;
    }
    this.thisSecond += events;
  }

  /** A batch, as its wire text (its header already read: `events` it holds) or decoded. */
  accept(batch: BatchInput, events = typeof batch === 'string' ? batchHeader(batch).events : batch.events.length): void {
    this.count(events);
    this.batches.push({ input: this.locate === undefined ? batch : this.located(batch), events });
    this.held += events;
    this.schedule();
  }

  /**
   * The batch with the stacks of its events mapped to the original sources, decoded for that; a batch
   * without any (a search of its text) as it came.
   */
  private located(batch: BatchInput): BatchInput {
    if (typeof batch === 'string' && !STACK_OR_PROBE.test(batch)) return batch;
    const decoded: TextBatch = typeof batch === 'string' ? decodeBatch(batch) : batch;
    for (const e of decoded.events) {
      if (!carriesStack(e)) continue;
      const payload = JSON.parse(e[8]!);
      this.locate!(e[1], e[2], e[3], e[1] === 'call' && e[2] === 'complete' ? (payload as unknown[])[4] : payload);
      e[8] = JSON.stringify(payload);
    }
    return decoded;
  }

  /** An event observed on the host (console output, an exit seen by the launcher): filtered by the recording policy. */
  record(row: Omit<EventRow, 'wall_ms' | 'ts_ns'> & { ts_ns?: number; wall_ms?: number }): void {
    if (!this.policy.admits(row.type)) return;
    this.rows.push({ ...row, ts_ns: row.ts_ns ?? hostNowNs(), wall_ms: row.wall_ms ?? Date.now() });
    this.held++;
    this.schedule();
  }

  /** Measured ms per event written on this thread (moving average), for the size of its transactions. */
  private msPerEvent = 0.005;

  private schedule(): void {
    if (this.scheduled === undefined) {
      // The writer thread takes everything at once: its transactions keep no tool call waiting.
      const limit = this.writer ? Infinity : Math.max(MIN_EVENTS, Math.min(MAX_EVENTS, Math.round(BACKGROUND_MS / this.msPerEvent)));
      this.scheduled = setImmediate(() => this.write(limit));
    }
  }

  /**
   * Everything received is in the store when this returns: written here, or handed to the writer thread and
   * waited for (blocking, at most FLUSH_WAIT_MS) — for the host's own decisions on what was just received.
   */
  flush(): void {
    this.write(Infinity);
    this.writer?.settleSync(FLUSH_WAIT_MS);
  }

  /** Hands over what is buffered, without waiting for the writer thread (without one: writes it). */
  post(): void {
    this.write(Infinity);
  }

  /**
   * Brings the store up to what was received, waiting at most `timeoutMs` for the writer thread (never
   * blocking this one); a remainder of at most `smallRemainder` events is then waited for all the same (up to
   * FLUSH_WAIT_MS). Answers the events received before the call still being written (0: all in).
   */
  async settle(timeoutMs: number, smallRemainder = 0): Promise<number> {
    this.write(Infinity);
    if (!this.writer) return 0;
    const received = this.writer.mark();
    const left = await this.writer.settle(timeoutMs, received);
    return left > 0 && left <= smallRemainder ? this.writer.settle(FLUSH_WAIT_MS, received) : left;
  }

  /**
   * Hands over what is held: to the writer thread all of it; without one, writes about `limit` events and
   * the rest a turn later (~8 ms at a time: one huge transaction would keep the event loop, and so every tool
   * call, waiting — bench: ~100 ms under a burst).
   */
  private write(limit: number): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.held === 0) return;
    // A batch that arrived after the store was closed (the data socket can trail a detach) has nowhere to go.
    if (this.writer ? !this.writer.open : !this.store.db.open) {
      this.batches = [];
      this.rows = [];
      this.held = 0;
      return;
    }
    if (this.writer) {
      this.writer.write(this.batches.map((b) => b.input), this.rows, this.held);
      this.batches = [];
      this.rows = [];
      this.held = 0;
      return;
    }
    let take = 0;
    let events = this.rows.length;
    while (take < this.batches.length && events < limit) events += this.batches[take++]!.events;
    const batches = this.batches.splice(0, take).map((b) => b.input);
    const rows = this.rows;
    this.rows = [];
    this.held -= events;
    if (this.held > 0) this.schedule();
    const started = performance.now();
    const decoded = this.decoder!.decode(batches, rows);
    this.store.write(decoded.rows, decoded.actors);
    if (events >= MIN_EVENTS) this.msPerEvent = 0.7 * this.msPerEvent + (0.3 * (performance.now() - started)) / events;
    this.notify(decoded.lifecycle);
  }

  private notify(lifecycle: Lifecycle[]): void {
    for (const [row, payload] of lifecycle) for (const fn of this.listeners) fn(row, payload);
  }
}

/** One scan of a batch's text (two `includes` took ~4× as long: ~0.4 µs per 260-byte event on this thread). */
const STACK_OR_PROBE = /"(?:stack|probe)"/;
const STACK_TYPES = new Set(['error', 'worker', 'child', 'probe']);
/** Thrown errors, crashes and probe events: the payloads the host reads on the way in. */
function carriesStack(e: TextEvent): boolean {
  if (e[8] === null) return false;
  // Every probe event goes by (the tracer counts hits and errors there), stack or not.
  if (e[1] === 'probe') return true;
  if (!e[8].includes('"stack"')) return false;
  return e[1] === 'call' ? e[2] === 'complete' || e[2] === 'throw' : STACK_TYPES.has(e[1]);
}
