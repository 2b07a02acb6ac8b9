// trace_line's cost on a hot line: a probe (no condition) at default limits — 1 hit/s with a burst of 5, the
// line's condition run at most 100 times a second, the breakpoint removed between tokens — in steady state.
// Two attached processes, one probed, measured in alternation:
//   spin:  the line as fast as it goes (tens of millions of runs a second): runs per second;
//   paced: the line 100k times a second (the hot line): the process's CPU time per second.
import { readFileSync } from 'node:fs';
import { attachTracer, countEvents, fixture, fmtInt, fmtNum, interleave, median, medianRatio, procCpuMs, ROOT, row, startFixture, verdict } from '../lib/common.mjs';

export const name = 'probes';

export async function run({ smoke, rounds }) {
  const n = rounds ?? (smoke ? 1 : 5);
  const ms = smoke ? 1_000 : 3_000;
  const file = fixture('probe_target.cjs');
  const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.endsWith('// PROBE LINE')) + 1;
  const { DEFAULT_PROBE_LIMITS } = await import(`${ROOT}/dist/trace/probes.js`);
  const plain = await startFixture(file);
  const probed = await startFixture(file);
  let a;
  let b;
  try {
    // Both attached: the figure is the probe's, not the agent's.
    a = await attachTracer(plain.pid);
    b = await attachTracer(probed.pid);
    const thread = b.tracer.thread(String(probed.pid));
    for (const p of [plain, probed]) await p.request({ cmd: 'spin', ms: 500 }, 60_000); // warm up
    const probe = await b.tracer.traceLine({ file, line, limits: DEFAULT_PROBE_LIMITS });
    if (probe.sites[0]?.state !== 'armed') throw new Error(`the probe is not armed: ${JSON.stringify(probe.sites)}`);
    await probed.request({ cmd: 'spin', ms: 1_000 }, 60_000); // past the burst: steady state
    await b.tracer.sync();
    const h0 = countEvents(b.store, 'probe', 'hit');
    const g0 = await thread.call('probes.gates');
    const target = (v) => (v === 'plain' ? plain : probed);
    const spin = await interleave(n, ['plain', 'probe'], async (v) => (await target(v).request({ cmd: 'spin', ms }, 60_000)).callsPerSecond);
    await b.tracer.sync();
    const spinHits = countEvents(b.store, 'probe', 'hit') - h0;
    const spinGates = (await thread.call('probes.gates')) - g0;
    const paced = await interleave(n, ['plain', 'probe'], async (v) => {
      const cpu0 = procCpuMs(target(v).pid);
      await target(v).request({ cmd: 'paced', ms }, 60_000);
      return ((procCpuMs(target(v).pid) - cpu0) / ms) * 1000;
    });
    await b.tracer.sync();
    const pacedHits = countEvents(b.store, 'probe', 'hit') - h0 - spinHits;
    const pacedGates = (await thread.call('probes.gates')) - g0 - spinGates;
    const spinRatio = medianRatio(spin.probe, spin.plain);
    const addedCpu = median(paced.probe.map((x, i) => x - paced.plain[i]));
    const seconds = (n * ms) / 1000;
    const state = b.tracer.probes.list()[0]?.state;
    return [
      row(name, 'probe on a hot line, default limits, steady state: runs/s (spin)', {
        baseline: `${fmtInt(median(spin.plain))} runs/s`,
        traced: `${fmtInt(median(spin.probe))} runs/s`,
        figure: `${fmtNum(spinRatio, 3)}× (drop ${fmtNum((1 - spinRatio) * 100, 1)}%)`,
        bar: 'drop < 5%',
        result: smoke ? 'info' : verdict(spinRatio > 0.95 && state === 'active'),
        note: `${n} round(s) of ${ms} ms each; ${fmtInt(spinHits)} hits in ${fmtNum(seconds, 0)} probed seconds (limit ${DEFAULT_PROBE_LIMITS.perSecond}/s after a burst of ${DEFAULT_PROBE_LIMITS.burst}), ${fmtInt(spinGates)} breakpoint conditions run (~0.13 ms each)`,
        data: spin,
      }),
      row(name, 'probe on a line run 100k times/s, default limits: added CPU (paced)', {
        baseline: `${fmtNum(median(paced.plain), 1)} ms CPU/s`,
        traced: `${fmtNum(median(paced.probe), 1)} ms CPU/s`,
        figure: `+${fmtNum(addedCpu, 1)} ms/s (${fmtNum(addedCpu / 10, 2)}% of a core)`,
        bar: '< 50 ms/s (5%)',
        result: smoke ? 'info' : verdict(addedCpu < 50),
        note: `process CPU time (/proc, 10 ms ticks) per second of a paced run, ${n} round(s); ${fmtInt(pacedHits)} hits, ${fmtInt(pacedGates)} breakpoint conditions run`,
        data: paced,
      }),
    ];
  } finally {
    await a?.close();
    await b?.close();
    await plain.stop();
    await probed.stop();
  }
}
