#!/usr/bin/env node
// nodescope benchmarks. `npm run bench` (builds first) or `node bench/run.mjs [--smoke] [--only a,b] [--rounds N] [--out file]`.
// Prints a markdown table (scenario, metric, baseline, traced, ratio or figure, bar, result), then the
// closing table of the recording spine's bars (bench/lib/summary.mjs: one line per bar and Node version,
// from the rows the scenarios return), and writes both as JSON to bench/results/latest.json (full runs) or
// to the --out file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BENCH_DIR, killAllFixtures } from './lib/common.mjs';
import { summarize, summaryTable } from './lib/summary.mjs';

const SCENARIOS = ['http', 'ingest', 'attach', 'workers', 'storage', 'breakpoint', 'functions', 'modules', 'probes', 'queries'];

function parseArgs(argv) {
  const opts = { smoke: false, only: undefined, rounds: undefined, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--smoke') opts.smoke = true;
    else if (a === '--only') opts.only = argv[++i]?.split(',').map((s) => s.trim()).filter(Boolean);
    else if (a.startsWith('--only=')) opts.only = a.slice(7).split(',');
    else if (a === '--rounds') opts.rounds = Number(argv[++i]);
    else if (a.startsWith('--rounds=')) opts.rounds = Number(a.slice(9));
    else if (a === '--out') opts.out = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log('usage: node bench/run.mjs [--smoke] [--only ' + SCENARIOS.join(',') + '] [--rounds N] [--out file.json]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (opts.rounds !== undefined && !(Number.isInteger(opts.rounds) && opts.rounds > 0)) throw new Error('--rounds wants a positive integer');
  for (const n of opts.only ?? []) if (!SCENARIOS.includes(n)) throw new Error(`unknown scenario ${n} (known: ${SCENARIOS.join(', ')})`);
  return opts;
}

const HEADER = '| scenario | metric | baseline | traced | ratio / figure | bar | result |';

function table(rows) {
  const esc = (s) => String(s ?? '').replace(/\|/g, '\\|');
  const lines = [HEADER, '|---|---|---:|---:|---:|---|---|'];
  for (const r of rows) lines.push(`| ${[r.scenario, r.metric, r.baseline, r.traced, r.figure, r.bar, r.result].map(esc).join(' | ')} |`);
  return lines.join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // Nothing outlives the run: a watchdog ends it (and its fixtures) if a scenario hangs.
  const limitMs = opts.smoke ? 90_000 : 20 * 60_000;
  const watchdog = setTimeout(() => {
    console.error(`bench: watchdog: still running after ${limitMs / 1000} s, stopping`);
    killAllFixtures();
    process.exit(2);
  }, limitMs);
  watchdog.unref();
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => (killAllFixtures(), process.exit(130)));
  process.on('exit', killAllFixtures);

  const names = opts.only ?? SCENARIOS;
  const started = Date.now();
  const loadAtStart = loadavg();
  const rows = [];
  let failed = 0;
  for (const n of names) {
    const t0 = Date.now();
    process.stderr.write(`bench: ${n}${opts.smoke ? ' (smoke)' : ''} …\n`);
    try {
      const mod = await import(`./scenarios/${n}.mjs`);
      const got = await mod.run({ smoke: opts.smoke, rounds: opts.rounds });
      rows.push(...got);
    } catch (error) {
      failed++;
      rows.push({ scenario: n, metric: 'scenario crashed', baseline: '', traced: '', figure: String(error?.message ?? error).split('\n')[0].slice(0, 160), bar: '', result: 'ERROR', note: String(error?.stack ?? error) });
      process.stderr.write(`bench: ${n} crashed: ${error?.stack ?? error}\n`);
    } finally {
      killAllFixtures();
    }
    process.stderr.write(`bench: ${n} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const seconds = (Date.now() - started) / 1000;
  const cmd = `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim();
  console.log(`\nnodescope benchmarks — ${new Date().toISOString()} — node ${process.version}, ${cpus().length} cores — ${opts.smoke ? 'SMOKE (figures not meaningful)' : 'full'} — ${seconds.toFixed(0)} s\n`);
  console.log(table(rows));
  const notes = rows.filter((r) => r.note && r.result !== 'ERROR');
  if (notes.length) {
    console.log('\nNotes:');
    for (const r of notes) console.log(`- ${r.scenario} / ${r.metric}: ${r.note}`);
  }
  const summary = summarize(rows, { smoke: opts.smoke });
  console.log(`\nThe bars (load average ${loadAtStart[0].toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end, on ${cpus().length} cores)\n`);
  console.log(summaryTable(summary));
  const out = opts.out ? resolve(opts.out) : opts.smoke ? join(tmpdir(), 'nodescope-bench-smoke.json') : join(BENCH_DIR, 'results', 'latest.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: cmd, node: process.version, cores: cpus().length, cpu: cpus()[0]?.model, smoke: opts.smoke, seconds, loadavg: { start: loadAtStart, end: loadavg() }, summary, rows }, null, 2) + '\n');
  console.log(`\nresults: ${out}`);
  clearTimeout(watchdog);
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((error) => {
  console.error(error?.stack ?? error);
  killAllFixtures();
  process.exit(1);
});
