// HTTP overhead: a hello-world node:http server under autocannon (its connections in a worker thread), on
// 127.0.0.1, bounded in time. Each round runs every variant on a fresh server, in rotating order; each
// variant's figure is its throughput divided by the untraced throughput of the same round. Every variant runs
// on each Node version of HTTP_NODES (default: this one and 24, the binary test/targets installs), each
// version with its own untraced server, all of them in the same alternating cycles.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { ROOT, attachTracer, countEvents, droppedRecorded, fixture, fmtInt, fmtNum, median, medianRatio, procCpuMs, row, startFixture, verdict, waitFor } from '../lib/common.mjs';

export const name = 'http';

// `web-binding`: every request recorded with the data socket switched off (NODESCOPE_DATA_CHANNEL=off), all
// batches through the inspector binding as before issue 11: the before/after of the transport in one run.
// `web-before`: every request recorded by another build of nodescope (HTTP_BEFORE=<its package folder>, with
// package.json and dist/ inside and node_modules reachable from it), so a change and what it replaces are
// measured side by side in the same slices. HTTP_VARIANTS=untraced,web,web-binding,otel runs a subset
// (untraced is always needed).
const ALL_VARIANTS = ['untraced', 'minimal', 'full', 'web', 'web-binding', ...(process.env.HTTP_BEFORE ? ['web-before'] : []), 'otel'];
const VARIANTS = process.env.HTTP_VARIANTS ? ALL_VARIANTS.filter((v) => v === 'untraced' || process.env.HTTP_VARIANTS.split(',').includes(v)) : ALL_VARIANTS;
const WEB_VARIANTS = ['web', 'web-binding', 'web-before'];

const OWN = process.versions.node.split('.')[0];
/** [{ major, bin }] for each Node version of HTTP_NODES that is installed (scripts/install-targets.mjs). */
function nodes() {
  const majors = [...new Set((process.env.HTTP_NODES ?? `${OWN},24`).split(',').map((m) => m.trim()).filter(Boolean))];
  return majors.map((major) => {
    const bin = major === OWN ? process.execPath : join(ROOT, 'test/targets/node_modules', `node${major}`, 'bin', 'node');
    if (!existsSync(bin)) throw new Error(`Node ${major} target missing at ${bin}: run "node scripts/install-targets.mjs"`);
    return { major, bin };
  });
}

/** Load for `seconds`: as fast as the server answers, or at `rate` requests per second in all (paced). */
async function load(port, seconds, connections, rate = 0) {
  // workers: 1 runs the connections in a worker thread of autocannon's own, so the client's event loop is
  // not the tracer's: when nodescope records every request, the host's ingest work must not slow the
  // client that measures the server.
  const run = autocannon({ url: `http://127.0.0.1:${port}/`, duration: seconds, connections, pipelining: 1, workers: 1, ...(rate > 0 ? { overallRate: rate } : {}) });
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

/** Starts one server per variant; nodescope attaches later, to the warm server (see runRound). */
async function startVariant(variant, node) {
  const server = await startFixture(fixture('http_server.cjs'), {
    node: node.bin,
    nodeArgs: variant === 'otel' ? ['--require', fixture('otel_preload.cjs')] : [],
  });
  return { variant, key: `${variant}@${node.major}`, node: node.major, server, traced: undefined, requests: 0 };
}

async function attachVariant(v) {
  if (v.variant === 'untraced' || v.variant === 'otel') return;
  try {
    // A store that holds every event of the round: pruning at the default 1M cap would hide recorded events.
    const storeOptions = { maxEvents: 50_000_000 };
    const web = WEB_VARIANTS.includes(v.variant);
    const dist = v.variant === 'web-before' ? join(process.env.HTTP_BEFORE, 'dist') : undefined;
    const before = process.env.NODESCOPE_DATA_CHANNEL;
    if (v.variant === 'web-binding') process.env.NODESCOPE_DATA_CHANNEL = 'off';
    try {
      v.traced = await attachTracer(v.server.pid, web ? { level: 'full', web: true, storeOptions, dist } : { level: v.variant, web: false, storeOptions });
    } finally {
      if (before === undefined) delete process.env.NODESCOPE_DATA_CHANNEL;
      else process.env.NODESCOPE_DATA_CHANNEL = before;
    }
    v.requests = 0; // requests served while attached: the ones that should be recorded
  } catch (error) {
    const { exitCode, signalCode } = v.server.child;
    throw new Error(`${v.variant}: attach failed: ${error.message} (server exit code ${exitCode}, signal ${signalCode}; its stderr: ${v.server.stderr().trim().slice(-300) || 'empty'})`);
  }
}

async function stopVariant(v) {
  await v?.traced?.close();
  await v?.server.stop();
}

/** One load slice on one server, with the server's CPU time per request. */
async function slice(v, cfg, seconds = cfg.seconds, rate = 0) {
  const cpu0 = procCpuMs(v.server.pid);
  const r = await load(v.server.ready.port, seconds, cfg.connections, rate);
  r.cpuUsPerReq = ((procCpuMs(v.server.pid) - cpu0) * 1000) / r.total;
  v.requests += r.total;
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`${v.variant}: ${r.errors} errors, ${r.non2xx} non-2xx responses`);
  return r;
}

