// ES modules traced like CommonJS (live edits of their source, breakpoints where V8 refuses one), module
// names as people say them, and stopping a trace.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attached, eventually, events, FIXTURES, newTracer, startFixture } from '../helpers.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { functionCalls } from '../../src/query/calls.js';
import { paging } from '../../src/query/page.js';

const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };
/** The calls of "charge 5" in esm_shop's lazy variant, which imports payments.js only then. */
const LAZY_CHARGE_5 = [
  ['call', 'charge', [5, 'card']],
  ['return', 'charge', { amount: 5.3, method: 'card' }],
  ['call', 'Ledger#record', [{ amount: 5.3, method: 'card' }]],
  ['return', 'Ledger#record', 'card:5.3'],
];
const calls = (store: Parameters<typeof events>[0]) =>
  events(store, "type = 'call'").map((e) => [e.subtype, e.payload.fn, e.payload.args ?? e.payload.result ?? e.payload.error?.message]);

let launched: Tracer | undefined;
afterEach(async () => {
  await launched?.close();
  launched = undefined;
});

describe('ES modules', () => {
  it('traces a loaded ES module in place: every reference, with results, errors and durations', async () => {
    const { app, t } = await attached('esm_shop/src/app.js');
    const [report] = await t.tracer.traceModule({ module: 'src/payments.js', functions: ['feeFor'], ...limits });
    expect(report!.value).toMatchObject({ status: 'traced', via: 'live-edit', resolved: join(FIXTURES, 'esm_shop/src/payments.js'), functions: ['feeFor', 'charge', 'refund'], methods: ['Ledger#record'] });
    app.send('charge 10');
    expect(await app.nextLine(/^charged|^failed/)).toBe('charged card:10.3');
    app.send('charge -1');
    expect(await app.nextLine(/^charged|^failed/)).toBe('failed negative amount -1');
    app.send('refund r7');
    expect(await app.nextLine(/^refunded/)).toBe('refunded r7');
    await t.tracer.sync();
    // `saved` was taken before tracing began: a live edit traces it all the same.
    expect(calls(t.store)).toEqual([
      ['call', 'charge', [10, 'card']],
      ['call', 'feeFor', ['card']],
      ['return', 'feeFor', 0.3],
      ['return', 'charge', { amount: 10.3, method: 'card' }],
      ['call', 'Ledger#record', [{ amount: 10.3, method: 'card' }]],
      ['return', 'Ledger#record', 'card:10.3'],
      ['call', 'charge', [-1, 'card']],
      ['throw', 'charge', 'negative amount -1'],
      ['call', 'refund', ['r7']],
      ['return', 'refund', { refunded: 'r7' }],
    ]);
    const returns = events(t.store, "type = 'call' AND subtype = 'return'");
    expect(returns.every((e) => e.payload.duration_ns > 0)).toBe(true);
    expect(returns.find((e) => e.payload.fn === 'refund')!.payload.duration_ns).toBeGreaterThan(4e6);
  });

  it('untrace_module stops at once and puts the original functions back; the listing says what is traced', async () => {
    const { app, t } = await attached('esm_shop/src/app.js');
    await t.tracer.traceModule({ module: './test/fixtures/esm_shop/src/payments.js', ...limits });
    const listed = await t.tracer.traces();
    expect(listed.map((l) => [l.value.module, l.value.via, l.value.calls])).toEqual([['test/fixtures/esm_shop/src/payments.js', 'live-edit', 0]]);
    app.send('charge 1');
    await app.nextLine(/^charged/);
    const stopped = await t.tracer.untraceModule('payments.js');
    expect(stopped.map((s) => [s.value.module, s.value.status, s.value.calls])).toEqual([['test/fixtures/esm_shop/src/payments.js', 'stopped', 2]]);
    expect(await t.tracer.traces()).toEqual([]);
    app.send('charge 2');
    expect(await app.nextLine(/^charged/)).toBe('charged card:2.3');
    await t.tracer.sync();
    expect(calls(t.store).map((c) => c[1])).toEqual(['charge', 'charge', 'Ledger#record', 'Ledger#record']);
    // The source V8 runs is the file's own again (it was the instrumented one while traced).
    const thread = t.tracer.thread(String(app.pid));
    const url = (await thread.esm.loadedUrls()).find((u) => u.endsWith('esm_shop/src/payments.js'))!;
    const scriptId = await new Promise<string>((resolve) => {
      const off = thread.session.on('Debugger.scriptParsed', (e) => e.url === url && (off(), resolve(e.scriptId)));
      void thread.session.send('Debugger.disable').then(() => thread.session.send('Debugger.enable', {}));
    });
    const { scriptSource } = await thread.session.send('Debugger.getScriptSource', { scriptId });
    expect(scriptSource).toBe(readFileSync(join(FIXTURES, 'esm_shop/src/payments.js'), 'utf8'));
  });

  it('instruments an ES module launched with trace_modules before its first line, when it is imported later', async () => {
    const t = newTracer();
    launched = t.tracer;
    await t.tracer.traceModule({ module: join(FIXTURES, 'esm_shop/src/payments.js'), ...limits });
    const link = await t.tracer.launch([process.execPath, join(FIXTURES, 'esm_shop/src/app.js'), '--lazy']);
    const proc = link.pid;
    expect(proc).toBeGreaterThan(0);
    await eventually(() => {
      t.tracer.ingest.flush();
      return events(t.store, "type = 'log' AND json_extract(payload, '$.text') = 'ready'").length === 1;
    }, 'ready');
    // The launched program's stdin is not ours: drive it through the inspector instead.
    await t.tracer.evaluate(String(proc), "process.stdin.emit('data', 'charge 5\\n')");
    await eventually(async () => {
      await t.tracer.sync();
      return events(t.store, "type = 'call' AND subtype = 'return' AND json_extract(payload, '$.fn') = 'Ledger#record'").length > 0;
    }, 'the return of Ledger#record');
    expect(calls(t.store)).toEqual(LAZY_CHARGE_5);
  });
});

