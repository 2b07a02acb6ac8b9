// Function tracing cost: a small function (one number in, one out) called in chunks at 100k calls/s,
// untraced vs. traced with trace_module — arguments and result captured for every call, or timing only
// (counts and durations summed in the target, one summary a second) — in fixtures measured in alternation,
// each untraced baseline in the same run, on the machine's Node and on Node 24 (test/targets, installed by
// `node scripts/install-targets.mjs`; skipped with a note when absent). The traced figure includes everything
// the target pays per call: the wrapper, the capture, and the call's share of sealing batches and sending them.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { attachTracer, countEvents, droppedRecorded, fixture, fmtInt, fmtNum, interleave, median, procCpuMs, ROOT, row, startFixture, verdict } from '../lib/common.mjs';

export const name = 'functions';

const NODE24 = join(ROOT, 'test/targets/node_modules/node24/bin/node');
const LIMITS = { maxCalls: 1e9, maxPerSecond: 1e9, durationMs: 3_600_000 };

/**
 * What two reads of performance.now() cost in this process now, in ns: the floor of timing a call (timing
 * only reads the clock twice a call and does little else), so a loaded machine's figure can be read against it.
 */
function clockPairNs() {
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    let x = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 200_000; i++) x += performance.now();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 200_000);
    globalThis.__clockSink = x;
  }
  return 2 * best;
}

/** Calls the timing summaries of `fn` account for (each `agent/timing` carries the calls since the last). */
function timedCalls(store, fn) {
  let n = 0;
  for (const { payload } of store.db.prepare("SELECT payload FROM events WHERE type = 'agent' AND subtype = 'timing'").all()) {
    for (const f of JSON.parse(payload).fns) if (f.fn === fn) n += f.calls;
  }
  return n;
}

async function traced(node, capture, env) {
  const target = await startFixture(fixture('fn_target.cjs'), { node });
  Object.assign(process.env, env);
  try {
    target.tracer = await attachTracer(target.pid);
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
  }
  const [report] = await target.tracer.tracer.traceModule({ module: fixture('fn_lib.cjs'), ...LIMITS, ...(capture === 'timing' ? { capture } : {}) });
  if (report?.value.status !== 'traced') throw new Error(`trace_module did not trace the fixture: ${JSON.stringify(report?.value)}`);
  return target;
}

/** The rows of one Node binary: untraced, arguments + result, timing only (and, on the machine's Node, the binding path). */
async function measure(node, label, { smoke, rounds, withBinding }) {
  const n = rounds ?? (smoke ? 1 : 5);
  const calls = smoke ? 10_000 : 100_000;
  const targets = {};
  try {
    targets.plain = await startFixture(fixture('fn_target.cjs'), { node });
    targets.args = await traced(node, 'args', {});
    targets.timing = await traced(node, 'timing', {});
    // Arguments + result with the data socket off (every batch through the inspector binding, as before issue 11).
    if (withBinding) targets.binding = await traced(node, 'args', { NODESCOPE_DATA_CHANNEL: 'off' });
    const variants = Object.keys(targets);
    // Warm the loops (and the wrappers) before measuring.
    for (const v of variants) await targets[v].request({ cmd: 'run', calls }, 60_000);
    for (const v of variants) await targets[v].tracer?.tracer.sync();
    const before = { args: countEvents(targets.args.tracer.store, 'call', 'return'), timing: timedCalls(targets.timing.tracer.store, 'add') };
    // Drops are counted over the measured rounds, as the calls recorded are (not the warm-up's).
    const droppedBefore = Object.fromEntries(variants.filter((v) => targets[v].tracer).map((v) => [v, droppedRecorded(targets[v].tracer.store)]));
    const clock = [];
    // The target's CPU time per call as well (user + system, every thread, from /proc): what the busy time in the
    // loop leaves out (batches sealed and written on timers between chunks, GC helper threads), and what other
    // processes on a loaded machine disturb less than wall time. 10 ms ticks: ~100 ns per call at this count.
    const cpu = Object.fromEntries(variants.map((v) => [v, []]));
    const res = await interleave(n, variants, async (v) => {
      clock.push(clockPairNs());
      const c0 = procCpuMs(targets[v].pid);
      const { nsPerCall } = await targets[v].request({ cmd: 'run', calls }, 120_000);
      cpu[v].push(((procCpuMs(targets[v].pid) - c0) * 1e6) / calls);
      return nsPerCall;
    });
    for (const v of variants) await targets[v].tracer?.tracer.sync();
    const recorded = { args: countEvents(targets.args.tracer.store, 'call', 'return') - before.args, timing: timedCalls(targets.timing.tracer.store, 'add') - before.timing };
    const base = median(res.plain);
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    const floor = `; meanwhile two performance.now() reads cost ${fmtInt(median(clock))} ns in the runner (median: the floor of timing a call on this machine now)`;
    const major = version.replace(/^v/, '').split('.')[0];
    // `key`: the line of the closing bars table (bench/lib/summary.mjs) this row fills.
    const one = (v, metric, bar, limit, counted, key) => {
      const added = median(res[v]) - base;
      const dropped = droppedRecorded(targets[v].tracer.store) - droppedBefore[v];
      return row(name, `${metric} (${label})`, {
        baseline: `${fmtNum(base, 1)} ns/call`,
        traced: `${fmtNum(median(res[v]), 0)} ns/call`,
        figure: `+${fmtInt(added)} ns`,
        bar,
        result: limit === undefined || smoke ? 'info' : verdict(added <= limit && dropped === 0 && counted === n * calls),
        note: `${version}: ${fmtInt(calls)} calls per round at 100k/s, ${n} round(s) + warm-up; ${counted === undefined ? '' : `${fmtInt(counted)} of ${fmtInt(n * calls)} calls ${v === 'timing' ? 'counted in the summaries' : 'recorded'}, `}${fmtInt(dropped)} events dropped; target CPU per call ${fmtInt(median(cpu[v]))} ns (untraced ${fmtInt(median(cpu.plain))})${v === 'timing' ? floor : ''}`,
        data: { plain: res.plain, traced: res[v], cpuPlain: cpu.plain, cpuTraced: cpu[v] },
        ...(key ? { key, node: major, measure: { addedNs: added, dropped } } : {}),
      });
    };
    return [
      one('args', 'function tracing, arguments and result: added ns/call', '≤ 400 ns', 400, recorded.args, 'functions.args'),
      one('timing', 'function tracing, timing only: added ns/call', '≤ 150 ns', 150, recorded.timing, 'functions.timing'),
      ...(withBinding ? [one('binding', 'function tracing, arguments and result, data socket off (through the binding)', 'for comparison')] : []),
    ];
  } finally {
    for (const t of Object.values(targets)) {
      await t.tracer?.close();
      await t.stop();
    }
  }
}

export async function run({ smoke, rounds }) {
  const rows = await measure(process.execPath, `Node ${process.versions.node.split('.')[0]}`, { smoke, rounds, withBinding: true });
  if (!existsSync(NODE24)) {
    return [...rows, row(name, 'function tracing on Node 24', { result: 'info', note: `no Node 24 binary at ${NODE24}: run node scripts/install-targets.mjs` })];
  }
  return [...rows, ...(await measure(NODE24, 'Node 24', { smoke, rounds, withBinding: false }))];
}
