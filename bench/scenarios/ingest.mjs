// Ingest: events from a target thread into SQLite, end to end, through the real path (agent.emit → bounded
// queue → batch → data socket or binding → host → SQLite), attached through the package API (`setup`), so
// it measures whatever the session does with what arrives.
// 1. Sustained: the target emits ~200-byte events at the bar's rate for 30 s; we measure what is stored per
//    second until the pipeline is drained, and what was dropped (agent/dropped events + the agent's counter).
// 2. Burst: 2 million emits as fast as the target can (yielding between chunks), while a client asks every
//    read tool in turn through the API: their p99 latency, the target's memory growth, and stored + dropped
//    = emitted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { drain } from '../lib/drain.mjs';
import { fixture, fmtBytes, fmtInt, fmtNum, hostCpuMs, procCpuMs, quantile, ROOT, row, sleep, startFixture, verdict } from '../lib/common.mjs';
import { ask, label, liveQuestions, unasked } from '../lib/questions.mjs';

export const name = 'ingest';

/** The bar of issue 11. INGEST_RATE / INGEST_SECONDS shorten a run when comparing variants by hand. */
const BAR_RATE = 500_000;
const OFFERED = Number(process.env.INGEST_RATE) || BAR_RATE;
const MB = 1024 * 1024;

/** Events of the fixture stored so far, and drops the agents reported (counted in SQL: nothing is pruned). */
function counted(store) {
  const stored = store.db.prepare("SELECT count(*) AS n FROM events WHERE type = 'log' AND subtype = 'bench'").get().n;
  const dropped = store.db.prepare("SELECT coalesce(sum(json_extract(payload, '$.count')), 0) AS n FROM events WHERE type = 'agent' AND subtype = 'dropped'").get().n;
  return { stored, dropped };
}

/**
 * Every emitted event stored or counted as dropped. The drops may also count some of the fixture's own
 * stdout lines (`lines.n` of them, see drain), never more: `dropped` is what the fixture's events lost.
 */