describe('module names as people say them', () => {
  it('finds a loaded module by basename or by a path relative to the main script, and lists candidates when ambiguous', async () => {
    const { app, t } = await attached('apps/shop/app.cjs');
    await expect(t.tracer.traceModule({ module: 'tax.cjs', ...limits })).rejects.toThrow(
      `"tax.cjs" names 2 loaded modules: ${join(FIXTURES, 'apps/admin/lib/tax.cjs')}, ${join(FIXTURES, 'apps/shop/lib/tax.cjs')}`,
    );
    const [tax] = await t.tracer.traceModule({ module: 'admin/lib/tax.cjs', ...limits });
    expect(tax!.value).toMatchObject({ status: 'traced', resolved: join(FIXTURES, 'apps/admin/lib/tax.cjs') });
    // Not relative to the working directory (the repository root): relative to the main script's folder.
    const [report] = await t.tracer.traceModule({ module: 'payments.cjs', ...limits });
    expect(report!.value).toMatchObject({ status: 'traced', via: 'live-edit', resolved: join(FIXTURES, 'apps/shop/payments.cjs'), functions: ['pay', 'refund'], note: expect.stringMatching(/^pay instrumented in place .*; refund wrapped on the exports/) });
    app.send('pay 21');
    expect(await app.nextLine(/^paid/)).toBe('paid 42');
    await t.tracer.sync();
    expect(calls(t.store)).toEqual([
      ['call', 'pay', [21]],
      ['return', 'pay', 42],
    ]);
    // Asked by another spelling than the one traced, the calls are the same.
    for (const name of ['payments.cjs', 'shop/payments.cjs', join(FIXTURES, 'apps/shop/payments.cjs'), `file://${join(FIXTURES, 'apps/shop/payments.cjs')}`]) {
      expect(functionCalls(t.store, { module: name, window: { sinceMs: null, untilMs: null } }, paging(1, 10)).calls.map((c) => c.fn), name).toEqual(['pay']);
    }
    expect(functionCalls(t.store, { module: 'admin/payments.cjs', window: { sinceMs: null, untilMs: null } }, paging(1, 10)).total).toBe(0);
    await expect(t.tracer.traceModule({ module: 'paymnts.cjs', ...limits })).rejects.toThrow(/no loaded module is named "paymnts.cjs"; closest loaded: .*payments\.cjs/);
  });

  it('traces a package by name', async () => {
    const { t } = await attached('web/server.cjs', { ready: /^listening/ });
    const [report] = await t.tracer.traceModule({ module: 'express', ...limits });
    expect(report!.value).toMatchObject({ status: 'traced', via: 'live-edit', resolved: expect.stringMatching(/node_modules\/express\/index\.js$/) });
    expect(report!.value.functions).toEqual(['createApplication']);
  });

  it('traces a Piscina task module, loaded only in the pool\'s thread, by its name relative to the main script', async () => {
    const { app, t } = await attached('pool/app.cjs');
    const reports = await t.tracer.traceModule({ module: './task.cjs', ...limits });
    const worker = reports.find((r) => r.actor.includes('/w'))!;
    // Piscina holds the task function it loaded: only an in-place trace sees its calls.
    expect(worker.value).toMatchObject({ status: 'traced', via: 'live-edit', resolved: join(FIXTURES, 'pool/task.cjs'), functions: ['price'] });
    app.send('price b 3');
    expect(await app.nextLine(/^priced|^failed/)).toBe('priced b 7.5');
    app.send('price c 0');
    expect(await app.nextLine(/^priced|^failed/)).toBe('failed bad quantity 0');
    await t.tracer.sync();
    expect(events(t.store, "type = 'call'").map((e) => [e.actor, e.subtype, e.payload.fn, e.payload.args ?? e.payload.result ?? e.payload.error.message])).toEqual([
      [worker.actor, 'call', 'price', [{ sku: 'b', qty: 3 }]],
      [worker.actor, 'return', 'price', { sku: 'b', total: 7.5 }],
      [worker.actor, 'call', 'price', [{ sku: 'c', qty: 0 }]],
      [worker.actor, 'throw', 'price', 'bad quantity 0'],
    ]);
  });
});

