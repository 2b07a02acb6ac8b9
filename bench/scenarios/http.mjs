// HTTP overhead: a hello-world node:http server under autocannon (its connections in a worker thread), on
// 127.0.0.1, bounded in time. Each round runs every variant on a fresh server, in rotating order; each
// variant's figure is its throughput divided by the untraced throughput of the same round.
import autocannon from 'autocannon';
import { attachTracer, countEvents, fixture, fmtInt, fmtNum, median, medianRatio, row, startFixture, verdict } from '../lib/common.mjs';

export const name = 'http';

const VARIANTS = ['untraced', 'minimal', 'full', 'otel'];

async function load(port, seconds, connections) {
  // workers: 1 runs the connections in a worker thread of autocannon's own, so the client's event loop is
  // not the tracer's: when nodescope records every request, the host's ingest work must not slow the
  // client that measures the server.
  const run = autocannon({ url: `http://127.0.0.1:${port}/`, duration: seconds, connections, pipelining: 1, workers: 1 });
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`load generator did not finish within ${seconds + 20} s`)), (seconds + 20) * 1000);
  });
  try {
    const r = await Promise.race([run, limit]);
    return { total: r.requests.total, rps: r.requests.total / r.duration, errors: r.errors, non2xx: r.non2xx, p99ms: r.latency.p99 };
  } finally {
    clearTimeout(timer);
    run.stop?.();
  }
}

/** Starts one server per variant (attached or instrumented as the variant says). */
async function startVariant(variant) {
  const server = await startFixture(fixture('http_server.cjs'), {
    nodeArgs: variant === 'otel' ? ['--require', fixture('otel_preload.cjs')] : [],
  });
  try {
    const traced = variant === 'minimal' || variant === 'full' ? await attachTracer(server.pid, { level: variant }) : undefined;
    return { variant, server, traced };
  } catch (error) {
    const { exitCode, signalCode } = server.child;
    await server.stop();
    throw new Error(`${variant}: attach failed: ${error.message} (server exit code ${exitCode}, signal ${signalCode}; its stderr: ${server.stderr().trim().slice(-300) || 'empty'})`);
  }
}

async function stopVariant(v) {
  await v?.traced?.close();
  await v?.server.stop();
}

/**
 * One round: a fresh server per variant, all started up front and warmed, then short load slices in
 * alternation (A B C D, B C D A, …) so that each slice of a variant has an untraced slice of the same cycle
 * next to it: background noise on a shared 2-core machine hits both sides of each ratio alike.
 */
async function runRound(cfg, round) {
  const started = [];
  try {
    for (const v of VARIANTS) started.push(await startVariant(v));
    for (const v of started) if (cfg.warmupSeconds > 0) await load(v.server.ready.port, cfg.warmupSeconds, cfg.connections);
    const cycles = [];
    for (let c = 0; c < cfg.cycles; c++) {
      const cycle = {};
      for (let i = 0; i < started.length; i++) {
        const v = started[(i + c + round) % started.length];
        const r = await load(v.server.ready.port, cfg.seconds, cfg.connections);
        if (r.errors > 0 || r.non2xx > 0) throw new Error(`${v.variant}: ${r.errors} errors, ${r.non2xx} non-2xx responses`);
        cycle[v.variant] = r;
      }
      cycles.push(cycle);
    }
    const extra = {};
    for (const v of started) {
      if (v.traced) {
        v.traced.tracer.ingest.flush();
        extra[v.variant] = { httpEvents: countEvents(v.traced.store, 'http'), events: v.traced.store.eventCount(), attachRetried: v.traced.retried };
      }
      if (v.variant === 'otel') extra.otel = { spans: (await v.server.request({ cmd: 'stats' })).spans };
    }
    return { cycles, extra };
  } finally {
    for (const v of started) await stopVariant(v);
  }
}

