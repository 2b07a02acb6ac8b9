// The writer thread (src/store/writer.ts): owns the writable connection and runs Store.write, so the host's
// main thread never spends its turns inside a transaction. Messages are handled in order; after each
// transaction the rows committed, the event count and the last message's sequence number go into the
// shared counters, and whoever waits on the sequence number is woken.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Store } from './store.js';
import type { WriterMessage, WriterData } from './writer.js';

const data = workerData as WriterData;
const store = new Store({ path: data.path, maxEvents: data.maxEvents });
store.retention = { ...data.retention };
const done = new Int32Array(data.shared, 0, 1);
const counts = new Float64Array(data.shared, 8, 2);
counts[1] = store.eventCount();

/** Write messages waiting in the queue are taken into one transaction up to this many rows: a writer that
 * has fallen behind writes in large transactions (SQLite's fast lane; each commit appends every page it
 * touched to the WAL), one that keeps up commits each batch as it comes. */
const MAX_ROWS_PER_TRANSACTION = 20_000;

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
    let rows = m.rows;
    let actors = m.actors;
    let last = m.seq;
    let next: WriterMessage | undefined;
    while (rows.length < MAX_ROWS_PER_TRANSACTION && (next = (receiveMessageOnPort(parentPort!)?.message as WriterMessage | undefined)) && next.kind === 'write') {
      rows = rows.concat(next.rows);
      actors = actors.concat(next.actors);
      last = next.seq;
      next = undefined;
    }
    try {
      store.write(rows, actors);
      // A slow disk, for tests of the backpressure: the thread stays busy this long per row.
      if (data.slowMsPerRow) for (const until = performance.now() + rows.length * data.slowMsPerRow; performance.now() < until; );
    } catch (error) {
      parentPort!.postMessage({ error: `write: ${(error as Error).message}` });
    }
    finish(last, rows.length);
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
function finish(seq: number, rows: number): void {
  counts[0]! += rows;
  if (store.db.open) counts[1] = store.eventCount();
  Atomics.store(done, 0, seq);
  Atomics.notify(done, 0);
}