/**
 * One round: a fresh server per variant, all started up front and warmed; nodescope then attaches to the
 * warm servers (a live process is warm: attaching must not cost it its optimized code), and short load
 * slices follow in alternation (A B C D E, B C D E A, …) so that each slice of a variant has an untraced
 * slice of the same cycle next to it: background noise on a shared 2-core machine hits both sides alike.
 * The minimal variant is also measured just before and just after its attach (the attach transient).
 */
async function runRound(cfg, round) {
  const started = [];
  try {
    for (const node of nodes()) for (const v of VARIANTS) started.push(await startVariant(v, node));
    for (const v of started) if (cfg.warmupSeconds > 0) v.requests += (await load(v.server.ready.port, cfg.warmupSeconds, cfg.connections)).total;
    const transient = {};
    for (const v of started) {
      if (v.variant === 'minimal' && cfg.transientSeconds > 0) {
        const before = (await slice(v, cfg, cfg.transientSeconds)).cpuUsPerReq;
        await attachVariant(v);
        transient[v.node] = { before, after: (await slice(v, cfg, cfg.transientSeconds)).cpuUsPerReq };
      } else await attachVariant(v);
    }
    const cycles = [];
    for (let c = 0; c < cfg.cycles; c++) {
      const cycle = {};
      for (let i = 0; i < started.length; i++) {
        const v = started[(i + c + round) % started.length];
        cycle[v.key] = await slice(v, cfg);
      }
      cycles.push(cycle);
    }
    // The same offered load for every variant: a server's CPU per request falls as its load rises (more
    // requests per wake-up; in one run the untraced server's ranged 14–46 µs over slices of 27k–1.4k req/s,
    // correlation −0.9), and at saturation a traced server runs at a lower rate than the untraced one, its
    // host taking CPU from the same cores. Paced, both run at the same rate: the difference is what recording
    // adds to the server's work per request.
    const paced = [];
    for (let c = 0; c < cfg.pacedCycles; c++) {
      const cycle = {};
      for (let i = 0; i < started.length; i++) {
        const v = started[(i + c + round) % started.length];
        cycle[v.key] = await slice(v, cfg, cfg.pacedSeconds, cfg.pacedRps);
      }
      paced.push(cycle);
    }
    const extra = {};
    for (const v of started) {
      if (v.traced) {
        // Everything the agent still holds (queued or unacknowledged) is in the store before we count.
        const left = await waitFor(async () => {
          const st = await v.traced.link.main.call('stats()').catch(() => undefined);
          return st && st.queued === 0 && st.inFlight === 0 ? st : undefined;
        }, 15_000, 20);
        v.traced.tracer.ingest.flush();
        if (!left) throw new Error(`${v.variant}: the agent did not drain within 15 s after the load`);
        extra[v.key] = { httpEvents: countEvents(v.traced.store, 'http'), dropped: droppedRecorded(v.traced.store) + (left.dropped ?? 0), events: v.traced.store.eventCount(), requests: v.requests, attachRetried: v.traced.retried };
      }
      if (v.variant === 'otel') extra[v.key] = { spans: (await v.server.request({ cmd: 'stats' })).spans };
    }
    return { cycles, paced, extra, transient };
  } finally {
    for (const v of started) await stopVariant(v);
  }
}

