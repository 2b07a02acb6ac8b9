// message_queue_analysis's reads (mailboxStats) and Store.write on a postMessage flood's record, for two
// builds, interleaved: CPU ms per answer and CPU µs per row written (median and min of the rounds).
//   node bench/mailbox_flood.mjs <old dist> <new dist> [round trips] [rounds] [max events]
// The rows are those test/fixtures/flood/app.cjs makes: the main thread keeps 64 numbers going to a worker,
// which echoes each back, and sends the next number on each reply, so each number (a message id is a hash
// of the content) is sent ~64 times each way. The agents drop what the host cannot take: each thread's
// events come in batches of 500, and nine in ten of the main thread's batches and four in five of the
// worker's are dropped (so receipts are lost and sends stay open, as in the real flood: 73k of 2.1M events
// kept). Kept batches are written in 2,000-row transactions, the threads' batches interleaved as they
// arrive. [max events] below the rows kept makes every write prune too.
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const [OLD, NEW] = [resolve(process.argv[2] ?? '../main/dist'), resolve(process.argv[3] ?? 'dist')];
const TRIPS = Number(process.argv[4] ?? 1_000_000);
const ROUNDS = Number(process.argv[5] ?? 5);
const MAX_EVENTS = Number(process.argv[6] ?? 10_000_000);
const [MAIN, WORKER] = ['4242', '4242/w1'];
const WINDOW = 64;

let x = 7;
const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
const threads = { [MAIN]: [], [WORKER]: [] };
let ts = 1e12;
const ev = (actor, subtype, from, to, n) => {
  ts += 700;
  const ref = `${from}>${to}#${(n * 2654435761) % 4294967296}`;
  const message = { channel: 'worker', message: n };
  threads[actor].push({ ts_ns: ts, wall_ms: 1.7e12 + (ts - 1e12) / 1e6, type: 'message', subtype, actor, from_actor: from, to_actor: to, corr: null, ref, payload: JSON.stringify(message) });
};
// Each chain's number goes out, comes back, and the next one goes out; chains take turns.
const chains = Array.from({ length: WINDOW }, (_, i) => i);
for (let k = 0; k < TRIPS; k++) {
  const c = k % WINDOW;
  const n = chains[c]++;
  ev(MAIN, 'send', MAIN, WORKER, n);
  ev(WORKER, 'receive', MAIN, WORKER, n);
  ev(WORKER, 'send', WORKER, MAIN, n);
  ev(MAIN, 'receive', WORKER, MAIN, n);
}
const kept = { [MAIN]: 0.1, [WORKER]: 0.2 };
const batches = [];
for (const [actor, rows] of Object.entries(threads)) {
  for (let i = 0; i < rows.length; i += 500) if (rand() < kept[actor]) batches.push(rows.slice(i, i + 500));
}
// as they arrive: in the order of their first event
batches.sort((a, b) => a[0].ts_ns - b[0].ts_ns);
const rows = batches.flat();

const builds = {};
for (const [name, root] of [['old', OLD], ['new', NEW]]) {
  builds[name] = { Store: (await import(`${root}/store/store.js`)).Store, mailboxStats: (await import(`${root}/query/queues.js`)).mailboxStats };
}
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const t = { old: { write: [], read: [] }, new: { write: [], read: [] } };
const answers = {};
for (let r = 0; r < ROUNDS; r++) {
  for (const name of r % 2 ? ['old', 'new'] : ['new', 'old']) {
    const dir = mkdtempSync(join(tmpdir(), 'mbox-'));
    const store = new builds[name].Store({ path: join(dir, 'db'), maxEvents: MAX_EVENTS });
    const mine = rows.map((row) => ({ ...row }));
    let c = cpu();
    for (let i = 0; i < mine.length; i += 2000) store.write(mine.slice(i, i + 2000), []);
    t[name].write.push(((cpu() - c) * 1000) / mine.length);
    builds[name].mailboxStats(store);
    const reads = [];
    for (let q = 0; q < 5; q++) {
      c = cpu();
      answers[name] = builds[name].mailboxStats(store);
      reads.push(cpu() - c);
    }
    t[name].read.push(reads.sort((a, b) => a - b)[2]);
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const min = (xs) => Math.min(...xs);
console.log(`${rows.length} rows kept of ${TRIPS * 4}, max events ${MAX_EVENTS}; ${ROUNDS} rounds`);
for (const [what, f] of [['median', med], ['min', min]]) {
  console.log(`mailboxStats CPU ms (${what}): before ${f(t.old.read).toFixed(1)}  after ${f(t.new.read).toFixed(1)}  ratio ${(f(t.new.read) / f(t.old.read)).toFixed(3)}`);
  console.log(`Store.write CPU µs per row (${what}): before ${f(t.old.write).toFixed(2)}  after ${f(t.new.write).toFixed(2)}  ratio ${(f(t.new.write) / f(t.old.write)).toFixed(3)}`);
}
const pending = (a) => JSON.stringify(a.pending);
console.log('pending, before:', pending(answers.old));
console.log('pending, after: ', pending(answers.new));
console.log('pairs, before:', JSON.stringify(answers.old.pairs));
console.log('pairs, after: ', JSON.stringify(answers.new.pairs));
