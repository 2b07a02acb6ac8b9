// How long a question's sync takes (every thread flushes and answers) against a target with two idle workers,
// for two builds side by side: the tracer attached by pid, then 20 syncs, the builds alternating over the
// rounds; the median and the largest per build and Node version. A worker's answer through the inspector
// comes ~44 ms late (bench/README.md, "A worker's start under nodescope"); through the data socket it does not.
//   node bench/sync_latency.mjs <old dist> <new dist> [rounds]        (TARGET_NODES: extra node binaries, comma-separated)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { median, ROOT } from './lib/common.mjs';

const [OLD, NEW] = [resolve(process.argv[2] ?? '../main/dist'), resolve(process.argv[3] ?? 'dist')];
const ROUNDS = Number(process.argv[4] ?? 3);
const SYNCS = 20;
const TARGET = `const { Worker } = require('node:worker_threads');
for (let i = 0; i < 2; i++) new Worker('setInterval(() => {}, 1000)', { eval: true });
setInterval(() => {}, 1000);
setTimeout(() => console.log('ready'), 300);`;

async function measure(dist, node) {
  const { Store } = await import(`${dist}/store/store.js`);
  const { Tracer } = await import(`${dist}/trace/tracer.js`);
  const app = spawn(node, ['-e', TARGET], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((r) => app.stdout.once('data', r));
  const store = new Store({});
  const tracer = new Tracer(store, { level: 'full', sampleRate: 1, redact: 'password' });
  try {
    await tracer.attach(app.pid);
    // The workers' agents and data sockets up: the first syncs after attach wait for them.
    for (let i = 0; i < 5; i++) await tracer.sync();
    const ms = [];
    for (let i = 0; i < SYNCS; i++) {
      const t0 = performance.now();
      await tracer.sync();
      ms.push(performance.now() - t0);
    }
    return { threads: store.actors().length, ms };
  } finally {
    await tracer.close();
    app.kill();
    store.close();
  }
}

const NODE24 = join(ROOT, 'test/targets/node_modules/node24/bin/node');
const nodes = [process.execPath, ...(process.env.TARGET_NODES ?? (existsSync(NODE24) ? NODE24 : '')).split(',').filter(Boolean)];
for (const node of nodes) {
  const runs = { old: [], new: [] };
  for (let r = 0; r < ROUNDS; r++) for (const name of r % 2 ? ['old', 'new'] : ['new', 'old']) runs[name].push(...(await measure(name === 'old' ? OLD : NEW, node)).ms);
  const line = (ms) => `median ${median(ms).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms`;
  console.log(`${node}: sync with 2 workers, ${runs.new.length} each — old: ${line(runs.old)} · new: ${line(runs.new)}`);
}
