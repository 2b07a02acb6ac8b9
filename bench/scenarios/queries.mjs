// Queries: every read tool against a store of 1 million events of a realistic mix (bench/lib/mix.mjs), p95
// answer time through the package API (NodeScope.call, the wrapper the MCP server runs), on the trace file
// opened read-only as `nodescope --db` does. QUERY_EVENTS=10000000 grows the same store to 10 M events
// afterwards and asks again: a tool whose cost follows the answer costs about the same on both; one that
// grows with the store shows it in the ratio (p50 at 10 M / p50 at 1 M). Filling is setup, written straight
// through Store.write in transactions of 50,000 rows; capture's own speed is the ingest scenario's. That
// each statement uses an index is asserted in test/unit/key_plans.test.ts and read_tools.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fmtInt, fmtNum, median, quantile, ROOT, row, verdict } from '../lib/common.mjs';
import { MixWriter, STEP_NS, START_MS } from '../lib/mix.mjs';
import { ask, label, storeQuestions, unasked } from '../lib/questions.mjs';

export const name = 'queries';

/** Sizes asked of: 1 M always (the bar), then whatever QUERY_EVENTS adds (comma-separated). */
function sizes(smoke) {
  if (smoke) return [10_000, 30_000];
  const extra = (process.env.QUERY_EVENTS ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  return [...new Set([1_000_000, ...extra])].sort((a, b) => a - b);
}

/**
 * Asks every question `repeats` times, round-robin (load on a shared machine hits every tool alike); a
 * question that has taken `budgetMs` in all is asked no more once it has `minCalls` answers (a tool that
 * reads the whole store takes seconds a call at 10 M events: its p95 is then the slowest of a few).
 */
async function measure(scope, questions, { repeats, minCalls, budgetMs }) {
  const got = questions.map(() => []);
  const spent = questions.map(() => 0);
  for (let r = 0; r < repeats; r++) {
    for (let q = 0; q < questions.length; q++) {
      if (r >= minCalls && spent[q] > budgetMs) continue;
      const answer = await ask(scope, questions[q]);
      spent[q] += answer.ms;
      got[q].push(answer);
    }
  }
  return got.map((calls) => ({
    p95: quantile(calls.map((c) => c.ms), 0.95),
    p50: quantile(calls.map((c) => c.ms), 0.5),
    cpu: median(calls.map((c) => c.cpuMs)),
    size: calls.at(-1).size,
    calls: calls.length,
    error: calls.find((c) => c.error)?.error,
  }));
}

export async function run({ smoke }) {
  const plan = smoke ? { repeats: 2, minCalls: 2, budgetMs: Infinity } : { repeats: 20, minCalls: 3, budgetMs: 5_000 };
  const { Store } = await import(join(ROOT, 'dist/store/store.js'));
  const { setup } = await import(join(ROOT, 'dist/api.js'));
  const { TOOLS } = await import(join(ROOT, 'dist/tools/registry.js'));
  const dir = mkdtempSync(join(process.env.QUERY_DIR ?? tmpdir(), 'nodescope-query-store-'));
  const path = join(dir, 'trace.db');
  const rows = [];
  const bySize = [];
  try {
    let writer;
    let mix;
    let fillMs = 0;
    for (const size of sizes(smoke)) {
      // The writer is reopened on the file to grow it: the read-only session below must see a closed file.
      const t0 = performance.now();
      let count;
      let results;
      let questions;
      try {
        writer = new Store({ path, maxEvents: size * 2 });
        mix = mix ? Object.assign(mix, { store: writer }) : new MixWriter(writer);
        mix.fill(size - mix.written);
        count = writer.eventCount();
        writer.close();
        fillMs += performance.now() - t0;
        process.stderr.write(`bench: queries: ${fmtInt(count)} events filled in ${fmtNum(fillMs / 1000, 1)} s\n`);
        questions = storeQuestions({ firstMs: START_MS, lastMs: mix.wall(mix.ts), requests: mix.requests });
        const scope = await setup({ db: path });
        try {
          results = await measure(scope, questions, size > 1_000_000 ? { ...plan, minCalls: 2 } : plan);
        } finally {
          await scope.stop();
        }
      } catch (error) {
        // A larger size that fails (disk, time) leaves the sizes measured before it standing.
        if (bySize.length === 0) throw error;
        rows.push(row(name, `store of ${fmtInt(size)} events`, { figure: String(error?.message ?? error).slice(0, 160), result: 'ERROR' }));
        break;
      }
      for (const [q, r] of results.entries()) process.stderr.write(`bench: queries: ${fmtInt(count)} ${label(questions[q])} p95 ${fmtNum(r.p95, 1)} p50 ${fmtNum(r.p50, 1)} CPU ${fmtNum(r.cpu, 1)} ms (${r.calls} calls)${r.error ? ` ERROR ${r.error}` : ''}\n`);
      bySize.push({ size, count, questions, results });
      rows.push(row(name, `store of ${fmtInt(count)} events filled (setup)`, {
        figure: `${fmtNum(fillMs / 1000, 1)} s`, result: 'info',
        note: `${fmtInt(count / (fillMs / 1000))} events/s through Store.write in transactions of 50,000 rows, file in ${dir}; ${fmtNum((count * STEP_NS) / 1e9 / 60, 0)} min of recorded time at 10,000 events/s`,
      }));
    }
    const base = bySize[0];
    for (const s of bySize) {
      const bar = s === base ? 50 : 100;
      const over = [];
      s.results.forEach((res, q) => {
        const b = base.results[q];
        const growth = res.p50 / b.p50;
        if (res.p95 > bar) over.push(label(s.questions[q]));
        rows.push(row(name, `${label(s.questions[q])} p95 on ${fmtInt(s.count)} events`, {
          baseline: s === base ? '' : `p50 ${fmtNum(b.p50, 1)} ms on ${fmtInt(base.count)}`,
          traced: `p50 ${fmtNum(res.p50, 1)} ms · CPU ${fmtNum(res.cpu, 1)} ms`,
          figure: `${fmtNum(res.p95, 1)} ms${s === base ? '' : ` (×${fmtNum(growth, 1)})`}`,
          bar: `≤ ${bar} ms`,
          result: res.error ? 'ERROR' : smoke ? 'info' : verdict(res.p95 <= bar),
          note: res.error ? `answered an error: ${res.error.slice(0, 160)}` : `${res.calls} calls; answer ${fmtInt(res.size)} chars of JSON${s === base ? '' : ` (${fmtInt(b.size)} on ${fmtInt(base.count)})`}`,
          data: res,
        }));
      });
      const slowest = s.results.reduce((a, r, q) => (r.p95 > s.results[a].p95 ? q : a), 0);
      const grown = s.results.reduce((a, r, q) => (r.p50 / base.results[q].p50 > s.results[a].p50 / base.results[a].p50 ? q : a), 0);
      const errors = s.results.filter((r) => r.error).length;
      const measure = { events: s.count, p95Ms: errors ? NaN : s.results[slowest].p95, cpuMs: s.results[slowest].cpu, slowestTool: label(s.questions[slowest]), tools: s.questions.length };
      if (s !== base) Object.assign(measure, { growth: s.results[grown].p50 / base.results[grown].p50, growthTool: label(s.questions[grown]) });
      rows.push(row(name, `every read tool, p95 on ${fmtInt(s.count)} events (slowest)`, {
        figure: `${fmtNum(measure.p95Ms, 1)} ms`, bar: `≤ ${bar} ms`, result: smoke ? 'info' : verdict(over.length === 0 && errors === 0),
        note: `${s.questions.length} questions over ${new Set(s.questions.map(([t]) => t)).size} tools${over.length ? `; over the bar: ${over.join(', ')}` : ''}${errors ? `; ${errors} answered errors` : ''}`,
        key: s === base ? 'queries.1m' : s === bySize.at(-1) ? 'queries.10m' : undefined,
        measure,
      }));
    }
    const missing = unasked(TOOLS, base.questions);
    if (missing.length) rows.push(row(name, 'read tools not asked', { figure: missing.join(', '), result: 'MISS', note: 'add a question for them in bench/lib/questions.mjs' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
