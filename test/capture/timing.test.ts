// trace_module(capture: "timing") on real targets: counts and durations summed in the target, no event per
// call, by each mechanism (wrappers, CommonJS and ES modules instrumented in place), answered by the query
// tools, and nothing counted lost at untrace or exit.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { timingBucketRange } from '../../src/shared/protocol.js';
import { Session } from '../../src/session.js';
import { TOOLS } from '../../src/tools/registry.js';
import { events, startFixture } from '../helpers.js';
import { nodeTargets } from '../targets/index.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

async function ask(name: string, args: Record<string, unknown> = {}): Promise<{ text: string; data: any }> {
  const r = await callTool(TOOLS.find((t) => t.name === name)!, args, session!);
  const text = (r.content as { text: string }[]).map((c) => c.text).join('\n');
  expect(r.isError, `${name}: ${text}`).toBeFalsy();
  return { text, data: r.structuredContent };
}

/** `run 30` calls quick 30 times, fail 30 times (10 throw), wait three times (20 ms each, one rejects). */
const RUN = 'done sum 795 caught 11';

/** The machine's Node and Node 24 (the bench's two). */
const NODES = nodeTargets().filter((t) => t.bin === process.execPath || t.major === '24');

async function timedApp(variant: { args: string[]; module: string }, node?: string) {
  const app = startFixture('timing/app.cjs', variant.args, { node });
  await app.line(/^ready/);
  session = new Session({ config: resolveConfig({}, {}) });
  await session.attach(String(app.pid));
  const traced = await ask('trace_module', { module_name: variant.module, capture: 'timing' });
  return { app, traced, store: session.store };
}

/** The sums stored, per function, over every summary. */
function summed(store: Session['store']): Record<string, { calls: number; errors: number; hist: number }> {
  const out: Record<string, { calls: number; errors: number; hist: number }> = {};
  for (const e of events(store, "type = 'agent' AND subtype = 'timing'")) {
    for (const f of e.payload.fns) {
      const s = (out[f.fn] ??= { calls: 0, errors: 0, hist: 0 });
      s.calls += f.calls;
      s.errors += f.errors;
      s.hist += Object.values(f.hist as Record<string, number>).reduce((a, b) => a + b, 0);
    }
  }
  return out;
}

const VARIANTS = [
  { name: 'CommonJS, wrappers on the exports', args: ['--lazy'], module: './test/fixtures/timing/lib.cjs', via: 'wrappers' },
  { name: 'CommonJS, instrumented in place', args: [], module: './test/fixtures/timing/lib.cjs', via: 'live-edit' },
  { name: 'ES module, instrumented in place', args: ['--esm'], module: './test/fixtures/timing/lib.mjs', via: 'live-edit' },
];

