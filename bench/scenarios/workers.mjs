// A worker's start: how long after `new Worker` a launched program receives its worker's first message
// (posted on the worker's first line, fixtures/worker_start.cjs), untraced and launched by nodescope (the
// worker held before its first line while its agent goes in), in alternation, on the machine's Node and on
// Node 24. Each traced run must record that message as the worker's (traced from its first line), or the
// scenario fails. WORKER_START_BEFORE=<another root> (one holding a built dist/) adds that build as a variant
// measured in the same rounds.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fixture, fmtNum, interleave, loadDist, median, ROOT, row, sleep, waitFor } from '../lib/common.mjs';

export const name = 'workers';

const NODE24 = join(ROOT, 'test/targets/node_modules/node24/bin/node');
const BEFORE = process.env.WORKER_START_BEFORE ? resolve(process.env.WORKER_START_BEFORE) : undefined;

function exited(child) {
  return new Promise((res, rej) => {
    child.once('error', rej);
    child.once('exit', (code) => (code === 0 ? res() : rej(new Error(`worker_start.cjs exited with code ${code}`))));
  });
}

const firstMessageMs = (out) => JSON.parse(readFileSync(out, 'utf8')).firstMessageMs;

async function untraced(node, out) {
  await exited(spawn(node, [fixture('worker_start.cjs'), out], { stdio: 'ignore' }));
  return { ms: firstMessageMs(out) };
}

async function traced(node, out, dist) {
  const { Store, Tracer, DEFAULT_REDACT } = await loadDist(dist);
  const store = new Store();
  const tracer = new Tracer(store, { level: 'messages_only', sampleRate: 1, redact: DEFAULT_REDACT });
  try {
    const link = await tracer.launch([node, fixture('worker_start.cjs'), out]);
    const pid = String(link.pid);
    const ended = await waitFor(() => (tracer.ingest.flush(), store.actor(pid)?.ended_ms != null), 15_000);
    if (!ended || !existsSync(out)) throw new Error(`the traced worker_start.cjs (pid ${pid}) did not end within 15 s`);
    const sends = store.db.prepare("SELECT count(*) AS n FROM events WHERE actor = ? AND type = 'message' AND subtype = 'send'").get(`${pid}/w1`).n;
    return { ms: firstMessageMs(out), recorded: sends === 1 };
  } finally {
    await tracer.close().catch(() => undefined);
    store.close();
  }
}

async function measure(node, label, rounds) {
  const dir = mkdtempSync(join(tmpdir(), 'nodescope-workers-'));
  const variants = ['untraced', 'traced', ...(BEFORE ? ['before'] : [])];
  try {
    const out = await interleave(rounds, variants, async (v, r) => {
      const file = join(dir, `${v}-${r}.json`);
      await sleep(100); // the previous process's teardown out of the way
      if (v === 'untraced') return untraced(node, file);
      return traced(node, file, v === 'traced' ? undefined : join(BEFORE, 'dist'));
    });
    const ms = (v) => out[v].map((x) => x.ms);
    const diff = (v) => median(ms(v).map((x, i) => x - ms('untraced')[i]));
    const ratio = (v) => median(ms(v).map((x, i) => x / ms('untraced')[i]));
    const missed = out.traced.filter((x) => !x.recorded).length;
    if (missed === rounds) throw new Error(`${label}: the worker's first message was recorded in no traced run`);
    const list = (v) => ms(v).map((x) => fmtNum(x, 0)).join(', ');
    const plus = (d) => `${d >= 0 ? '+' : ''}${fmtNum(d, 0)} ms`;
    const before = BEFORE ? `; build at ${BEFORE}: median ${fmtNum(median(ms('before')), 0)} ms, ${plus(diff('before'))} (×${fmtNum(ratio('before'))}), all ${list('before')}` : '';
    return [
      row(name, `worker's first message after new Worker, ${label} (ms)`, {
        baseline: `${fmtNum(median(ms('untraced')), 0)} ms`,
        traced: `${fmtNum(median(ms('traced')), 0)} ms`,
        figure: `${plus(diff('traced'))} (×${fmtNum(ratio('traced'))})`,
        note: `medians of ${rounds} rounds (per-round difference and ratio); untraced ${list('untraced')}; traced ${list('traced')}; the worker's message recorded in ${rounds - missed} of ${rounds} traced runs${before}`,
        data: out,
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run({ smoke, rounds }) {
  const n = rounds ?? (smoke ? 1 : 9);
  const rows = await measure(process.execPath, `Node ${process.versions.node.split('.')[0]}`, n);
  if (!existsSync(NODE24)) return [...rows, row(name, "worker's first message, Node 24", { note: `no Node 24 binary at ${NODE24}: run node scripts/install-targets.mjs` })];
  return [...rows, ...(await measure(NODE24, 'Node 24', n))];
}