export async function run({ smoke, rounds }) {
  const cfg = smoke
    ? { rounds: rounds ?? 1, cycles: 1, seconds: 1, warmupSeconds: 0, transientSeconds: 0, connections: 20, pacedCycles: 0 }
    : { rounds: rounds ?? 3, cycles: 8, seconds: 1, warmupSeconds: 2, transientSeconds: 2, connections: 50, pacedCycles: 4, pacedSeconds: 2, pacedRps: Number(process.env.HTTP_PACED_RPS ?? 3000) };
  const res = [];
  for (let r = 0; r < cfg.rounds; r++) res.push(await runRound(cfg, r));
  const rows = [];
  const failures = res.flatMap((r) => Object.entries(r.extra).filter(([k]) => k.startsWith('minimal@') || k.startsWith('full@')).map(([, e]) => e.attachRetried)).filter(Boolean);
  if (failures.length > 0) {
    rows.push(row(name, 'attach by pid to a listening server', {
      figure: `${failures.length} attaches needed a 2nd attempt`, result: 'info',
      note: `bug in Tracer.openInspector: after SIGUSR1 it takes the first listening port of the pid — the server's own HTTP port — instead of the new inspector port (a race: it depends on whether the inspector is listening at the first poll). First-attempt errors: ${[...new Set(failures.map((f) => f.replace(/\d+/g, 'N')))].join(' / ')}`,
    }));
  }
  for (const node of nodes()) rows.push(...nodeRows(node.major, cfg, res, smoke), framesRow(node, smoke));
  return rows;
}

/**
 * The agent's own CPU per served request, apart from the server and the host (bench/fixtures/http_frames.cjs):
 * on a loaded machine the one figure of this scenario that two builds can be told apart by. Runs of this build
 * and, with HTTP_BEFORE, of the other one alternate; the first rounds of each run (warm-up) are left out.
 */
function framesRow(node, smoke) {
  const builds = { this: join(ROOT, 'dist/agent.js'), ...(process.env.HTTP_BEFORE ? { before: join(process.env.HTTP_BEFORE, 'dist/agent.js') } : {}) };
  const ns = Object.fromEntries(Object.keys(builds).map((b) => [b, []]));
  const bytes = {};
  for (let run = 0; run < (smoke ? 1 : 4); run++) {
    for (const [b, agent] of Object.entries(builds)) {
      const out = JSON.parse(execFileSync(node.bin, [fixture('http_frames.cjs'), agent, smoke ? '3' : '25'], { encoding: 'utf8', timeout: 120_000 }));
      ns[b].push(...out.ns.slice(smoke ? 0 : 5));
      bytes[b] = out.bytes;
    }
  }
  const show = (b) => `${fmtInt(median(ns[b]))} ns, ${bytes[b]} B sent`;
  return row(name, `Node ${node.major}: the agent's own CPU per served request, no server and no host (${Object.keys(builds).join(' · ')})`, {
    figure: Object.keys(builds).map(show).join(' · '), result: 'info',
    note: 'median over rounds of 20,000 requests published on the two server channels with plain objects, in a process of its own (bench/fixtures/http_frames.cjs): subscribers, correlation store, encoding, batching; not the server, not the host',
    data: { ns, bytes },
  });
}