describe('trace_module capture "timing"', () => {
  for (const v of VARIANTS) for (const node of NODES) {
    it(`${v.name}, Node ${node.major}: exact counts and errors, durations to settlement, no call event; the tools say so`, async () => {
      const { app, traced, store } = await timedApp(v, node.bin);
      const lib = v.module.replace('./test/fixtures/', '');
      expect(traced.text).toContain('Timing only: calls, errors and durations per function are summed in the target');
      expect(traced.text).toContain('Limits: no call limit, 1800 s');
      app.send('run 30');
      expect(await app.nextLine(/^done/)).toBe(RUN);

      const perf = await ask('performance_analysis', { module_name: lib });
      const lines = perf.text.split('\n');
      expect(lines[0]).toBe(`Performance of ${lib}: 63 calls of 3 functions (module test/fixtures/${lib})`);
      // wait has the most total time (60 ms); its mean covers the awaited 20 ms, not the synchronous start.
      expect(lines[1]).toMatch(/^wait: 3 calls, 1 error; total [\d.]+ ms, mean [\d.]+, p50 ~[\d.]+, p95 ~[\d.]+, max [\d.]+ ms \(timing only\)$/);
      expect(lines.slice(2, 4).map((l) => l.replace(/;.*/, '')).sort()).toEqual(['fail: 30 calls, 10 errors', 'quick: 30 calls, 0 errors']);
      expect(lines.at(-1)).toMatch(/^Timing only \(trace_module capture "timing"\): .*arguments, results and single calls were not recorded/);
      const wait = perf.data.functions.find((f: any) => f.fn === 'wait');
      expect(wait).toMatchObject({ calls: 3, errors: 1, running: 0, timing_only: true });
      expect(wait.mean_ms).toBeGreaterThan(15);
      expect(wait.max_ms).toBeGreaterThanOrEqual(wait.p95_ms);

      // No call was recorded one by one.
      expect(events(store, "type = 'call'")).toEqual([]);
      expect(summed(store)).toEqual({ quick: { calls: 30, errors: 0, hist: 30 }, fail: { calls: 30, errors: 10, hist: 30 }, wait: { calls: 3, errors: 1, hist: 3 } });

      const calls = await ask('get_function_calls', { module_name: lib, function_name: 'fail' });
      expect(calls.text.split('\n').slice(0, 2)).toEqual([`Timing-only sums of ${lib} function fail:`, expect.stringMatching(/^fail: 30 calls, 10 errors; total /)]);
      expect(calls.data).toMatchObject({ calls: [], total: 0, timings: [{ fn: 'fail', calls: 30, errors: 10, timing_only: true }] });
      const slowest = await ask('slowest_function_calls', { module_name: lib });
      expect(slowest.text.split('\n')[1]).toMatch(new RegExp(`^test/fixtures/${lib} wait: max [\\d.]+ ms, p95 ~[\\d.]+ ms, 3 calls$`));

      const listed = await ask('untrace');
      expect(listed.data.active.map((r: any) => r.via)).toEqual([v.via]);
      expect(listed.text.split('\n')[0]).toBe(`- test/fixtures/timing/lib.${v.module.endsWith('.mjs') ? 'mjs' : 'cjs'} in ${app.pid}: ${v.via}, timing only, 63 calls; limits no call limit, 1800 s; ${listed.data.active[0].resolved}`);
    });
  }

  it('untrace keeps what was counted before it, and calls after it count nowhere', async () => {
    const { app, store } = await timedApp(VARIANTS[1]!);
    app.send('run 30');
    await app.nextLine(/^done/);
    await ask('untrace', { module_name: 'timing/lib.cjs' });
    app.send('run 30');
    expect(await app.nextLine(/^done/)).toBe(RUN);
    await ask('performance_analysis', { module_name: 'timing/lib.cjs' });
    expect(summed(store)).toEqual({ quick: { calls: 30, errors: 0, hist: 30 }, fail: { calls: 30, errors: 10, hist: 30 }, wait: { calls: 3, errors: 1, hist: 3 } });
  });

  it('a thread that exits sends what it counted on the way out', async () => {
    const { app, store } = await timedApp(VARIANTS[2]!);
    app.send('run 30');
    await app.nextLine(/^done/);
    // No tool call in between: the sums go with the exit, not with an answer's flush.
    app.send('exit');
    await app.exited;
    const perf = await ask('performance_analysis', { module_name: 'timing/lib.mjs' });
    expect(perf.data.functions.map((f: any) => [f.fn, f.calls, f.errors]).sort()).toEqual([['fail', 30, 10], ['quick', 30, 0], ['wait', 3, 1]]);
  });
});

/** The sums stored for one function, over every summary: calls, errors, calls timed and the histogram's count. */
function summedTimed(store: Session['store'], fn: string): { calls: number; errors: number; timed: number; hist: number } {
  const s = { calls: 0, errors: 0, timed: 0, hist: 0 };
  for (const e of events(store, "type = 'agent' AND subtype = 'timing'")) {
    for (const f of e.payload.fns) {
      if (f.fn !== fn) continue;
      s.calls += f.calls;
      s.errors += f.errors;
      s.timed += f.timed;
      s.hist += Object.values(f.hist as Record<string, number>).reduce((a, b) => a + b, 0);
    }
  }
  return s;
}

