// Function tracing cost: a small function (one number in, one out) called in chunks, untraced vs. traced with
// trace_module (arguments and result captured for every call), in two fixtures measured in alternation.
// The traced figure includes everything the target pays per call: the wrapper, the bounded capture, and the
// call's share of sealing batches and pushing them through the inspector binding.
import { attachTracer, countEvents, droppedRecorded, fixture, fmtInt, fmtNum, interleave, median, row, startFixture, verdict } from '../lib/common.mjs';

export const name = 'functions';

export async function run({ smoke, rounds }) {
  const n = rounds ?? (smoke ? 1 : 5);
  const calls = smoke ? 10_000 : 100_000;
  const plain = await startFixture(fixture('fn_target.cjs'));
  const traced = await startFixture(fixture('fn_target.cjs'));
  // The same, traced with the data socket off (every batch through the inspector binding, as before issue 11).
  const viaBinding = await startFixture(fixture('fn_target.cjs'));
  let t;
  let tb;
  try {
    t = await attachTracer(traced.pid);
    process.env.NODESCOPE_DATA_CHANNEL = 'off';
    try {
      tb = await attachTracer(viaBinding.pid);
    } finally {
      delete process.env.NODESCOPE_DATA_CHANNEL;
    }
    for (const x of [t, tb]) {
      const [report] = await x.tracer.traceModule({ module: fixture('fn_lib.cjs'), maxCalls: 1e9, maxPerSecond: 1e9, durationMs: 3_600_000 });
      if (report?.value.status !== 'traced') throw new Error(`trace_module did not trace the fixture: ${JSON.stringify(report?.value)}`);
    }
    // Warm the loops (and the wrapper) before measuring.
    await plain.request({ cmd: 'run', calls }, 60_000);
    await traced.request({ cmd: 'run', calls }, 60_000);
    await viaBinding.request({ cmd: 'run', calls }, 60_000);
    await t.tracer.sync();
    const before = countEvents(t.store, 'call', 'return');
    const target = { plain, traced, binding: viaBinding };
    const res = await interleave(n, ['plain', 'traced', 'binding'], async (v) => (await target[v].request({ cmd: 'run', calls }, 120_000)).nsPerCall);
    await t.tracer.sync();
    await tb.tracer.sync();
    const recorded = countEvents(t.store, 'call', 'return') - before;
    const dropped = droppedRecorded(t.store);
    const base = median(res.plain);
    const added = median(res.traced) - base;
    return [
      row(name, 'function tracing, arguments and result: added ns/call', {
        baseline: `${fmtNum(base, 1)} ns/call`,
        traced: `${fmtNum(median(res.traced), 0)} ns/call`,
        figure: `+${fmtInt(added)} ns`,
        bar: '≤ 400 ns',
        result: smoke ? 'info' : verdict(added <= 400 && dropped === 0),
        note: `${fmtInt(calls)} calls per round, ${n} round(s); ${fmtInt(recorded)} of ${fmtInt(n * calls)} calls recorded, ${fmtInt(dropped)} events dropped`,
        data: res,
      }),
      row(name, 'function tracing, arguments and result, data socket off (through the binding, as before issue 11)', {
        baseline: `${fmtNum(base, 1)} ns/call`,
        traced: `${fmtNum(median(res.binding), 0)} ns/call`,
        figure: `+${fmtInt(median(res.binding) - base)} ns`,
        bar: 'for comparison',
        result: 'info',
        note: `${fmtInt(droppedRecorded(tb.store))} events dropped`,
        data: res.binding,
      }),
      row(name, 'function tracing, timing only: added ns/call', {
        figure: 'not offered',
        bar: '≤ 150 ns',
        result: 'info',
        note: 'trace_module always records arguments and result; a timing-only mode (counters in the target, no event per call) is future work',
      }),
    ];
  } finally {
    await t?.close();
    await tb?.close();
    await plain.stop();
    await traced.stop();
    await viaBinding.stop();
  }
}