/** The rows of one Node version: its variants against its own untraced server, slice by slice. */
function nodeRows(major, cfg, res, smoke) {
  const at = `Node ${major}`;
  const cycles = res.flatMap((r) => r.cycles).map((c) => Object.fromEntries(VARIANTS.map((v) => [v, c[`${v}@${major}`]])));
  const rps = Object.fromEntries(VARIANTS.map((v) => [v, cycles.map((c) => c[v].rps)]));
  const base = median(rps.untraced);
  const ratio = (v) => medianRatio(rps[v], rps.untraced);
  const spread = (v) => {
    const xs = rps[v].map((x, i) => x / rps.untraced[i]).sort((a, b) => a - b);
    return `${fmtNum(xs[0], 2)}–${fmtNum(xs[xs.length - 1], 2)}`;
  };
  // Server CPU per request, untraced / variant: throughput of a saturated server is 1 / CPU per request, and
  // this figure hardly moves when other processes steal the machine (the throughput ratio does).
  const cpu = Object.fromEntries(VARIANTS.map((v) => [v, cycles.map((c) => c[v].cpuUsPerReq)]));
  const cpuRatio = (v) => medianRatio(cpu.untraced, cpu[v]);
  const cpuNote = (v) => `server CPU per request ${fmtNum(median(cpu[v]), 1)} µs vs ${fmtNum(median(cpu.untraced), 1)} µs untraced: CPU-based ratio ${fmtNum(cpuRatio(v), 3)}`;
  const extras = (v) => res.map((r) => r.extra[`${v}@${major}`]).filter(Boolean);
  const pacedCycles = res.flatMap((r) => r.paced).map((c) => Object.fromEntries(VARIANTS.map((v) => [v, c[`${v}@${major}`]])));
  const pacedCpu = Object.fromEntries(VARIANTS.map((v) => [v, pacedCycles.map((c) => c[v].cpuUsPerReq)]));
  const pacedRatio = (v) => (pacedCycles.length > 0 ? medianRatio(pacedCpu.untraced, pacedCpu[v]) : NaN);
  const rows = [];
  const note = `${cfg.rounds} round(s) × ${cfg.cycles} alternating ${cfg.seconds} s slices per variant, ${cfg.connections} connections; ratio = median over ${cycles.length} slice pairs (variant / untraced of the same cycle)`;
  rows.push(row(name, 'untraced throughput (req/s)', { baseline: fmtInt(base), figure: '1.00', result: 'info', note, data: { rps: rps.untraced, cpu: cpu.untraced } }));

  const has = (v) => VARIANTS.includes(v);
  const rMin = has('minimal') ? ratio('minimal') : NaN;
  if (has('minimal')) rows.push(row(name, 'attached by pid, level minimal (idle)', {
    baseline: fmtInt(base), traced: fmtInt(median(rps.minimal)), figure: fmtNum(rMin, 3), bar: '≥ 0.99',
    result: smoke ? 'info' : verdict(rMin >= 0.99), note: `per-pair ratios ${spread('minimal')}; ${cpuNote('minimal')}`, data: { rps: rps.minimal, cpu: cpu.minimal },
  }));

  const rFull = has('full') ? ratio('full') : NaN;
  const otelRatio = has('otel') ? ratio('otel') : NaN;
  if (has('full')) rows.push(row(name, 'attached by pid, level full, HTTP capture off (idle: lifecycle only)', {
    baseline: fmtInt(base), traced: fmtInt(median(rps.full)), figure: fmtNum(rFull, 3), bar: '≥ 0.99 (idle)',
    result: smoke ? 'info' : verdict(rFull >= 0.99), note: `per-pair ratios ${spread('full')}; ${cpuNote('full')}`, data: { rps: rps.full, cpu: cpu.full },
  }));

  const web = extras('web');
  const httpEvents = web.reduce((n, e) => n + e.httpEvents, 0);
  const served = web.reduce((n, e) => n + e.requests, 0);
  const webDropped = web.reduce((n, e) => n + e.dropped, 0);
  const rWeb = ratio('web');
  if (httpEvents === 0) {
    rows.push(row(name, 'every request recorded (method, URL, status, duration)', {
      figure: 'not yet measurable', bar: '≥ 0.95 and > OTel', result: 'pending',
      note: `Tracer option web: true stored 0 http events (ratio with the option set: ${fmtNum(rWeb, 3)}); needs HTTP capture in the agent`,
    }));
  } else {
    rows.push(row(name, 'every request recorded (level full, web: true)', {
      baseline: fmtInt(base), traced: fmtInt(median(rps.web)), figure: fmtNum(rWeb, 3), bar: '≥ 0.95 and > OTel',
      result: smoke ? 'info' : verdict(rWeb >= 0.95 && rWeb > otelRatio),
      key: 'http.recorded', node: major, measure: { cpuRatio: cpuRatio('web'), throughputRatio: rWeb, pacedCpuRatio: pacedRatio('web') },
      note: `${fmtInt(httpEvents)} http events stored for ${fmtInt(served)} requests served while attached (${fmtNum(httpEvents / served, 2)} per request; ${fmtInt(webDropped)} events dropped by the agent's bounded queue, recorded as agent/dropped); per-pair ratios ${spread('web')}; ${cpuNote('web')}`,
      data: { rps: rps.web, cpu: cpu.web, httpEvents, served },
    }));
  }

  const compared = {
    'web-binding': 'every request recorded, data socket off (all batches through the inspector binding: before issue 11)',
    'web-before': `every request recorded by the build in ${process.env.HTTP_BEFORE}`,
  };
  for (const [v, metric] of Object.entries(compared)) {
    if (!has(v)) continue;
    const wb = extras(v);
    rows.push(row(name, metric, {
      baseline: fmtInt(base), traced: fmtInt(median(rps[v])), figure: fmtNum(ratio(v), 3), bar: 'for comparison', result: 'info',
      note: `${fmtInt(wb.reduce((n, e) => n + e.httpEvents, 0))} http events stored for ${fmtInt(wb.reduce((n, e) => n + e.requests, 0))} requests served while attached (${fmtInt(wb.reduce((n, e) => n + e.dropped, 0))} dropped); per-pair ratios ${spread(v)}; ${cpuNote(v)}`,
      data: { rps: rps[v], cpu: cpu[v] },
    }));
  }

  const spans = has('otel') ? median(extras('otel').map((e) => e.spans)) : NaN;
  if (has('otel')) rows.push(row(name, 'OpenTelemetry SDK + HTTP instrumentation, in-memory batch exporter', {
    baseline: fmtInt(base), traced: fmtInt(median(rps.otel)), figure: fmtNum(otelRatio, 3), bar: 'for comparison', result: 'info',
    note: `${fmtInt(spans)} spans exported per round (median); per-pair ratios ${spread('otel')}; ${cpuNote('otel')}`, data: { rps: rps.otel, cpu: cpu.otel },
  }));
  const tr = res.map((r) => r.transient[major] ?? {}).filter((t) => t.before > 0 && t.after > 0);
  if (tr.length > 0) {
    const before = median(tr.map((t) => t.before));
    const after = median(tr.map((t) => t.after));
    rows.push(row(name, `attach transient: server CPU µs/request, ${cfg.transientSeconds} s before vs ${cfg.transientSeconds} s after attaching (minimal) to the warm server`, {
      baseline: fmtNum(before, 1), traced: fmtNum(after, 1), figure: fmtNum(median(tr.map((t) => t.before / t.after)), 3), bar: 'info (steady state above)', result: 'info',
      note: `per round: ${tr.map((t) => `${fmtNum(t.before, 1)} → ${fmtNum(t.after, 1)}`).join(', ')}; before 2026-11-22 18:00 the attach ran Runtime.queryObjects, which cost a warm process its optimized code for a while (no heap walk on attach since)`,
      data: tr,
    }));
  }
  rows.push(row(name, 'server CPU µs per request (noise-robust view of the same runs)', {
    baseline: `untraced ${fmtNum(median(cpu.untraced), 1)}`,
    traced: VARIANTS.filter((v) => v !== 'untraced').map((v) => `${v} ${fmtNum(median(cpu[v]), 1)}`).join(' · '),
    figure: VARIANTS.filter((v) => v !== 'untraced').map((v) => fmtNum(cpuRatio(v), 3)).join(' · '),
    bar: 'same bars as above', result: 'info',
    note: 'ratio = untraced CPU per request / variant CPU per request (median over slice pairs), from /proc/<pid>/stat of the server; a saturated server\'s throughput is the inverse of its CPU per request, and this figure barely moves when other processes steal the machine',
    data: cpu,
  }));
  if (pacedCycles.length > 0) {
    const achieved = (v) => median(pacedCycles.map((c) => c[v].rps));
    rows.push(row(name, `server CPU µs per request at a paced ${fmtInt(cfg.pacedRps)} req/s (the same offered load for every variant)`, {
      baseline: `untraced ${fmtNum(median(pacedCpu.untraced), 1)}`,
      traced: VARIANTS.filter((v) => v !== 'untraced').map((v) => `${v} ${fmtNum(median(pacedCpu[v]), 1)}`).join(' · '),
      figure: VARIANTS.filter((v) => v !== 'untraced').map((v) => fmtNum(pacedRatio(v), 3)).join(' · '),
      bar: 'same bars as above', result: 'info',
      note: `${pacedCycles.length} alternating ${cfg.pacedSeconds} s slices per variant; ratio = untraced CPU per request / variant's, median over slice pairs; achieved req/s (median): ${VARIANTS.map((v) => `${v} ${fmtInt(achieved(v))}`).join(', ')}`,
      data: pacedCpu,
    }));
  }
  // Not in a smoke run: its slices can end before the batch exporter's first export on a loaded machine.
  if (!smoke && has('otel') && !extras('otel').some((e) => e.spans > 0)) throw new Error('the OpenTelemetry variant exported no spans: its preload did not instrument the server');
  return rows.map((r) => ({ ...r, metric: `${at}: ${r.metric}` }));
}
