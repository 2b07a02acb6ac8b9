// ES-module tracing on every Node a target may run: a TypeScript app run natively (type stripping, Node
// 22.18+ and 24+), attached by pid after it has run. Node 26's V8 has no live edit: there the functions get
// breakpoints (arguments only), and the answer says so.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { attached, eventually, events, FIXTURES, newTracer } from '../helpers.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { nodeTarget } from '../targets/index.js';

const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };

const launched: Tracer[] = [];
afterEach(async () => {
  for (const t of launched.splice(0)) await t.close();
});

describe.each(['22', '24', '26'])('TypeScript ES module on Node %s', (major) => {
  const liveEdit = major !== '26';

  it('traces src/payments.ts by the name a person uses; the uncaught error names src/payments.ts', async () => {
    const { app, t } = await attached('ts_native/src/app.ts', { node: nodeTarget(major).bin });
    app.send('charge 5');
    await app.nextLine(/^charged/);
    const [report] = await t.tracer.traceModule({ module: 'src/payments.ts', ...limits });
    expect(report!.value).toMatchObject({ status: 'traced', via: liveEdit ? 'live-edit' : 'breakpoints', functions: ['charge', 'settle', 'explode'] });
    app.send('charge 7');
    expect(await app.nextLine(/^charged|^failed/)).toBe('charged 7');
    app.send('charge -2');
    expect(await app.nextLine(/^charged|^failed/)).toBe('failed amount must be positive, got -2');
    app.send('settle');
    expect(await app.nextLine(/^settled/)).toBe('settled 12');
    await t.tracer.sync();
    const calls = events(t.store, "type = 'call'").map((e) => [e.subtype, e.payload.fn, e.payload.args ?? e.payload.result ?? e.payload.error?.message]);
    if (liveEdit) {
      expect(calls).toEqual([
        ['call', 'charge', [7]],
        ['return', 'charge', { amount: 7, currency: 'EUR' }],
        ['call', 'charge', [-2]],
        ['throw', 'charge', 'amount must be positive, got -2'],
        ['call', 'settle', [[{ amount: 5, currency: 'EUR' }, { amount: 7, currency: 'EUR' }]]],
        ['return', 'settle', 12],
      ]);
      const settle = events(t.store, "type = 'call' AND subtype = 'return' AND json_extract(payload, '$.fn') = 'settle'")[0]!;
      expect(settle.payload.duration_ns).toBeGreaterThan(1e6);
    } else {
      // Each function's first call comes by its breakpoint, which then puts a wrapper in its place.
      expect(calls).toEqual([
        ['call', 'charge', [7]],
        ['call', 'charge', [-2]],
        ['throw', 'charge', 'amount must be positive, got -2'],
        ['call', 'settle', [[{ amount: 5, currency: 'EUR' }, { amount: 7, currency: 'EUR' }]]],
      ]);
      app.send('settle');
      expect(await app.nextLine(/^settled/)).toBe('settled 12');
      await t.tracer.sync();
      const again = events(t.store, "type = 'call' AND json_extract(payload, '$.fn') = 'settle'").map((e) => [e.subtype, e.payload.args ?? e.payload.result]);
      expect(again).toEqual([
        ['call', [[{ amount: 5, currency: 'EUR' }, { amount: 7, currency: 'EUR' }]]],
        ['call', [[{ amount: 5, currency: 'EUR' }, { amount: 7, currency: 'EUR' }]]],
        ['return', 12],
      ]);
    }
    // Untraced, each mechanism's trace listed once (on 26 not also an empty live-edit one that V8 refused).
    const stopped = await t.tracer.untraceModule('src/payments.ts');
    expect(stopped.map((s) => [s.value.via, s.value.status])).toEqual([[liveEdit ? 'live-edit' : 'breakpoints', 'stopped']]);
    app.send('explode gateway');
    const crash = await eventually(() => {
      t.tracer.ingest.flush();
      return events(t.store, "type = 'error' AND subtype = 'uncaught_exception'")[0];
    }, 'the uncaught error');
    expect(crash.payload.error.message).toBe('payments exploded: gateway');
    // The program's own frame, named as the program named it: no frame of the tracer's in between.
    expect(crash.payload.error.stack.split('\n')[1]).toMatch(/^    at explode \(.*ts_native\/src\/payments\.ts:18:\d+\)$/);
    expect(crash.payload.error.stack).not.toMatch(/nodescope-agent|__ns\$f/);
  });
});

