// The ingest's writer thread (src/trace/ingest_thread.ts): owns the writable connection, decodes the batches
// it is handed and writes their rows, so the host's main thread never spends its turns decoding or inside a
// transaction. Messages are handled in order; after each transaction the events committed, the event count
// and the last message's sequence number go into the shared counters, and whoever waits on the sequence
// number is woken. Lifecycle rows go back to the main thread, whose listeners follow new children.
import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Store } from '../store/store.js';
import type { WriterData, WriterMessage, WriterReport } from './ingest_thread.js';
import { RowDecoder } from './rows.js';

const data = workerData as WriterData;
yieldToOthers();
const store = new Store({ path: data.path, maxEvents: data.maxEvents });
store.retention = { ...data.retention };
const done = new Int32Array(data.shared, 0, 1);
const counts = new Float64Array(data.shared, 8, 2);
counts[1] = store.eventCount();
const decoder = new RowDecoder();

/** Write messages waiting in the queue are taken into one transaction up to this many events: a writer that
 * has fallen behind writes in large transactions (SQLite's fast lane; each commit appends every page it
 * touched to the WAL), one that keeps up commits each batch as it comes. */
const MAX_EVENTS_PER_TRANSACTION = 20_000;

parentPort!.on('message', (first: WriterMessage) => {
  let m: WriterMessage | undefined = first;
  while (m) {
    if (m.kind !== 'write') {
      handle(m);
      finish(m.seq, 0);
      m = undefined;
      continue;
    }
    // This write and those queued behind it, in one transaction.
    // (The message's own arrays, a copy made for this thread: appended to in place.)
    const { batches, rows } = m;
    let events = m.events;
    let last = m.seq;
    let next: WriterMessage | undefined;
    while (events < MAX_EVENTS_PER_TRANSACTION && (next = (receiveMessageOnPort(parentPort!)?.message as WriterMessage | undefined)) && next.kind === 'write') {
      for (const b of next.batches) batches.push(b);
      for (const r of next.rows) rows.push(r);
      events += next.events;
      last = next.seq;
      next = undefined;
    }
    try {
      const decoded = decoder.decode(batches, rows);
      store.write(decoded.rows, decoded.actors);
      if (decoded.lifecycle.length > 0) parentPort!.postMessage({ lifecycle: decoded.lifecycle } satisfies WriterReport);
      // A slow disk, for tests of the backpressure: the thread stays busy this long per event.
      if (data.slowMsPerRow) for (const until = performance.now() + events * data.slowMsPerRow; performance.now() < until; );
    } catch (error) {
      parentPort!.postMessage({ error: `write: ${(error as Error).message}` } satisfies WriterReport);
    }
    finish(last, events);
    m = next;
  }
});

function handle(m: Exclude<WriterMessage, { kind: 'write' }>): void {
  try {
    if (m.kind === 'configure') {
      if (m.maxEvents !== undefined) {
        store.maxEvents = m.maxEvents;
        store.prune();
      }
      if (m.retention !== undefined) {
        store.retention = { ...m.retention };
        store.pruneByAge();
      }
    } else if (m.kind === 'checkpoint') {
      store.db.pragma('wal_checkpoint(TRUNCATE)');
    } else if (m.kind === 'close') {
      store.close();
      parentPort!.close();
    }
  } catch (error) {
    parentPort!.postMessage({ error: `${m.kind}: ${(error as Error).message}` });
  }
}

/** Publishes what is committed and wakes whoever waits for it. */
function finish(seq: number, events: number): void {
  counts[0]! += events;
  if (store.db.open) counts[1] = store.eventCount();
  Atomics.store(done, 0, seq);
  Atomics.notify(done, 0);
}

/**
 * This thread runs below normal priority (Linux: nice 10, this thread only — /proc/thread-self names it):
 * when the CPU is short (a flood keeps the target's threads busy on every core), the thread that answers the
 * tools and the target's own threads go first, and the writer falls behind, which the acks and the agents'
 * counted drops already handle. Elsewhere, or where it is not allowed, it runs as it is.
 */
function yieldToOthers(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // not Linux, or not permitted
  }
}