export async function run({ smoke, rounds }) {
  const cfg = smoke
    ? { rounds: rounds ?? 1, cycles: 2, seconds: 0.5, warmupSeconds: 0, connections: 20 }
    : { rounds: rounds ?? 3, cycles: 5, seconds: 1, warmupSeconds: 1, connections: 50 };
  const res = [];
  for (let r = 0; r < cfg.rounds; r++) res.push(await runRound(cfg, r));
  const cycles = res.flatMap((r) => r.cycles);
  const rps = Object.fromEntries(VARIANTS.map((v) => [v, cycles.map((c) => c[v].rps)]));
  const base = median(rps.untraced);
  const ratio = (v) => medianRatio(rps[v], rps.untraced);
  const spread = (v) => {
    const xs = rps[v].map((x, i) => x / rps.untraced[i]).sort((a, b) => a - b);
    return `${fmtNum(xs[0], 2)}–${fmtNum(xs[xs.length - 1], 2)}`;
  };
  const extras = (v) => res.map((r) => r.extra[v]).filter(Boolean);
  const rows = [];
  const failures = [...extras('minimal'), ...extras('full')].map((e) => e.attachRetried).filter(Boolean);
  const retries = failures.length;
  if (retries > 0) {
    rows.push(row(name, 'attach by pid to a listening server', {
      figure: `${retries}/${2 * cfg.rounds} needed a 2nd attach`, result: 'info',
      note: `bug in Tracer.openInspector: after SIGUSR1 it takes the first listening port of the pid — the server's own HTTP port — instead of the new inspector port (a race: it depends on whether the inspector is listening at the first poll). First-attempt errors: ${[...new Set(failures.map((f) => f.replace(/\d+/g, 'N')))].join(' / ')}`,
    }));
  }
  const note = `${cfg.rounds} round(s) × ${cfg.cycles} alternating ${cfg.seconds} s slices per variant, ${cfg.connections} connections; ratio = median over ${cycles.length} slice pairs (variant / untraced of the same cycle)`;
  rows.push(row(name, 'untraced throughput (req/s)', { baseline: fmtInt(base), figure: '1.00', result: 'info', note, data: rps.untraced }));

  const rMin = ratio('minimal');
  rows.push(row(name, 'attached by pid, level minimal (idle)', {
    baseline: fmtInt(base), traced: fmtInt(median(rps.minimal)), figure: fmtNum(rMin, 3), bar: '≥ 0.99',
    result: smoke ? 'info' : verdict(rMin >= 0.99), note: `per-pair ratios ${spread('minimal')}`, data: rps.minimal,
  }));

  const httpEvents = Math.max(0, ...extras('full').map((e) => e.httpEvents));
  const rFull = ratio('full');
  const otelRatio = ratio('otel');
  if (httpEvents === 0) {
    rows.push(row(name, 'attached by pid, level full (records lifecycle only today)', {
      baseline: fmtInt(base), traced: fmtInt(median(rps.full)), figure: fmtNum(rFull, 3), bar: '≥ 0.99 (idle)',
      result: smoke ? 'info' : verdict(rFull >= 0.99), note: `no HTTP capture yet: 0 http events stored; per-pair ratios ${spread('full')}`, data: rps.full,
    }));
    rows.push(row(name, 'every request recorded (method, URL, status, duration)', {
      figure: 'not yet measurable', bar: '≥ 0.95 and > OTel', result: 'pending', note: 'needs HTTP capture in the agent; the `full` variant becomes this row once http events are stored',
    }));
  } else {
    const requests = cycles.reduce((n, c) => n + c.full.total, 0) + (cfg.warmupSeconds > 0 ? NaN : 0);
    rows.push(row(name, 'every request recorded (level full)', {
      baseline: fmtInt(base), traced: fmtInt(median(rps.full)), figure: fmtNum(rFull, 3), bar: '≥ 0.95 and > OTel',
      result: smoke ? 'info' : verdict(rFull >= 0.95 && rFull > otelRatio),
      note: `${fmtInt(extras('full').reduce((n, e) => n + e.httpEvents, 0))} http events stored (measured requests ${fmtInt(cycles.reduce((n, c) => n + c.full.total, 0))}, plus warm-up); per-pair ratios ${spread('full')}`,
      data: { rps: rps.full, requests },
    }));
  }

  const spans = median(extras('otel').map((e) => e.spans));
  rows.push(row(name, 'OpenTelemetry SDK + HTTP instrumentation, in-memory batch exporter', {
    baseline: fmtInt(base), traced: fmtInt(median(rps.otel)), figure: fmtNum(otelRatio, 3), bar: 'for comparison', result: 'info',
    note: `${fmtInt(spans)} spans exported per round (median); per-pair ratios ${spread('otel')}`, data: rps.otel,
  }));
  if (!(spans > 0)) throw new Error('the OpenTelemetry variant exported no spans: its preload did not instrument the server');
  return rows;
}