describe.each(['20', '22', '24'])('One-line functions and methods of an ES module on Node %s', (major) => {
  it('are instrumented in place, not sent to breakpoints: every call recorded whole from the first', async () => {
    const { app, t } = await attached('one_line/app.mjs', { node: nodeTarget(major).bin });
    const [report] = await t.tracer.traceModule({ module: 'one_line/price.mjs', ...limits });
    expect(report!.value).toMatchObject({ status: 'traced', via: 'live-edit', functions: ['price', 'quote'], methods: ['Till#ring'] });
    const replies: string[] = [];
    for (const line of ['price 4', 'quote 3', 'quote 0', 'ring 7']) {
      app.send(line);
      replies.push(await app.nextLine(/^(price|quote|rang) /));
    }
    expect(replies).toEqual(['price 5', 'quote 6', 'quote empty cart', 'rang 7']);
    await t.tracer.sync();
    const calls = events(t.store, "type = 'call'").map((e) => [e.subtype, e.payload.fn, e.payload.args ?? e.payload.result ?? e.payload.error?.message]);
    expect(calls).toEqual([
      ['call', 'price', [[{ qty: 4, unit: 1.25 }]]],
      ['return', 'price', 5],
      ['call', 'quote', [[{ qty: 3, unit: 2 }]]],
      ['call', 'price', [[{ qty: 3, unit: 2 }]]],
      ['return', 'price', 6],
      ['return', 'quote', 6],
      ['call', 'quote', [[]]],
      ['throw', 'quote', 'empty cart'],
      ['call', 'Till#ring', [7]],
      ['return', 'Till#ring', 'rang 7'],
    ]);
  });
});

describe.each(['24', '26'])('ES module launched with trace_modules on Node %s', (major) => {
  it('is traced from before its first line when it is imported later', async () => {
    const t = newTracer();
    launched.push(t.tracer);
    await t.tracer.traceModule({ module: join(FIXTURES, 'esm_shop/src/payments.js'), ...limits });
    const link = await t.tracer.launch([nodeTarget(major).bin, join(FIXTURES, 'esm_shop/src/app.js'), '--lazy']);
    await eventually(() => {
      t.tracer.ingest.flush();
      return events(t.store, "type = 'log' AND json_extract(payload, '$.text') = 'ready'").length === 1;
    }, 'ready');
    // Its stdin is not ours: driven through the inspector.
    for (const amount of [5, 6]) {
      await t.tracer.evaluate(String(link.pid), `process.stdin.emit('data', 'charge ${amount}\\n')`);
      await eventually(async () => {
        await t.tracer.sync();
        return events(t.store, "type = 'log' AND json_extract(payload, '$.text') LIKE 'charged%'").length >= (amount === 5 ? 1 : 2);
      }, `the log of charge ${amount}`);
    }
    await t.tracer.sync();
    const calls = events(t.store, "type = 'call'").map((e) => [e.subtype, e.payload.fn, e.payload.args ?? e.payload.result]);
    const record = (amount: number) => [
      ['call', 'Ledger#record', [{ amount: amount + 0.3, method: 'card' }]],
      ['return', 'Ledger#record', `card:${amount + 0.3}`],
    ];
    const charge = (amount: number) => [
      ['call', 'charge', [amount, 'card']],
      ['return', 'charge', { amount: amount + 0.3, method: 'card' }],
    ];
    // Node 26 (no live edit): charge is replaced by a wrapper before the module runs; a method's first call
    // comes by its breakpoint (arguments only), which then wraps it.
    expect(calls).toEqual(major === '26' ? [...charge(5), record(5)[0], ...charge(6), ...record(6)] : [...charge(5), ...record(5), ...charge(6), ...record(6)]);
  });
});
