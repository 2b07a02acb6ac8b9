// The store's writer thread, seen from the main thread. The main thread decodes agent batches and answers
// tools; the writes (Store.write, ~8.5 µs a row: a 12,000-row backlog was ~100 ms of a tool call's time)
// run on a worker thread that owns the writable connection (src/store/writer_worker.ts). The main thread keeps
// its own connection to the same file for queries: in WAL mode readers and the writer never wait for each
// other. Rows are posted as the objects they are: structured clone cost ~2 µs a row on the main thread,
// measured no cheaper as flat arrays or one joined string.
//
// better-sqlite3 cannot share a `:memory:` database between threads, so a trace that is not persisted goes
// to a private file (a 0700 folder), deleted at close; folders left by a nodescope that was killed are
// swept when the next one starts.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { privateDir } from './private_dir.js';
import type { ActorUpdate, EventRow } from './store.js';

export interface WriterOptions {
  /** The database file (the main thread has opened it first, so its schema exists). */
  path: string;
  maxEvents: number;
  retention: Record<string, number>;
  /** Tests only: a slow disk, the thread kept busy this long per row written. */
  slowMsPerRow?: number;
}

export interface WriterData extends WriterOptions {
  /** Int32 at 0: last message handled; Float64 at 8: rows committed; at 16: events in the store. */
  shared: SharedArrayBuffer;
}

/** A point in what was handed to the writer: messages and rows so far. */
export interface WriterMark {
  seq: number;
  rows: number;
}

type WriterRequest =
  | { kind: 'write'; rows: EventRow[]; actors: ActorUpdate[] }
  | { kind: 'configure'; maxEvents?: number; retention?: Record<string, number> }
  | { kind: 'checkpoint' }
  | { kind: 'close' };

/** What the writer thread is sent: each message numbered, in order. */
export type WriterMessage = WriterRequest & { seq: number };

/** The worker's entry: built by tsc next to this file in dist/; from src/ (tests), the built one. */
function entryPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, 'writer_worker.js');
  if (existsSync(built)) return built;
  const fromSource = join(here, '..', '..', 'dist', 'store', 'writer_worker.js');
  if (!existsSync(fromSource)) throw new Error(`nodescope: ${fromSource} is missing; run \`npm run build\` first`);
  return fromSource;
}

type WaitAsync = (array: Int32Array, index: number, value: number, timeoutMs: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export class StoreWriter {
  private readonly worker: Worker;
  private readonly shared = new SharedArrayBuffer(24);
  private readonly done = new Int32Array(this.shared, 0, 1);
  private readonly counts = new Float64Array(this.shared, 8, 2);
  private seq = 0;
  private postedRows = 0;
  private ended = false;
  /** The last write that failed (disk full, …), for the answers' warnings. */
  problem: string | undefined;

  constructor(options: WriterOptions) {
    this.worker = new Worker(entryPath(), { workerData: { ...options, shared: this.shared } satisfies WriterData });
    // The server's lifetime is its transport's, not this thread's.
    this.worker.unref();
    this.worker.on('message', (m: { error?: string }) => (this.problem = m.error ?? this.problem));
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

  /** Hands rows and actor updates to the writer (one transaction there). */
  write(rows: EventRow[], actors: ActorUpdate[]): void {
    if (!this.open) return;
    this.postedRows += rows.length;
    this.post({ kind: 'write', rows, actors });
  }

  /** Rows handed over and not yet committed. */
  pending(): number {
    return this.ended ? 0 : this.postedRows - this.counts[0]!;
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
    return { seq: this.seq, rows: this.postedRows };
  }

  /**
   * Waits until what was handed over up to `mark` is committed, or `timeoutMs` has passed, without blocking
   * this thread. Answers the rows of it still being written (0 when all are in).
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
    return this.ended ? 0 : Math.max(0, mark.rows - this.counts[0]!);
  }

  private closing = false;

  /** Writes what was handed over, closes the connection and ends the thread. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (!this.open) return;
    this.post({ kind: 'close' });
    this.closing = true;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    if (!this.ended) await this.worker.terminate();
  }

  private post(message: WriterRequest): void {
    this.worker.postMessage({ ...message, seq: ++this.seq });
  }
}

/**
 * A private file for a trace that is not persisted: `<tmp>/nodescope-db-<pid>-XXXXXX/trace.db`, in a private
 * folder (src/store/private_dir.ts: those of dead nodescope processes are swept first).
 */
export function privateTraceFile(): { dir: string; path: string } {
  const dir = privateDir('nodescope-db-');
  return { dir, path: join(dir, 'trace.db') };
}
