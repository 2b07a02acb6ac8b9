// What each trace_module mechanism adds per call of a small function (one number in, one out), measured
// side by side in one run against an untraced twin: wrappers on a CommonJS module's exports (a module
// loaded after tracing began), a loaded CommonJS module instrumented in place (live edit), and a loaded ES
// module instrumented in place; each capturing arguments and result, and timing only. The breakpoint fallback is the breakpoint scenario's figure (~0.1 ms a hit).
import { attachTracer, countEvents, droppedRecorded, fixture, fmtInt, fmtNum, interleave, median, row, startFixture, verdict } from '../lib/common.mjs';

export const name = 'modules';

const MECHANISMS = {
  'cjs-wrappers': { args: ['--lazy'], via: 'wrappers' },
  'cjs-in-place': { args: [], via: 'live-edit' },
  'esm-in-place': { args: ['--esm'], via: 'live-edit' },
};
const VARIANTS = Object.fromEntries(
  Object.entries(MECHANISMS).flatMap(([name, m]) => [
    [name, { ...m, bar: 400 }],
    [`${name}, timing only`, { ...m, capture: 'timing', bar: 150 }],
  ]),
);

/** Calls of the timing summaries (each `agent/timing` carries the calls since the one before). */
function timedCalls(store) {
  let n = 0;
  for (const { payload } of store.db.prepare("SELECT payload FROM events WHERE type = 'agent' AND subtype = 'timing'").all()) for (const f of JSON.parse(payload).fns) n += f.calls;
  return n;
}

export async function run({ smoke, rounds }) {
  const n = rounds ?? (smoke ? 1 : 5);
  const calls = smoke ? 10_000 : 100_000;
  const plain = await startFixture(fixture('fn_target.cjs'));
  const targets = {};
  const tracers = [];
  try {
    for (const [variant, { args, via, capture }] of Object.entries(VARIANTS)) {
      const target = await startFixture(fixture('fn_target.cjs'), { args });
      targets[variant] = target;
      const t = await attachTracer(target.pid);
      tracers.push(t);
      const lib = fixture(args.includes('--esm') ? 'fn_lib.mjs' : 'fn_lib.cjs');
      const reports = await t.tracer.traceModule({ module: lib, maxCalls: 1e9, maxPerSecond: 1e9, durationMs: 3_600_000, ...(capture ? { capture } : {}) });
      await target.request({ cmd: 'run', calls }, 60_000);
      const now = (await t.tracer.traces()).map((r) => r.value.via);
      if (!now.includes(via)) throw new Error(`${variant}: expected ${via}, traced by ${JSON.stringify(now)} (${JSON.stringify(reports.map((r) => r.value))})`);
      targets[variant].tracer = t;
    }
    await plain.request({ cmd: 'run', calls }, 60_000);
    const names = ['plain', ...Object.keys(VARIANTS)];
    const res = await interleave(n, names, async (v) => (await (v === 'plain' ? plain : targets[v]).request({ cmd: 'run', calls }, 120_000)).nsPerCall);
    const base = median(res.plain);
    const rows = [];
    for (const variant of Object.keys(VARIANTS)) {
      const t = targets[variant].tracer;
      await t.tracer.sync();
      const recorded = VARIANTS[variant].capture ? timedCalls(t.store) : countEvents(t.store, 'call', 'return');
      const dropped = droppedRecorded(t.store);
      const added = median(res[variant]) - base;
      rows.push(
        row(name, `trace_module ${variant}: added ns/call`, {
          baseline: `${fmtNum(base, 1)} ns/call`,
          traced: `${fmtNum(median(res[variant]), 0)} ns/call`,
          figure: `+${fmtInt(added)} ns`,
          bar: `≤ ${VARIANTS[variant].bar} ns`,
          result: smoke ? 'info' : verdict(added <= VARIANTS[variant].bar && dropped === 0),
          note: `${fmtInt(calls)} calls per round, ${n} round(s) + warm-up; ${fmtInt(recorded)} calls ${VARIANTS[variant].capture ? 'counted in the summaries' : 'recorded'}, ${fmtInt(dropped)} events dropped`,
          data: { plain: res.plain, traced: res[variant] },
        }),
      );
    }
    return rows;
  } finally {
    for (const t of tracers) await t.close();
    await plain.stop();
    for (const t of Object.values(targets)) await t.stop();
  }
}
