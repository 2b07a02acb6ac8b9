// Launch mode: the agent is in before the program's first line, so everything it does is recorded,
// including what happens in its last moments before a crash.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { eventually, events, FIXTURES, newTracer } from '../helpers.js';
import type { Tracer } from '../../src/trace/tracer.js';

let tracer: Tracer | undefined;
afterEach(async () => {
  await tracer?.close();
  tracer = undefined;
});

describe('launch', () => {
  it('records the crash of an app that throws 50 ms after start, and everything before it', async () => {
    const t = newTracer();
    tracer = t.tracer;
    const link = await t.tracer.launch([process.execPath, join(FIXTURES, 'crash.cjs')]);
    const pid = String(link.pid);
    const actor = await eventually(() => {
      t.tracer.ingest.flush();
      const a = t.store.actor(pid);
      return a?.ended_ms !== null && a;
    }, 'the crash');
    expect(actor).toMatchObject({ kind: 'process', name: 'crash.cjs', status: 'crashed', exit_code: 1, exit_signal: null });

    const main = events(t.store, 'actor = ?', pid);
    expect(main.map((e) => `${e.type}/${e.subtype}`)).toEqual(['process/start', 'log/log', 'log/log', 'error/uncaught_exception', 'process/exit']);
    expect(main[0]!.payload).toMatchObject({ pid: link.pid, fromStart: true, argv: [process.execPath, join(FIXTURES, 'crash.cjs')] });
    expect(main[1]!.payload).toEqual({ text: 'starting', stream: 'stdout' });
    expect(main[2]!.payload).toEqual({ text: 'about to throw', stream: 'stdout' });
    const crash = main[3]!.payload;
    expect(crash.fatal).toBe(true);
    expect(crash.error).toMatchObject({ $t: 'Error', class: 'Error', message: 'boom at 50ms' });
    expect(crash.error.stack).toMatch(/^Error: boom at 50ms\n\s+at Timeout\._onTimeout \(.*crash\.cjs:\d+:\d+\)/);
    expect(main[4]!.payload).toEqual({ code: 1 });
  });

  it('follows a worker started on the first line, with its name, from its own first line', async () => {
    const t = newTracer();
    tracer = t.tracer;
    const link = await t.tracer.launch([process.execPath, join(FIXTURES, 'worker_first_line.cjs')]);
    const pid = String(link.pid);
    await eventually(() => {
      t.tracer.ingest.flush();
      return t.store.actor(pid)?.ended_ms;
    }, 'the app to end');
    expect(t.store.actor(`${pid}/w1`)).toMatchObject({ kind: 'worker', name: 'early', parent: pid, status: 'exited', exit_code: 5 });
    const worker = events(t.store, 'actor = ?', `${pid}/w1`).map((e) => [e.type, e.subtype, e.from_actor, e.payload]);
    // The worker's start comes first and its exit last; the parent sees 'online' whenever its own loop gets
    // to it, which may be after the worker's first line ran.
    expect(worker[0]).toEqual(['worker', 'start', null, { pid: link.pid, threadId: 1, name: 'early', parent: pid, url: null, fromStart: true }]);
    expect(worker.slice(1, 3)).toEqual(expect.arrayContaining([['worker', 'online', pid, null], ['log', 'log', null, { text: 'worker first line', stream: 'stdout' }]]));
    expect(worker.slice(3)).toEqual([['worker', 'exit', pid, { code: 5 }]]);
    expect(events(t.store, "actor = ? AND type = 'log'", pid).map((e) => e.payload.text)).toEqual(['worker exited 5']);
  });

  it('records a program that fails before its first line (missing module) as a crash', async () => {
    const t = newTracer();
    tracer = t.tracer;
    const link = await t.tracer.launch([process.execPath, join(FIXTURES, 'does-not-exist.js')]);
    const actor = await eventually(() => {
      t.tracer.ingest.flush();
      const a = t.store.actor(String(link.pid));
      return a?.ended_ms !== null && a;
    }, 'the failure');
    expect(actor).toMatchObject({ status: 'crashed', exit_code: 1 });
    const crash = events(t.store, "type = 'error'")[0]!;
    expect(crash.payload.error.message).toMatch(/^Cannot find module '.*does-not-exist\.js'/);
  });

  it('traces a module from the first line, even when a worker destructures it at load (the demo shop)', async () => {
    const t = newTracer();
    tracer = t.tracer;
    await t.tracer.traceModule({ module: './pricing.cjs', maxCalls: 100, maxPerSecond: 100, durationMs: 60_000 });
    const link = await t.tracer.launch([process.execPath, 'shop.cjs'], { cwd: join(import.meta.dirname, '..', '..', 'demo') });
    await eventually(() => (t.tracer.ingest.flush(), t.store.actor(String(link.pid))?.ended_ms), 'the shop to finish', 15_000);
    const calls = events(t.store, "type = 'call'").map((e) => [e.actor, e.subtype, e.payload.fn, e.payload.args ?? e.payload.result ?? e.payload.error.message]);
    const w = `${link.pid}/w1`;
    expect(calls).toEqual([
      [w, 'call', 'quote', ['apple', 2]],
      [w, 'return', 'quote', { sku: 'apple', qty: 2, price: 3 }],
      [w, 'call', 'quote', ['kiwi', 1]],
      [w, 'throw', 'quote', 'no price for kiwi'],
      [w, 'call', 'quote', ['pear', 1]],
      [w, 'return', 'quote', { sku: 'pear', qty: 1, price: 5 }],
      [w, 'call', 'quote', ['fig', 3]],
      [w, 'return', 'quote', { sku: 'fig', qty: 3, price: 7 }],
    ]);
  });

  it('says why when the command cannot start', async () => {
    const t = newTracer();
    tracer = t.tracer;
    await expect(t.tracer.launch(['/no/such/binary'])).rejects.toThrow(/cannot start \/no\/such\/binary/);
  });
});