function account(stored, dropped, emitted, lines) {
  const excess = stored + dropped - emitted;
  const accounted = excess >= 0 && excess <= lines.n;
  const text = `stored+dropped=${fmtInt(stored + dropped)} for ${fmtInt(emitted)} emitted${excess > 0 ? ` (the drops also count ${excess} of the fixture's ${lines.n} stdout lines meanwhile)` : ''}${accounted ? '' : ' — MISMATCH: events lost without being counted'}`;
  return { accounted, dropped: dropped - Math.max(0, excess), text };
}

export async function run({ smoke }) {
  const cfg = smoke ? { seconds: 1, rate: 20_000, burst: 50_000 } : { seconds: Number(process.env.INGEST_SECONDS) || 30, rate: OFFERED, burst: 2_000_000 };
  const { setup } = await import(join(ROOT, 'dist/api.js'));
  const { TOOLS } = await import(join(ROOT, 'dist/tools/registry.js'));
  const exports = mkdtempSync(join(tmpdir(), 'nodescope-bench-ingest-'));
  const target = await startFixture(fixture('emit_target.cjs'));
  let scope;
  const rows = [];
  try {
    // A store big enough to hold the whole run: this measures ingest, not retention (storage does that).
    scope = await setup({ attach: target.pid, config: { tracing_level: 'full', max_events: cfg.rate * cfg.seconds + cfg.burst + 100_000, export_dir: exports } });
    const { store } = scope.session;
    await drain(target, scope, 5_000);

    // ---------------------------------------------------------------- sustained
    const total = cfg.rate * cfg.seconds;
    const n0 = counted(store);
    const c0 = { host: hostCpuMs(), target: procCpuMs(target.pid) };
    const t0 = performance.now();
    const done = await target.request({ cmd: 'emit', total, rate: cfg.rate, chunk: 5_000 }, (cfg.seconds + 120) * 1000);
    const tEmitted = performance.now();
    const lines = { n: 1 };
    const left = await drain(target, scope, 60_000, lines);
    const t1 = performance.now();
    const c1 = { host: hostCpuMs(), target: procCpuMs(target.pid) };
    const n1 = counted(store);
    const stored = n1.stored - n0.stored;
    const dropped = n1.dropped - n0.dropped + (left?.dropped ?? 0);
    const storedPerS = stored / ((t1 - t0) / 1000);
    const sum = account(stored, dropped, total, lines);
    const emitRate = done.emitted / (done.ms / 1000);
    const us = (ms) => (ms * 1000) / Math.max(1, stored);
    const transport = process.env.NODESCOPE_DATA_CHANNEL === 'off' ? 'binding only' : 'data socket';
    rows.push(row(name, `sustained ${cfg.seconds} s at ${fmtInt(cfg.rate)}/s offered (${transport}): stored/s`, {
      baseline: `${fmtInt(emitRate)}/s emitted`, traced: `${fmtInt(stored)} stored`, figure: `${fmtInt(storedPerS)}/s`, bar: `≥ ${fmtInt(BAR_RATE)}/s, 0 dropped`,
      result: smoke ? 'info' : verdict(storedPerS >= BAR_RATE && dropped === 0),
      note: `emitting took ${fmtInt(done.ms)} ms, draining ${fmtInt(t1 - tEmitted)} ms more${left ? '' : ' (NOT drained within 60 s)'}; ${fmtInt(dropped)} dropped; ${sum.text}`,
      data: { total, stored, dropped, emitMs: done.ms, drainMs: t1 - tEmitted, storedPerS, emitRate },
      key: 'ingest.sustained',
      measure: { storedPerS, dropped: sum.dropped, seconds: cfg.seconds, offered: cfg.rate },
    }));
    rows.push(row(name, 'sustained: CPU µs per stored event (target process · host process, all its threads)', {
      baseline: `target ${fmtNum(us(c1.target - c0.target))}`, traced: `host ${fmtNum(us(c1.host - c0.host))}`, result: 'info',
      note: 'target = agent.emit + encoding + batching + sending, incl. building the payload; host = the whole nodescope process (receiving, decoding, SQLite, answering)',
      data: { c0, c1 },
    }));

    // ---------------------------------------------------------------- burst
    const questions = liveQuestions(target.pid);
    const before = await target.request({ cmd: 'stats' });
    const h = monitorEventLoopDelay({ resolution: 10 });
    const calls = questions.map(() => []);
    // Counted before the client starts: these counts read millions of rows on this thread (~0.7 s after the
    // sustained phase), which the first question would otherwise wait behind.
    const p0 = counted(store);
    const firstId = store.db.prepare('SELECT max(id) AS id FROM events').get().id;
    let asking = true;
    // A client asking every read tool in turn, as fast as they answer (a pause of 5 ms between calls).
    const client = (async () => {
      for (let i = 0; asking; i++) {
        const q = i % questions.length;
        calls[q].push(await ask(scope, questions[q]));
        await sleep(5);
      }
    })();
    h.enable();
    const b0 = performance.now();
    const burst = await target.request({ cmd: 'emit', total: cfg.burst, rate: cfg.burst, chunk: 2_000 }, 120_000);
    lines.n = 1;
    const bLeft = await drain(target, scope, 60_000, lines);
    const b1 = performance.now();
    h.disable();
    asking = false;
    await client;
    const p1 = counted(store);
    const bStored = p1.stored - p0.stored;
    const bDropped = p1.dropped - p0.dropped + (bLeft?.dropped ?? 0);
    const after = await target.request({ cmd: 'stats' });
    // The agent counts drops of any kind of event: what else the target recorded meanwhile.
    const others = store.db.prepare("SELECT type || '/' || subtype AS kind, count(*) AS n FROM events WHERE id > ? AND NOT (type = 'log' AND subtype = 'bench') AND NOT (type = 'agent' AND subtype = 'dropped') GROUP BY 1").all(firstId);
    const bSum = account(bStored, bDropped, burst.emitted, lines);
    const { accounted } = bSum;
    const growth = burst.rssPeak - burst.rss0;
    const all = calls.flat();
    const p99 = quantile(all.map((c) => c.ms), 0.99);
    const perTool = questions.map((q, i) => ({ q: label(q), p99: quantile(calls[i].map((c) => c.ms), 0.99), n: calls[i].length, error: calls[i].find((c) => c.error)?.error }));
    const slowest = perTool.reduce((a, t) => (t.p99 > a.p99 ? t : a), perTool[0]);
    const missing = unasked(TOOLS, questions, { live: true });
    rows.push(row(name, `burst of ${fmtInt(cfg.burst)} emits: time to emit / stored / dropped`, {
      baseline: `${fmtInt(burst.ms)} ms to emit`, traced: `${fmtInt(bStored)} stored`, figure: `${fmtInt(bDropped)} dropped (${fmtNum((100 * bDropped) / burst.emitted, 1)}%)`,
      bar: 'drops counted: stored+dropped = emitted', result: smoke ? 'info' : verdict(accounted),
      note: `${bSum.text}; other events stored meanwhile: ${others.map((o) => `${o.kind} ${o.n}`).join(', ') || 'none'}; all stored ${fmtInt(b1 - b0)} ms after the burst began`,
      data: { burst, bStored, bDropped, accounted, ms: b1 - b0 },
    }));
    rows.push(row(name, 'burst: target extra memory (peak − before)', {
      baseline: `rss ${fmtBytes(burst.rss0)} · heap ${fmtBytes(burst.heap0)}`, traced: `rss ${fmtBytes(burst.rssPeak)} · heap ${fmtBytes(burst.heapPeak)}`,
      figure: `+${fmtBytes(growth)} rss · +${fmtBytes(burst.heapPeak - burst.heap0)} heap`, bar: '≤ +32 MB', result: smoke ? 'info' : verdict(growth <= 32 * MB),
      note: `agent caps: queue and unacknowledged batches bounded by bytes and count (src/agent/channel.ts); heap after the drain ${fmtBytes(after.heap)} (before the burst ${fmtBytes(before.heap)})`,
    }));
    rows.push(row(name, 'burst: every read tool asked in turn through the API, p99', {
      baseline: `loop delay p99 ${fmtNum(h.percentile(99) / 1e6, 1)} ms`, traced: `p50 ${fmtNum(quantile(all.map((c) => c.ms), 0.5), 1)} ms`,
      // "Every tool within 50 ms p99": the slowest tool's own p99, not the p99 of all calls pooled.
      figure: `${fmtNum(slowest.p99, 1)} ms (all calls pooled: ${fmtNum(p99, 1)} ms)`, bar: '≤ 50 ms', result: smoke ? 'info' : verdict(slowest.p99 <= 50 && !missing.length),
      note: `${all.length} calls over ${questions.length} questions; slowest p99 ${slowest.q} ${fmtNum(slowest.p99, 1)} ms; per question p99: ${perTool.map((t) => `${t.q} ${fmtNum(t.p99, 0)}`).join(', ')}${perTool.some((t) => t.error) ? `; answered errors (nothing of that kind recorded): ${perTool.filter((t) => t.error).map((t) => t.q.split('(')[0]).join(', ')}` : ''}${missing.length ? `; NOT ASKED: ${missing.join(', ')}` : ''}`,
      data: perTool,
    }));
    rows.push(row(name, 'burst, as the bar reads', {
      figure: `+${fmtBytes(growth)} · ${accounted ? 'counted' : 'NOT counted'} · slowest tool p99 ${fmtNum(slowest.p99, 1)} ms`, result: 'info',
      key: 'ingest.burst',
      measure: { emitted: burst.emitted, stored: bStored, dropped: bSum.dropped, accounted, rssGrowthBytes: growth, toolP99Ms: slowest.p99, slowestTool: slowest.q },
    }));
  } finally {
    await scope?.stop();
    await target.stop();
    rmSync(exports, { recursive: true, force: true });
  }
  return rows;
}
