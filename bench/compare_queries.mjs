// Every read tool's question (bench/lib/questions.mjs) answered by two builds, interleaved, CPU time per
// answer (median of 5): a before/after that the machine's load hits on both sides alike.
//   node bench/compare_queries.mjs <old dist> <new dist> [events] [tool regexp]   e.g. ../main/dist dist 1000000
// Each build writes its own store of the realistic mix (bench/lib/mix.mjs; the same rows, deterministic), so
// that each side reads through the indexes its own schema creates, and each asks through its package API
// (NodeScope.call, on the file opened read-only as `nodescope --db` does). Also printed: each build's insert
// rate while filling (rows per CPU second of Store.write), since every index costs inserts, and whether the
// two answers are the same text (a file export_trace writes: its contents; its name differs by build).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { MixWriter, START_MS } from './lib/mix.mjs';
import { ask, label, storeQuestions } from './lib/questions.mjs';
const [OLD, NEW] = [resolve(process.argv[2] ?? '../main/dist'), resolve(process.argv[3] ?? 'dist')];
const N = Number(process.argv[4] ?? 300000);
const only = process.argv[5] ? new RegExp(process.argv[5]) : null;
const dir = mkdtempSync(join(tmpdir(), 'cmpq-'));
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const side = {};
let questions;
const differing = [];
/** An answer's text, with the contents of a file it names in place of its name, and the store's name left out. */
async function answerText({ scope, path }, [tool, args]) {
  try {
    const text = JSON.stringify(await scope.call(tool, args)).replaceAll(path, '<store>');
    return text.replace(/"[^"]*?(\/[^"]+\.json)"/g, (whole, file) => {
      try {
        return JSON.stringify(readFileSync(file, 'utf8'));
      } catch {
        return whole;
      }
    });
  } catch (e) {
    return `error: ${e?.message ?? e}`;
  }
}
try {
  for (const [name, root] of [['old', OLD], ['new', NEW]]) {
    const { Store } = await import(`${root}/store/store.js`);
    const path = join(dir, `${name}.db`);
    const w = new Store({ path, maxEvents: N * 2 });
    const c = cpu();
    const mix = new MixWriter(w);
    mix.fill(N);
    const rate = w.eventCount() / ((cpu() - c) / 1000);
    questions ??= storeQuestions({ firstMs: START_MS, lastMs: mix.wall(mix.ts), requests: mix.requests }).filter((q) => !only || only.test(label(q)));
    w.close();
    side[name] = { rate, path, scope: await (await import(`${root}/api.js`)).setup({ db: path }) };
  }
  console.log(`insert rate (Store.write, CPU)  before ${Math.round(side.old.rate)} rows/s  after ${Math.round(side.new.rate)} rows/s`);
  const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  for (const q of questions) {
    const t = { old: [], new: [] };
    const size = {};
    for (let r = 0; r < 5; r++) {
      for (const name of r % 2 ? ['old', 'new'] : ['new', 'old']) {
        const a = await ask(side[name].scope, q);
        t[name].push(a.cpuMs);
        size[name] = a.error ? `error: ${a.error}` : a.size;
      }
    }
    const texts = {};
    for (const name of ['old', 'new']) texts[name] = await answerText(side[name], q);
    const same = texts.old === texts.new;
    if (!same) differing.push(label(q));
    console.log(label(q).slice(0, 72).padEnd(72), 'before', med(t.old).toFixed(1).padStart(8), 'ms  after', med(t.new).toFixed(1).padStart(7), 'ms  answer chars', JSON.stringify(size), same ? 'same' : 'DIFFERENT');
  }
  console.log(differing.length ? `answers that differ: ${differing.join('; ')}` : `every answer the same text (${questions.length})`);
} finally {
  for (const s of Object.values(side)) await s.scope.stop();
  rmSync(dir, { recursive: true, force: true });
}
