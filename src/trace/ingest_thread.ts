// The ingest's writer thread, seen from the main thread. The main thread answers tools and receives agent
// batches; it hands each batch over as the text it came in (copying a string is a memcpy), and the thread
// (src/trace/ingest_worker.ts), which owns the writable connection, decodes the rows and writes them. Before,
// the main thread decoded and posted rows: decoding, redaction and the structured clone of the rows (~2 µs a
// row) were ~25 % of its time under a postMessage flood, and tools waited behind it. The main thread keeps its
// own connection to the same file for queries: in WAL mode readers and the writer never wait for each other.
// A trace that is not persisted goes to a private file (src/store/private_dir.ts privateTraceFile).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EventRow } from '../store/store.js';
import type { BatchInput, Lifecycle } from './rows.js';
import { within } from './discovery.js';

export interface WriterOptions {
  /** The database file (the main thread has opened it first, so its schema exists). */
  path: string;
  maxEvents: number;
  retention: Record<string, number>;
  /** Tests only: a slow disk, the thread kept busy this long per event written. */
  slowMsPerRow?: number;
}

export interface WriterData extends WriterOptions {
  /** Int32 at 0: last message handled; Float64 at 8: events (received ones, and the host's rows) committed; at 16: events in the store. */
  shared: SharedArrayBuffer;
}

/** A point in what was handed to the writer: messages and events so far. */
export interface WriterMark {
  seq: number;
  events: number;
}

type WriterRequest =
  /** Agent batches and the host's own rows: `events` of them in all (a batch's events, one a row). */
  | { kind: 'write'; batches: BatchInput[]; rows: EventRow[]; events: number }
  | { kind: 'configure'; maxEvents?: number; retention?: Record<string, number> }
  | { kind: 'checkpoint' }
  | { kind: 'close' };

/** What the writer thread is sent: each message numbered, in order. */
export type WriterMessage = WriterRequest & { seq: number };

/** What the writer thread tells: lifecycle rows written (for the host's listeners), or a write that failed. */
export type WriterReport = { lifecycle: Lifecycle[] } | { error: string };

/** The worker's entry: built by tsc next to this file in dist/; from src/ (tests), the built one. */
function entryPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, 'ingest_worker.js');
  if (existsSync(built)) return built;
  const fromSource = join(here, '..', '..', 'dist', 'trace', 'ingest_worker.js');
  if (!existsSync(fromSource)) throw new Error(`nodescope: ${fromSource} is missing; run \`npm run build\` first`);
  return fromSource;
}

type WaitAsync = (array: Int32Array, index: number, value: number, timeoutMs: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export class IngestThread {
  private readonly worker: Worker;
  private readonly shared = new SharedArrayBuffer(24);
  private readonly done = new Int32Array(this.shared, 0, 1);
  private readonly counts = new Float64Array(this.shared, 8, 2);
  private seq = 0;
  private postedEvents = 0;
  private ended = false;
  /** The last write that failed (disk full, …), for the answers' warnings. */
  problem: string | undefined;

  /** Lifecycle rows, once written: set by the ingest (its listeners). */
  onLifecycle: ((lifecycle: Lifecycle[]) => void) | undefined;

  constructor(options: WriterOptions) {
    this.worker = new Worker(entryPath(), { workerData: { ...options, shared: this.shared } satisfies WriterData });
    // The server's lifetime is its transport's, not this thread's.
    this.worker.unref();
    this.worker.on('message', (m: WriterReport) => {
      if ('error' in m) this.problem = m.error;
      else this.onLifecycle?.(m.lifecycle);
    });
    this.worker.on('error', (error) => (this.problem = `the writer thread failed: ${error.message}`));
    this.worker.on('exit', () => {
      this.ended = true;
      // Nobody waits for a thread that is gone.
      Atomics.store(this.done, 0, this.seq);
      Atomics.notify(this.done, 0);
    });
  }

  get open(): boolean {
    return !this.ended && !this.closing;
  }

  /** Hands agent batches and rows of the host's own to the writer: `events` in all (one transaction there). */
  write(batches: BatchInput[], rows: EventRow[], events: number): void {
    if (!this.open) return;
    this.postedEvents += events;
    this.post({ kind: 'write', batches, rows, events });
  }

  /** Events handed over and not yet committed. */
  pending(): number {
    return this.ended ? 0 : this.postedEvents - this.counts[0]!;
  }

  /** Events in the store, as of the last message the writer handled. */
  eventCount(): number {
    return this.counts[1]!;
  }

  /** Size and retention, changed while tracing runs: the writer prunes. */
  configure(changes: { maxEvents?: number; retention?: Record<string, number> }): void {
    if (this.open) this.post({ kind: 'configure', ...changes });
  }

  /** Makes the file complete on its own (WAL folded in), once what was handed over before is written. */
  async checkpoint(timeoutMs = 10_000): Promise<void> {
    if (!this.open) return;
    this.post({ kind: 'checkpoint' });
    await this.settle(timeoutMs);
  }

  /** What has been handed over so far: what settle() waits for. */
  mark(): WriterMark {
    return { seq: this.seq, events: this.postedEvents };
  }

  /**
   * Waits until what was handed over up to `mark` is committed, or `timeoutMs` has passed, without blocking
   * this thread. Answers the events of it still being written (0 when all are in).
   */
  async settle(timeoutMs: number, mark = this.mark()): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (let seen = Atomics.load(this.done, 0); seen < mark.seq; seen = Atomics.load(this.done, 0)) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      const wait = waitAsync(this.done, 0, seen, left);
      if (wait.async) await wait.value;
    }
    return this.unwritten(mark);
  }

  /** The same, blocking this thread: for the host's own decisions that read what was just received. */
  settleSync(timeoutMs: number, mark = this.mark()): number {
    const deadline = performance.now() + timeoutMs;
    for (let seen = Atomics.load(this.done, 0); seen < mark.seq; seen = Atomics.load(this.done, 0)) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      Atomics.wait(this.done, 0, seen, left);
    }
    return this.unwritten(mark);
  }

  private unwritten(mark: WriterMark): number {
    return this.ended ? 0 : Math.max(0, mark.events - this.counts[0]!);
  }

  private closing = false;

  /** Writes what was handed over, closes the connection and ends the thread. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (!this.open) return;
    this.post({ kind: 'close' });
    this.closing = true;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    await within(exited, timeoutMs);
    if (!this.ended) await this.worker.terminate();
  }

  private post(message: WriterRequest): void {
    this.worker.postMessage({ ...message, seq: ++this.seq });
  }
}
