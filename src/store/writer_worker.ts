// The writer thread (src/store/writer.ts): owns the writable connection and runs Store.write, so the host's
// main thread never spends its turns inside a transaction. Each message is handled in order; after it, the
// rows committed, the event count and the message's sequence number go into the shared counters, and
// whoever waits on the sequence number is woken.
import { parentPort, workerData } from 'node:worker_threads';
import { Store } from './store.js';
import type { WriterMessage, WriterData } from './writer.js';

const data = workerData as WriterData;
const store = new Store({ path: data.path, maxEvents: data.maxEvents });
store.retention = { ...data.retention };
const done = new Int32Array(data.shared, 0, 1);
const counts = new Float64Array(data.shared, 8, 2);
counts[1] = store.eventCount();

parentPort!.on('message', (m: WriterMessage) => {
  let rows = 0;
  try {
    if (m.kind === 'write') {
      rows = m.rows.length;
      store.write(m.rows, m.actors, true);
      // A slow disk, for tests of the backpressure: the thread stays busy this long per row.
      if (data.slowMsPerRow) for (const until = performance.now() + rows * data.slowMsPerRow; performance.now() < until; );
    } else if (m.kind === 'configure') {
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
  counts[0]! += rows;
  if (store.db.open) counts[1] = store.eventCount();
  Atomics.store(done, 0, m.seq);
  Atomics.notify(done, 0);
});
