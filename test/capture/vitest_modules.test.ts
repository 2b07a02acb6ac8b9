// A module of a vitest 4 project (vite 8, installed from the registry into test/targets), traced while its
// test runs: vite's SSR transform rewrites `export function quote` to a plain function read by
// `__vite_ssr_exportName__("quote", () => …)`, which the vitest worker (a child process) evaluates in a vm
// script. trace_module takes those for the module's exports — lineTotal, discount, quote, not every function
// in it — and records their calls: by live edit on Node 20, by breakpoints on Node 26 (no live edit). Traced
// from the launch of `vitest run`, the module is taken as the worker evaluates it, before its first line.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, events, newTracer, startFixture, tempDir } from '../helpers.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { nodeTarget } from '../targets/index.js';

const SHOP = join(import.meta.dirname, '..', 'targets', 'programs', 'vitest_shop');
const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };

let tracer: Tracer | undefined;
afterEach(async () => {
  await tracer?.close();
  tracer = undefined;
});

describe.each(['20', '26'])('A vitest module on Node %s', (major) => {
  it("traces the exports vite's SSR transform wrote, and records their calls", async () => {
    const stop = join(tempDir(), 'stop');
    // The spec quotes every 50 ms until this file exists (cart.spec.ts); the env is read as the run starts.
    Object.assign(process.env, { SHOP_STOP: stop, NO_COLOR: '1' });
    const app = startFixture(join('..', 'targets', 'node_modules', 'vitest', 'vitest.mjs'), ['run', '--root', SHOP], { node: nodeTarget(major).bin });
    delete process.env.SHOP_STOP;
    await app.line(/^quoting/, 30_000);
    const t = newTracer();
    tracer = t.tracer;
    const link = await t.tracer.attach(String(app.pid));
    const reports = await t.tracer.traceModule({ module: join(SHOP, 'src', 'price.ts'), ...limits });
    const worker = reports.find((r) => r.actor !== String(link.pid));
    expect(worker?.value).toMatchObject({ status: 'traced', via: major === '20' ? 'live-edit' : 'breakpoints' });
    expect([...worker!.value.functions].sort()).toEqual(['discount', 'lineTotal', 'quote']);
    const quoted = await eventually(() => {
      t.tracer.ingest.flush();
      const calls = events(t.store, "type = 'call' AND subtype = 'call' AND actor = ?", worker!.actor).map((e) => [e.payload.fn, e.payload.args]);
      // Until the cart's quote: the trace may begin between it and the BAD code's, which comes second.
      return new Set(calls.map(([fn]) => fn)).size === 3 && calls.some(([fn, args]) => fn === 'quote' && args[1] === 'HALF') && calls;
    }, 'calls of lineTotal, discount and quote');
    expect(quoted).toContainEqual(['quote', [[{ price: 4, qty: 2 }, { price: 1, qty: 3 }], 'HALF']]);
    expect(quoted).toContainEqual(['discount', [11, 'HALF']]);
    expect(quoted).toContainEqual(['lineTotal', [{ price: 1, qty: 1 }]]);
    await t.tracer.close();
    tracer = undefined;
    writeFileSync(stop, '');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.stdout()).toMatch(/Tests\s+1 passed \(1\)/);
  }, 60_000);

  it('traces a module named when vitest is launched, from its first line in the worker', async () => {
    const t = newTracer();
    tracer = t.tracer;
    await t.tracer.traceModule({ module: 'src/price.ts', ...limits });
    const link = await t.tracer.launch([nodeTarget(major).bin, join('..', '..', 'node_modules', 'vitest', 'vitest.mjs'), 'run'], { cwd: SHOP });
    await eventually(() => {
      t.tracer.ingest.flush();
      return t.store.actor(String(link.pid))?.ended_ms != null;
    }, 'the run to end', 30_000);
    expect(t.store.actor(String(link.pid))).toMatchObject({ status: 'exited', exit_code: 0 });
    const calls = events(t.store, "type = 'call' AND subtype = 'call'").map((e) => [e.actor === String(link.pid) ? 'main' : 'worker', e.payload.module, e.payload.fn]);
    const call = (fn: string) => ['worker', 'src/price.ts', fn];
    expect(calls).toEqual([call('quote'), call('lineTotal'), call('lineTotal'), call('discount'), call('quote'), call('lineTotal'), call('discount')]);
  }, 60_000);
});
