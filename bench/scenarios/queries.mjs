// Queries: the nine tools (and get_http_requests) against a store holding 1 million events of a realistic
// mix (calls 60 %, HTTP 15 %, messages 10 %, states 10 %, logs 5 %, over a main thread, three workers and
// five tracked objects), p95 answer time through the same wrapper the MCP server uses. The store is filled
// through Store.write directly: this measures the read side, and capture's own speed is the ingest
// scenario's. That every statement uses an index is checked by test/unit/read_tools.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fmtInt, fmtNum, quantile, ROOT, row, verdict } from '../lib/common.mjs';

export const name = 'queries';

const PID = 4242;
const THREADS = [`${PID}`, `${PID}/w1`, `${PID}/w2`, `${PID}/w3`];
const OBJECTS = [1, 2, 3, 4, 5].map((i) => `${PID}/o${i}`);
const MODULES = ['./src/payments.js', './src/cart.js', './src/users.js'];
const FUNCTIONS = ['charge', 'refund', 'quote', 'lookup'];

function fill(store, total) {
  const actors = [
    { id: `${PID}`, kind: 'process', pid: PID, name: 'app.js', started_ms: 1_700_000_000_000 },
    ...THREADS.slice(1).map((id, i) => ({ id, kind: 'worker', pid: PID, parent: `${PID}`, name: ['pricing', 'auth', 'mailer'][i], started_ms: 1_700_000_000_000 })),
    ...OBJECTS.map((id, i) => ({ id, kind: 'object', pid: PID, parent: `${PID}`, name: ['cart', 'session', 'ledger', 'cache', 'queue'][i], started_ms: 1_700_000_000_000, info: JSON.stringify({ class: 'Thing' }) })),
  ];
  store.write([], actors, true);
  const base = 1_000_000_000_000;
  let ts = base;
  let call = 0;
  let req = 0;
  let states = 0;
  const batch = [];
  const flush = () => {
    store.write(batch.splice(0), [], true);
  };
  const ev = (type, subtype, actor, payload, extra = {}) => {
    ts += 1_000;
    batch.push({ ts_ns: ts, wall_ms: 1_700_000_000_000 + (ts - base) / 1e6, type, subtype, actor, from_actor: null, to_actor: null, corr: null, ref: null, payload: JSON.stringify(payload), ...extra });
  };
  for (let i = 0; batch.length + i < total; ) {
    const r = i % 20;
    const thread = THREADS[i % THREADS.length];
    if (r < 6) {
      const id = `${thread}:c${++call}`;
      const fn = FUNCTIONS[call % FUNCTIONS.length];
      const module = MODULES[call % MODULES.length];
      ev('call', 'call', thread, { module, fn, args: [call, { sku: 'apple', qty: 2 }], parent: null }, { ref: id, corr: req ? `${PID}:r${req}` : null });
      ev('call', call % 17 === 0 ? 'throw' : 'return', thread, { module, fn, result: { ok: true, n: call }, duration_ns: 1000 + (call % 997) * 1000, async: false }, { ref: id });
      i += 2;
    } else if (r < 9) {
      const id = `${PID}:r${++req}`;
      ev('http', 'request', `${PID}`, { method: 'GET', url: `/checkout/${req}` }, { ref: id, corr: id });
      ev('http', 'response', `${PID}`, { method: 'GET', url: `/checkout/${req}`, route: '/checkout/:id', status: req % 50 === 0 ? 500 : 200, duration_ns: 2e6 }, { ref: id, corr: id });
      i += 2;
    } else if (r < 11) {
      const to = THREADS[1 + (i % 3)];
      const ref = `${PID}>${to}#m${i % 97}`;
      ev('message', 'send', `${PID}`, { channel: 'worker', message: { sku: 'apple', n: i % 97 } }, { from_actor: `${PID}`, to_actor: to, ref });
      ev('message', 'receive', to, { channel: 'worker', message: { sku: 'apple', n: i % 97 } }, { from_actor: `${PID}`, to_actor: to, ref });
      i += 2;
    } else if (r < 13) {
      const obj = OBJECTS[states++ % OBJECTS.length];
      ev('state', 'snapshot', obj, { state: { items: [{ sku: 'apple', qty: i % 7 }], total: i % 101 }, trigger: { method: 'add', args: ['apple', i % 7] } }, { ref: `${PID}:c${call}` });
      i += 1;
    } else {
      ev('log', 'log', thread, { text: `line ${i}` });
      i += 1;
    }
    if (batch.length >= 10_000) flush();
  }
  flush();
}

export async function run({ smoke }) {
  const total = smoke ? 50_000 : 1_000_000;
  const repeats = smoke ? 3 : 20;
  const { Store } = await import(join(ROOT, 'dist/store/store.js'));
  const { Session } = await import(join(ROOT, 'dist/session.js'));
  const { resolveConfig } = await import(join(ROOT, 'dist/config.js'));
  const { callTool } = await import(join(ROOT, 'dist/server.js'));
  const { TOOLS } = await import(join(ROOT, 'dist/tools/registry.js'));
  const dir = mkdtempSync(join(tmpdir(), 'nodescope-bench-queries-'));
  const path = join(dir, 'trace.db');
  const t0 = performance.now();
  const writer = new Store({ path, maxEvents: total * 2 });
  fill(writer, total);
  const count = writer.eventCount();
  writer.close();
  const fillMs = performance.now() - t0;
  const session = new Session({ config: resolveConfig({}, {}, null), db: path });
  const questions = [
    ['get_supervision_tree', {}],
    ['get_function_calls', { module_name: 'payments.js' }],
    ['get_function_calls', { module_name: 'payments.js', function_name: 'charge', pid_string: `${PID}/w1` }],
    ['get_message_flow', { from_pid: `${PID}`, to_pid: 'pricing' }],
    ['get_state_timeline', { pid_string: 'cart' }],
    ['analyze_state_changes', { pid_string: 'cart' }],
    ['get_execution_path', { pid_string: `${PID}/w2` }],
    ['trace_process', { pid_string: `${PID}/w1` }],
    ['trace_named_process', { process_name: 'ledger' }],
    ['get_http_requests', { status_min: 500 }],
  ];
  const rows = [];
  try {
    for (const [tool, args] of questions) {
      const def = TOOLS.find((t) => t.name === tool);
      const times = [];
      let error;
      for (let i = 0; i < repeats; i++) {
        const s = performance.now();
        const r = await callTool(def, args, session);
        times.push(performance.now() - s);
        if (r.isError) error = r.content[0].text;
      }
      const p95 = quantile(times, 0.95);
      rows.push(
        row(name, `${tool}(${Object.values(args).join(', ')}) p95 on ${fmtInt(count)} events`, {
          traced: `p50 ${fmtNum(quantile(times, 0.5), 1)} ms`,
          figure: `${fmtNum(p95, 1)} ms`,
          bar: '≤ 50 ms',
          result: error ? 'ERROR' : smoke ? 'info' : verdict(p95 <= 50),
          note: error ? `answered an error: ${error.slice(0, 120)}` : `${repeats} calls`,
          data: times,
        }),
      );
    }
    rows.push(row(name, 'store filled for the query rows', { figure: `${fmtInt(count)} events in ${fmtNum(fillMs / 1000, 1)} s`, result: 'info' }));
  } finally {
    await session.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
