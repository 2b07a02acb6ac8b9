// What the agent alone costs a traced call, for two builds: the agent installed in this process (no host: each
// batch is acknowledged on the next turn, so nothing is dropped and every call is encoded and batched), the
// fixture's small function (fixtures/fn_lib.cjs) instrumented in place as trace_module does it, called in
// chunks of 1,000 with a turn of the event loop between; CPU ns per call (user + system, GC included) of one
// process per build and round, builds interleaved, untraced in the same rounds; median of the rounds.
//   node bench/call_cost.mjs <old root> <new root> [rounds]     (a root holds dist/ and bench/fixtures/)
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const [OLD, NEW] = [resolve(process.argv[2] ?? '../main'), resolve(process.argv[3] ?? '.')];
const ROUNDS = Number(process.argv[4] ?? 5);
const CALLS = 200_000;

if (process.argv[2] === '--child') {
  const [, , , root, mode] = process.argv;
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const { install } = await import(`${root}/dist/agent/index.js`);
  const lib = `${root}/bench/fixtures/fn_lib.cjs`;
  let fn;
  if (mode === 'untraced') fn = require(lib).add;
  else {
    let seq = 0;
    globalThis.__ns_bench = () => {
      const s = ++seq;
      setImmediate(() => agent.ack(s));
    };
    const agent = install({ binding: '__ns_bench', actor: String(process.pid), level: 'full', sampleRate: 1, redact: '', batchSize: 256, maxQueue: 20_000, maxInFlight: 16, flushMs: 10, fromStart: false }, require);
    const { functionsAt, instrument, position } = await import(`${root}/dist/trace/instrument.js`);
    const { readFileSync } = await import('node:fs');
    const source = readFileSync(lib, 'utf8');
    const [site] = functionsAt(source, [{ name: 'add', ...position(source, source.indexOf('function add')) }]);
    const [id] = agent.instrumented({ module: lib, maxCalls: 1e9, maxPerSecond: 1e9, durationMs: 3_600_000 }, lib, ['add'], 'live-edit');
    const m = { exports: {} };
    new Function('exports', 'module', instrument(source, [{ site, id }]))(m.exports, m);
    fn = m.exports.add;
    if (agent.stats().dropped !== 0) throw new Error('dropped');
  }
  const run = async () => {
    let s = 0;
    for (let done = 0; done < CALLS; done += 1000) {
      for (let i = 0; i < 1000; i++) s = fn(s) % 1000003;
      await new Promise((r) => setImmediate(r));
    }
    return s;
  };
  await run(); // warm-up
  const c0 = process.cpuUsage();
  globalThis.__sink = await run();
  const c = process.cpuUsage(c0);
  console.log(((c.user + c.system) * 1000) / CALLS);
  process.exit(0);
}

const me = fileURLToPath(import.meta.url);
const ns = (root, mode) => Number(execFileSync(process.execPath, [me, '--child', root, mode], { encoding: 'utf8' }).trim());
const res = { untraced: [], old: [], new: [] };
for (let r = 0; r < ROUNDS; r++) {
  res.untraced.push(ns(NEW, 'untraced'));
  res.old.push(ns(OLD, 'args'));
  res.new.push(ns(NEW, 'args'));
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const fmt = (a) => `${Math.round(median(a))} ns (${a.map(Math.round).join(' · ')})`;
console.log(`CPU per call, arguments + result, ${ROUNDS} rounds of ${CALLS} calls, Node ${process.versions.node}`);
console.log(`untraced  ${fmt(res.untraced)}`);
console.log(`old       ${fmt(res.old)}   ${OLD}`);
console.log(`new       ${fmt(res.new)}   ${NEW}`);