/** The timed calls of one function that took 16 µs or more (histogram buckets), over every summary. */
function busyTimed(store: Session['store'], fn: string): number {
  let n = 0;
  for (const e of events(store, "type = 'agent' AND subtype = 'timing'")) {
    for (const f of e.payload.fns) {
      if (f.fn !== fn) continue;
      for (const [b, c] of Object.entries(f.hist as Record<string, number>)) {
        if (timingBucketRange(Number(b))[0] >= 16_000) n += c;
      }
    }
  }
  return n;
}

const HOT = [
  { name: 'wrappers on the exports', args: ['--lazy'], via: 'wrappers' },
  { name: 'instrumented in place', args: [], via: 'live-edit' },
];

describe('trace_module capture "timing": hot functions are timed on a sample of their calls', () => {
  for (const v of HOT) {
    it(`${v.name}: calls and errors exact, a hot function's durations estimated and said so, a rare one's and an async one's exact`, async () => {
      const { app, traced } = await timedApp({ args: v.args, module: './test/fixtures/timing/hot.cjs' });
      expect(traced.text).toContain('Timing only');
      app.send('hot');
      const done = /^hot caught 2977 spin ([\d.]+) rare ([\d.]+)$/.exec(await app.nextLine(/^hot/));
      expect(done).not.toBeNull();
      // The fixture's own clock around each loop: the most its calls can have taken in all.
      const [spinLoopMs, rareLoopMs] = [Number(done![1]), Number(done![2])];

      const perf = await ask('performance_analysis', { module_name: 'timing/hot.cjs' });
      const store = session!.store;
      // On the wire: every call counted, the hot ones timed on a sample (the first 256 of a second, then ~1 in 16).
      const hot = summedTimed(store, 'hot');
      const spin = summedTimed(store, 'spin');
      expect([hot.calls, hot.errors, hot.hist]).toEqual([20_000, 2_857, hot.timed]);
      expect(hot.timed).toBeGreaterThanOrEqual(256);
      expect(hot.timed).toBeLessThan(4_000);
      expect([spin.calls, spin.errors, spin.hist]).toEqual([2_000, 0, spin.timed]);
      expect(spin.timed).toBeGreaterThanOrEqual(256);
      expect(spin.timed).toBeLessThan(1_000);
      expect(summedTimed(store, 'rare')).toEqual({ calls: 100, errors: 0, timed: 100, hist: 100 });
      // A function that returned a promise is timed on every call (its settling costs far more than the clock).
      expect(summedTimed(store, 'later')).toEqual({ calls: 600, errors: 120, timed: 600, hist: 600 });

      const lines = perf.text.split('\n');
      // Half the calls of alternate are busy for 20 µs, every other one: so are about half of those timed, as
      // the gaps between timed calls are drawn (a fixed 1 in 16 would time the busy ones only, or never).
      const alternate = summedTimed(store, 'alternate');
      expect([alternate.calls, alternate.hist]).toEqual([20_000, alternate.timed]);
      expect(alternate.timed).toBeLessThan(4_000);
      const busy = busyTimed(store, 'alternate');
      expect(busy / alternate.timed).toBeGreaterThan(0.4);
      expect(busy / alternate.timed).toBeLessThan(0.6);

      expect(lines[0]).toBe('Performance of timing/hot.cjs: 42700 calls of 5 functions (module test/fixtures/timing/hot.cjs)');
      const line = (fn: string) => lines.find((l) => l.startsWith(`${fn}: `));
      const num = '[\\d.]+';
      expect(line('hot')).toMatch(new RegExp(`^hot: 20000 calls, 2857 errors; total ~${num} ms, mean ~${num}, p50 ~${num}, p95 ~${num}, max ≥${num} ms \\(timing only, ${hot.timed} calls timed\\)$`));
      expect(line('spin')).toMatch(new RegExp(`^spin: 2000 calls, 0 errors; total ~${num} ms, mean ~${num}, p50 ~${num}, p95 ~${num}, max ≥${num} ms \\(timing only, ${spin.timed} calls timed\\)$`));
      expect(line('rare')).toMatch(new RegExp(`^rare: 100 calls, 0 errors; total ${num} ms, mean ${num}, p50 ~${num}, p95 ~${num}, max ${num} ms \\(timing only\\)$`));
      expect(line('later')).toMatch(new RegExp(`^later: 600 calls, 120 errors; total ${num} ms, mean ${num}, p50 ~${num}, p95 ~${num}, max ${num} ms \\(timing only\\)$`));
      expect(lines.slice(-2)).toEqual([
        expect.stringMatching(/^Timing only \(trace_module capture "timing"\): /),
        'Calls and errors are exact. A function past 256 calls in a second has ~1 in 16 of the rest timed: its total and mean (~) are estimated from the calls timed, its max (≥) is the slowest of them.',
      ]);

      const stats = Object.fromEntries(perf.data.functions.map((f: any) => [f.fn, f]));
      expect(stats.spin).toMatchObject({ calls: 2_000, errors: 0, timed: spin.timed, timing_only: true });
      expect(stats.rare).not.toHaveProperty('timed');
      expect(stats.later).not.toHaveProperty('timed');
      // Every call of spin lasts at least 0.1 ms: so does every timed one, and the estimate scales their mean
      // to all 2,000 calls (a bound that holds whichever were timed: unscaled, the sums would be ~1/5 of it).
      // Above, the loop's own time, tripled for a sample that happened to take more of the calls the machine's
      // load stretched (at load ~12 on 2 cores, one run's estimate was 448 ms for a loop of 385).
      expect(stats.spin.total_ms).toBeGreaterThanOrEqual(2_000 * 0.1 * 0.999);
      expect(stats.spin.total_ms).toBeLessThanOrEqual(3 * spinLoopMs);
      // Most calls are not stretched: the median is the busy time, within a histogram bucket.
      expect(stats.spin.p50_ms).toBeGreaterThanOrEqual(0.075);
      expect(stats.spin.p50_ms).toBeLessThanOrEqual(0.15);
      expect(stats.spin.max_ms).toBeGreaterThanOrEqual(stats.spin.p95_ms);
      // rare, timed on every call: its total is the sum of its calls, within its loop's time.
      expect(stats.rare.total_ms).toBeGreaterThanOrEqual(100 * 1 * 0.999);
      expect(stats.rare.total_ms).toBeLessThanOrEqual(rareLoopMs + 0.001);

      const calls = await ask('get_function_calls', { module_name: 'timing/hot.cjs', function_name: 'spin' });
      expect(calls.text.split('\n')).toEqual(['Timing-only sums of timing/hot.cjs function spin:', line('spin'), expect.stringMatching(/^Timing only /), expect.stringMatching(/^Calls and errors are exact\./)]);
      const slowest = await ask('slowest_function_calls', { module_name: 'timing/hot.cjs' });
      const spinSlowest = slowest.text.split('\n').find((l) => l.includes(' spin: '));
      expect(spinSlowest).toMatch(new RegExp(`^test/fixtures/timing/hot.cjs spin: max ≥${num} ms, p95 ~${num} ms, 2000 calls \\(${spin.timed} timed\\)$`));
      expect(slowest.text.split('\n').find((l) => l.includes(' rare: '))).toMatch(new RegExp(`^test/fixtures/timing/hot.cjs rare: max ${num} ms, p95 ~${num} ms, 100 calls$`));

      const listed = await ask('untrace');
      expect(listed.data.active.map((r: any) => r.via)).toEqual([v.via]);
    });
  }
});
