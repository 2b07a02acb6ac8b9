// The filtered questions on one store, answered by two builds of the query layer, interleaved, CPU time per
// answer (median of 7): a before/after that the machine's load hits on both sides alike.
//   node bench/compare_queries.mjs <old dist> <new dist> [events]     e.g. ../main/dist dist 1000000
// The store (the realistic mix of bench/lib/mix.mjs) is written by the new build (its schema: the old
// queries read it through json_extract as before).
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { MixWriter } from './lib/mix.mjs';
const [OLD, NEW] = [resolve(process.argv[2] ?? '../main/dist'), resolve(process.argv[3] ?? 'dist')];
const N = Number(process.argv[4] ?? 300000);
const S = await import(`${NEW}/store/store.js`);
const dir = mkdtempSync(join(tmpdir(), 'cmpq-'));
const path = join(dir, 'db');
const w = new S.Store({ path, maxEvents: N * 2 });
new MixWriter(w).fill(N);
w.close();
const impl = {};
for (const [name, root] of [['old', OLD], ['new', NEW]]) {
  const St = await import(`${root}/store/store.js`);
  const store = new St.Store({ path, readonly: true });
  impl[name] = { store, calls: await import(`${root}/query/calls.js`), msgs: await import(`${root}/query/messages.js`), http: await import(`${root}/query/http.js`), path: await import(`${root}/query/path.js`), act: await import(`${root}/query/activity.js`), queues: await import(`${root}/query/queues.js`), perf: await import(`${root}/query/perf.js`) };
}
const win = { sinceMs: null, untilMs: null }, page = { limit: 50, offset: 0 };
const qs = {
  'calls(payments.js)': (m) => m.calls.functionCalls(m.store, { module: 'payments.js', window: win }, page).total,
  'calls(payments.js,charge,w1)': (m) => m.calls.functionCalls(m.store, { module: 'payments.js', fn: 'charge', actors: ['4242/w1'], window: win }, page).total,
  'message_flow': (m) => m.msgs.messageFlow(m.store, '4242', '4242/w1', win, page).total,
  'http(500)': (m) => m.http.httpRequests(m.store, { window: win, statusMin: 500 }, page).total,
  'path(w2)': (m) => m.path.executionPath(m.store, '4242/w2', win, page).total,
  'mailbox (queue analysis)': (m) => m.queues.mailboxStats(m.store).pairs.map((p) => `${p.sent}/${p.received}/${p.pending}`).join(' '),
  'slowest_calls(10)': (m) => m.perf.slowestCalls(m.store, { window: win }, 10).map((c) => c.ref).join(' '),
  'slowest_calls(payments.js,10)': (m) => m.perf.slowestCalls(m.store, { module: 'payments.js', window: win }, 10).map((c) => c.ref).join(' '),
  'performance(payments.js)': (m) => m.perf.performanceAnalysis(m.store, 'payments.js', win).map((s) => `${s.fn}:${s.calls}/${s.p95_ms}`).join(' '),
  'activity(w1)': (m) => Object.values(m.act.actorActivity(m.store, m.store.actor('4242/w1') ?? { id: '4242/w1' }).counts).reduce((a, b) => a + b, 0),
};
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
for (const [q, fn] of Object.entries(qs)) {
  const t = { old: [], new: [] }; const totals = {};
  for (let r = 0; r < 7; r++) for (const name of r % 2 ? ['old', 'new'] : ['new', 'old']) { const c = cpu(); totals[name] = fn(impl[name]); t[name].push(cpu() - c); }
  const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  console.log(q.padEnd(30), 'before', med(t.old).toFixed(1).padStart(7), 'ms  after', med(t.new).toFixed(1).padStart(7), 'ms (CPU, median of 7)  totals', JSON.stringify(totals));
}
for (const m of Object.values(impl)) m.store.close();
rmSync(dir, { recursive: true, force: true });