describe('after the inspector socket drops and the tracer reconnects', () => {
  it('follows the new session: a module imported later is instrumented as it loads', async () => {
    const app = startFixture('esm_shop/src/app.js', ['--lazy']);
    await app.line(/^ready/);
    const t = newTracer();
    launched = t.tracer;
    const link = await t.tracer.attach(app.pid);
    // The Debugger domain is enabled on the first session (scripts listed, pauses listened to).
    expect((await link.main.esm.loadedUrls()).some((u) => u.endsWith('esm_shop/src/app.js'))).toBe(true);
    const before = link.main.session;
    link.dropSocket();
    await eventually(() => link.main.session !== before && !link.main.session.closed, 'the reconnect');
    const [report] = await t.tracer.traceModule({ module: join(FIXTURES, 'esm_shop/src/payments.js'), ...limits });
    expect(report!.value).toMatchObject({ status: 'pending' });
    // The old session's listeners are gone with it.
    expect([before.listenerCount('Debugger.scriptParsed'), before.listenerCount('Debugger.paused')]).toEqual([0, 0]);
    expect(link.main.session.listenerCount('Debugger.paused')).toBe(1);
    app.send('charge 5');
    expect(await app.nextLine(/^charged|^failed/)).toBe('charged card:5.3');
    await t.tracer.sync();
    expect(calls(t.store)).toEqual(LAZY_CHARGE_5);
  });
});

describe('breakpoint traces after the inspector socket drops and the tracer reconnects', () => {
  it('sets them again on the new session: calls keep being recorded', async () => {
    const { app, t } = await attached('esm/app.js');
    launched = t.tracer;
    const link = t.tracer.links.get(app.pid)!;
    const [report] = await t.tracer.traceModule({ module: 'prices.js', ...limits });
    // An arrow at an ES module's top level: V8 refuses to edit it, so a breakpoint traces it.
    expect((report!.value as { note: string }).note).toMatch(/discount[^;]*conditional breakpoints/);
    app.send('quote apple 5');
    expect(await app.nextLine(/^total|^failed/)).toBe('total 13.5');
    link.dropSocket();
    await eventually(() => link.reconnects === 1, 'the reconnect');
    app.send('quote pear 1');
    expect(await app.nextLine(/^total|^failed/)).toBe('total 5');
    await t.tracer.sync();
    expect(calls(t.store).filter(([, fn]) => fn === 'discount')).toEqual([
      ['call', 'discount', [15]],
      ['call', 'discount', [5]],
    ]);
  });
});
