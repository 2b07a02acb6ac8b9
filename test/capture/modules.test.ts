// trace_module on a real target: a CommonJS module loaded after the trace began, sync and async functions,
// class methods, failures; limits that stop the trace; results unchanged; wrappers gone after detach.
import { afterEach, describe, expect, it } from 'vitest';
import type { Tracer } from '../../src/trace/tracer.js';
import { attached, eventually, events, newTracer, startFixture } from '../helpers.js';

let tracer: Tracer | undefined;
afterEach(async () => {
  await tracer?.close();
  tracer = undefined;
});

const PAYMENTS = './test/fixtures/bank/payments.js';
const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };

describe('trace_module', () => {
  it('wraps a module when it is first required, and records calls with arguments, results and errors', async () => {
    const { app, t } = await attached('bank/app.cjs');
    const reports = await t.tracer.traceModule({ module: PAYMENTS, ...limits });
    const main = String(app.pid);
    expect(reports.find((r) => r.actor === main)!.value).toMatchObject({ status: 'pending', resolved: expect.stringMatching(/bank\/payments\.js$/) });

    app.send('checkout 50');
    await app.line(/^checkout ok tx1 entries 1/);
    app.send('checkout 500');
    await app.line(/^checkout failed/);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = events(t.store, "type = 'call'");
      return r.length === 10 && r;
    }, 'ten call events');
    expect(rows.every((r) => r.actor === main)).toBe(true);
    const account = { owner: 'ada', limit: 100 };
    expect(rows.map((r) => [r.subtype, r.payload.fn, r.payload.args ?? r.payload.result ?? r.payload.error?.message, r.payload.async])).toEqual([
      ['call', 'fee', [50], undefined],
      ['return', 'fee', 1.5, false],
      ['call', 'charge', [account, 51.5], undefined],
      ['return', 'charge', { id: 'tx1', amount: 51.5 }, true],
      ['call', 'Ledger#record', [{ id: 'tx1', amount: 51.5 }], undefined],
      ['return', 'Ledger#record', 1, false],
      ['call', 'fee', [500], undefined],
      ['return', 'fee', 15, false],
      ['call', 'charge', [account, 515], undefined],
      ['throw', 'charge', 'card declined: 515 over limit 100', true],
    ]);
    const started = events(t.store, "type = 'agent' AND subtype = 'trace_started'");
    expect(started.map((e) => [e.actor, e.payload.functions, e.payload.methods])).toEqual([[main, ['charge', 'fee'], ['Ledger#record']]]);
  });

  it('keeps the target\'s order: an async return is recorded when its promise settles', async () => {
    // checkout awaits charge (which waits 5 ms) before recording in the ledger; ts_ns order is the target's.
    const { app, t } = await attached('bank/app.cjs');
    await t.tracer.traceModule({ module: PAYMENTS, ...limits });
    app.send('checkout 10');
    await app.line(/^checkout ok/);
    const rows = await eventually(() => (t.tracer.ingest.flush(), events(t.store, "type = 'call'").length === 6 && events(t.store, "type = 'call'")), 'six call events');
    const ts = t.store.db.prepare("SELECT ts_ns FROM events WHERE type = 'call' ORDER BY id").all().map((r: any) => r.ts_ns);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    expect(rows.map((r) => `${r.subtype}:${r.payload.fn}`)).toEqual(['call:fee', 'return:fee', 'call:charge', 'return:charge', 'call:Ledger#record', 'return:Ledger#record']);
    const charge = rows.filter((r) => r.payload.fn === 'charge');
    // Covers the 5 ms await, not just the synchronous start (µs); a timer may fire a little before 5 ms
    // by the monotonic clock, since libuv measures from the loop time it cached.
    expect(charge[1]!.payload.duration_ns).toBeGreaterThan(4e6);
  });

  it('stops itself at max_calls, records why, and leaves the results unchanged', async () => {
    const app = startFixture('bank/app.cjs');
    await app.line(/^ready/);
    app.send('busy 2000');
    const untraced = await app.line(/^busy /);
    const t = newTracer();
    tracer = t.tracer;
    await t.tracer.attach(app.pid);
    const [report] = await t.tracer.traceModule({ module: PAYMENTS, maxCalls: 5, maxPerSecond: 1_000_000, durationMs: 60_000 });
    expect(report!.value.status).toBe('traced');
    app.send('busy 2000');
    expect(await app.nextLine(/^busy /)).toBe(untraced);
    const stopped = await eventually(() => (t.tracer.ingest.flush(), events(t.store, "type = 'agent' AND subtype = 'trace_stopped'")[0]), 'the trace to stop');
    expect(stopped.payload).toEqual({ trace: PAYMENTS.replace(/^\.\//, ''), reason: 'reached max_calls 5', calls: 5 });
    expect(events(t.store, "type = 'call' AND subtype = 'call'")).toHaveLength(5);
    app.send('busy 2000');
    expect(await app.nextLine(/^busy /)).toBe(untraced);
  });

  it('removes every wrapper on detach', async () => {
    const app = startFixture('bank/app.cjs');
    await app.line(/^ready/);
    app.send('checkout 1');
    await app.line(/^checkout ok/);
    const t = newTracer();
    tracer = t.tracer;
    await t.tracer.attach(app.pid);
    const [report] = await t.tracer.traceModule({ module: PAYMENTS, ...limits });
    expect(report!.value).toMatchObject({ status: 'traced', functions: ['charge', 'fee'], methods: ['Ledger#record'] });
    await t.tracer.track('counter');
    app.send('check');
    expect(JSON.parse((await app.line(/^check /)).slice(6))).toEqual({ increment: false, charge: false, fee: false, record: false });
    await t.tracer.detach();
    app.send('quit');
    await app.exited;
    const again = startFixture('bank/app.cjs');
    await again.line(/^ready/);
    again.send('check');
    expect(JSON.parse((await again.line(/^check /)).slice(6))).toEqual({ increment: true, charge: true, fee: true, record: true });
  });

  it('traces a loaded ES module in place, and by breakpoints (arguments only) what V8 will not live-edit', async () => {
    const { app, t } = await attached('esm/app.js');
    const [report] = await t.tracer.traceModule({ module: './test/fixtures/esm/prices.js', ...limits });
    // V8 refuses a live edit inside an arrow at a module's top level: `discount` gets a breakpoint.
    expect(report!.value).toMatchObject({ status: 'traced', via: 'live-edit', functions: ['quote', 'discount'], methods: ['Till#ring'], note: expect.stringMatching(/discount traced by conditional breakpoints.*arguments only/) });
    app.send('quote apple 4');
    expect(await app.nextLine(/^total|^failed/)).toBe('total 10.8');
    app.send('quote kiwi 1');
    expect(await app.nextLine(/^total|^failed/)).toBe('failed no price for kiwi');
    await t.tracer.sync();
    const calls = events(t.store, "type = 'call'").map((e) => [e.subtype, e.payload.fn, e.payload.args ?? e.payload.result ?? e.payload.error.message, e.payload.via ?? null]);
    expect(calls).toEqual([
      ['call', 'quote', ['apple', 4], null],
      ['return', 'quote', 12, null],
      ['call', 'discount', [12], 'breakpoint'],
      ['call', 'Till#ring', [10.8], null],
      ['return', 'Till#ring', 10.8, null],
      ['call', 'quote', ['kiwi', 1], null],
      ['throw', 'quote', 'no price for kiwi', null],
    ]);
  });

  it('says what it cannot trace: a path that does not resolve', async () => {
    const { app, t } = await attached('bank/app.cjs');
    await expect(t.tracer.traceModule({ module: './nope.js', ...limits })).rejects.toThrow(/no loaded module is named "\.\/nope\.js"; closest loaded: .*app\.cjs/);
  });
});
