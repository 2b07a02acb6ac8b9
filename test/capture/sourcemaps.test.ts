// Locations in the original source: a TypeScript app compiled by tsc with source maps (test/fixtures/shop-ts,
// dist/*.js + .map committed next to src/*.ts), traced as plain JavaScript. Thrown errors, the crash's stack
// and cpu_profile's functions name src/payments.ts and its lines.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { renderCall } from '../../src/query/calls.js';
import { Query } from '../../src/query/index.js';
import { paging } from '../../src/query/page.js';
import { SourceMaps } from '../../src/trace/sourcemaps.js';
import { DEFAULT_PROBE_LIMITS } from '../../src/trace/probes.js';
import { attached, eventually, events, FIXTURES, newTracer, saveIn, tempDir } from '../helpers.js';

const SHOP = join(FIXTURES, 'shop-ts');
const PAYMENTS_TS = join(SHOP, 'src/payments.ts');
const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };

describe('source maps', () => {
  it('maps generated positions both ways through a .map file next to the script', () => {
    const maps = new SourceMaps();
    const js = join(SHOP, 'dist/payments.js');
    // dist/payments.js:20 is `throw new Error(…)`, src/payments.ts:22 in the original.
    expect(maps.original(js, 20, 9)).toEqual({ source: PAYMENTS_TS, line: 22, column: 5, name: null });
    expect(maps.generated(js, PAYMENTS_TS, 17)).toEqual({ location: { url: js, line: 16, column: 5 }, originalLine: 17 });
    // A blank line has no code: the next line that has some.
    expect(maps.generated(js, PAYMENTS_TS, 8)?.originalLine).toBe(9);
    expect(maps.mapStack(`Error: x\n    at charge (${js}:20:15)\n    at node:internal/x:1:1`)).toBe(`Error: x\n    at charge (${PAYMENTS_TS}:22:11)\n    at node:internal/x:1:1`);
  });

  it('names src/payments.ts lines in thrown errors, the uncaught crash and cpu_profile', async () => {
    const { app, t } = await attached('shop-ts/dist/app.js', { ready: /^listening/ });
    // Profiled before trace_module: a wrapper would have V8 inline spin into it.
    const dir = tempDir();
    // Spun once the profiler runs (its first progress report), and well within its time.
    let spun = false;
    const profile = await t.tracer.cpuProfile(String(app.pid), 1500, saveIn(dir), () => {
      if (!spun) app.send('spin 500');
      spun = true;
    });
    // app.ts's command arrow is called spin too: the one in payments.ts is the one that spins.
    const spin = profile.top_self.find((f) => f.function === 'spin' && f.url === PAYMENTS_TS);
    expect(spin).toMatchObject({ line: 36, generated: `${join(SHOP, 'dist/payments.js')}:31` });

    // Named by its TypeScript source, as a person would: the loaded JavaScript compiled from it is traced.
    const [report] = await t.tracer.traceModule({ module: 'src/payments.ts', ...limits });
    expect(report!.value).toMatchObject({ status: 'traced', module: 'test/fixtures/shop-ts/src/payments.ts', resolved: join(SHOP, 'dist/payments.js') });
    app.send('charge 5000');
    await app.line(/^charge failed/);
    await t.tracer.sync();
    const q = new Query(t.store);
    const { calls } = q.functionCalls({ module: 'src/payments.ts', fn: 'charge', window: { sinceMs: null, untilMs: null } }, paging(1, 10));
    expect(calls).toHaveLength(1);
    const stack = (calls[0]!.error as { stack: string }).stack.split('\n');
    // The frame's name depends on how trace_module instrumented the function (a live edit renames it).
    expect(stack[1]!.replace(/^    at \S+ /, '    at … ')).toBe(`    at … (${PAYMENTS_TS}:22:11)`);
    expect(renderCall(calls[0]!)).toContain(`✗ Error: card declined: 5000 over limit (at ${PAYMENTS_TS}:22:11)`);

    app.send('crash boom');
    await app.exited;
    const crash = await eventually(() => {
      t.tracer.ingest.flush();
      return events(t.store, "type = 'error'")[0];
    }, 'the uncaught exception');
    expect(crash.subtype).toBe('uncaught_exception');
    expect(crash.payload.error.stack.split('\n')[1].replace(/^    at \S+ /, '    at … ')).toBe(`    at … (${PAYMENTS_TS}:28:9)`);
  });

  it('under tsx (maps only in memory, announced by the inspector): cpu_profile and probe hits name src/payments.ts lines; stacks Node already mapped stay as they are', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(SHOP, 'src/app.ts')], { stdio: 'pipe', cwd: join(import.meta.dirname, '..', '..') });
    const lines = createInterface({ input: proc.stdout });
    const next = (re: RegExp) => new Promise<string>((resolve) => lines.on('line', function on(l) { if (re.test(l)) { lines.off('line', on); resolve(l); } }));
    const { tracer, store } = newTracer();
    try {
      const port = Number((await next(/^listening/)).split(' ')[1]);
      await tracer.attach(proc.pid!);
      let spun = false;
      const profile = await tracer.cpuProfile(String(proc.pid), 1500, saveIn(tempDir()), () => {
        if (!spun) proc.stdin.write('spin 500\n');
        spun = true;
      });
      expect(profile.top_self.find((f) => f.function === 'spin' && f.url === PAYMENTS_TS)).toMatchObject({ line: 36, generated: expect.stringMatching(/src\/payments\.ts:\d+$/) });
      await tracer.traceLine({ file: 'src/payments.ts', line: 17, condition: 'total < 0', limits: DEFAULT_PROBE_LIMITS });
      await fetch(`http://127.0.0.1:${port}/checkout?subtotal=100&shipping=10&coupon=BIG`);
      proc.stdin.write('crash boom\n');
      await new Promise((r) => proc.once('exit', r));
      tracer.ingest.flush();
      const hit = events(store, "type = 'probe' AND subtype = 'hit'")[0]!;
      expect(hit.payload.locals).toEqual({ order: { id: 'o1', subtotal: 100, shipping: 10 }, coupon: 'BIG', rate: 1.5, discount: 150, total: -40 });
      expect(hit.payload.stack[0]).toBe(`applyCoupon (${PAYMENTS_TS}:17:3)`);
      const crash = events(store, "type = 'error'")[0]!;
      expect(crash.payload.error.stack.split('\n')[1]).toBe(`    at Object.fail (${PAYMENTS_TS}:28:9)`);
    } finally {
      await tracer.close();
      proc.kill('SIGKILL');
    }
  });
});
