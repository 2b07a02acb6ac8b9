// A TypeScript app run with tsx (`node --import tsx app.ts`), attached by pid after its modules loaded.
// Required (a CommonJS package), price.ts's exports are esbuild's getters, which no wrapper can replace; V8
// takes a live edit of tsx's output but leaves its functions as they were. A wrapper goes into the binding
// each getter reads instead: every call recorded whole. Imported (a "type": "module" package), it is an ES
// module of tsx's loader, whose live edits V8 refuses in part (Node 20) or whole (Node 24): what cannot be
// edited gets a breakpoint that records its first call (arguments only) and puts a wrapper in the
// function's binding, so every later call is recorded whole.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attached, events, FIXTURES } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };

const a = { sku: 'a', cents: 100, qty: 2 };
const b = { sku: 'b', cents: 250, qty: 1 };
const c = { sku: 'c', cents: 50, qty: 4 };

describe.each([
  ['20', process.execPath, { cjs: [], esm: ['Cart#add'] }],
  ['24', nodeTarget('24').bin, { cjs: [], esm: ['Cart#add', 'total', 'label'] }],
  // No live edit on Node 26, which the getters' way does not need; the ES module's functions go as on 24.
  ['26', nodeTarget('26').bin, { cjs: [], esm: ['Cart#add', 'total', 'label'] }],
] as [string, string, { cjs: string[]; esm?: string[] }][])('tsx on Node %s', (_major, node, byBreakpoint) => {
  it.each((['cjs', 'esm'] as const).filter((kind) => byBreakpoint[kind]))('traces price.ts of an app whose modules are %s, its output unchanged', async (kind) => {
    const { app, t } = await attached(`tsx/${kind}/app.ts`, { node, execArgv: ['--import', 'tsx'] });
    app.send('quote a 100 2');
    await app.nextLine(/^quoted/);
    const module = `test/fixtures/tsx/${kind}/price.ts`;
    const [report] = await t.tracer.traceModule({ module, ...limits });
    expect(report!.value).toMatchObject({ status: 'traced', resolved: join(FIXTURES, 'tsx', kind, 'price.ts'), functions: expect.arrayContaining(['total', 'label']), methods: ['Cart#add'] });
    app.send('quote b 250 1');
    await app.nextLine(/^quoted/);
    app.send('quote c 50 4');
    await app.nextLine(/^quoted/);
    await t.tracer.sync();
    const calls = events(t.store, "type = 'call'").map((e) => [e.payload.module, e.subtype, e.payload.fn, e.subtype === 'call' ? e.payload.args : e.payload.result, e.payload.via ?? null]);
    // A call by a breakpoint: its arguments only. A call through the edit or a wrapper: whole.
    const call = (fn: string, args: unknown[], result: unknown, first: boolean) =>
      first && byBreakpoint[kind]!.includes(fn)
        ? [[module, 'call', fn, args, 'breakpoint']]
        : [
            [module, 'call', fn, args, null],
            [module, 'return', fn, result, null],
          ];
    expect(calls).toEqual([
      ...call('Cart#add', ['b', 250, 1], 2, true),
      ...call('total', [[a, b], 0.2], 540, true),
      ...call('label', [540], '5.40 EUR', true),
      ...call('Cart#add', ['c', 50, 4], 3, false),
      ...call('total', [[a, b, c], 0.2], 780, false),
      ...call('label', [780], '7.80 EUR', false),
    ]);
    // Stopped, nothing more is recorded, and the program goes on as before.
    await t.tracer.untraceModule(module);
    app.send('quote d 10 1');
    await app.nextLine(/^quoted/);
    await t.tracer.sync();
    expect(events(t.store, "type = 'call'")).toHaveLength(calls.length);
    expect(app.stdout()).toBe('ready\nquoted 2.40 EUR\nquoted 5.40 EUR\nquoted 7.80 EUR\nquoted 7.92 EUR\n');
  });
});
