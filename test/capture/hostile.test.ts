// Hostile values on a real target: traced functions that return or throw proxies (one whose prototype lookup
// throws, one over an array, a revoked one) and a `then` getter. The fixture counts every trap that runs and
// says whether anything was thrown into it; each call must still be recorded.
import { describe, expect, it } from 'vitest';
import { attached, eventually, events } from '../helpers.js';

const VALUES = './test/fixtures/hostile/values.js';
const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };

async function traced() {
  const { app, t } = await attached('hostile/app.cjs');
  const [report] = await t.tracer.traceModule({ module: VALUES, ...limits });
  expect(report!.value.status).toBe('traced');
  const call = async (name: string) => {
    app.send(`call ${name}`);
    return (await app.nextLine(new RegExp(`^${name} traps=`))).trim();
  };
  const calls = (fn: string, n: number) =>
    eventually(() => {
      t.tracer.ingest.flush();
      const rows = events(t.store, "type = 'call' AND json_extract(payload, '$.fn') = ?", fn);
      return rows.length === n && rows;
    }, () => `${n} call events of ${fn}: ${JSON.stringify(events(t.store, "type = 'call'"))}`);
  return { app, t, call, calls };
}

describe('hostile values', () => {
  it('a returned object whose prototype is a throwing proxy: nothing thrown into the caller, no trap, the call recorded', async () => {
    const { call, calls } = await traced();
    expect(await call('protoTrap')).toBe('protoTrap traps=0 threw=no');
    const rows = await calls('protoTrap', 2);
    expect(rows.map((r) => [r.subtype, r.payload.args ?? r.payload.result])).toEqual([
      ['call', []],
      ['return', { $class: '(anonymous)' }],
    ]);
  });

  it('a proxy over an array, returned, thrown or passed in: no trap, every call recorded', async () => {
    const { call, calls } = await traced();
    expect(await call('arrayProxy')).toBe('arrayProxy traps=0 threw=no');
    expect(await call('throwArrayProxy')).toBe('throwArrayProxy traps=0 threw=own');
    expect(await call('takesProxy')).toBe('takesProxy traps=0 threw=no');
    expect((await calls('arrayProxy', 4)).map((r) => [r.subtype, r.payload.args ?? r.payload.result])).toEqual([
      ['call', []],
      ['return', { $t: 'Proxy' }],
      ['call', []],
      ['return', { $t: 'Proxy' }],
    ]);
    expect((await calls('throwArrayProxy', 2)).map((r) => [r.subtype, r.payload.args ?? r.payload.error])).toEqual([
      ['call', []],
      ['throw', { $t: 'Proxy' }],
    ]);
    expect((await calls('takesProxy', 2)).map((r) => [r.subtype, r.payload.args ?? r.payload.result])).toEqual([
      ['call', [{ $t: 'Proxy' }]],
      ['return', 'object'],
    ]);
  });

  it('a revoked proxy: nothing thrown, the call recorded', async () => {
    const { call, calls } = await traced();
    expect(await call('revoked')).toBe('revoked traps=0 threw=no');
    expect((await calls('revoked', 2)).map((r) => [r.subtype, r.payload.args ?? r.payload.result])).toEqual([
      ['call', []],
      ['return', { $t: 'Proxy' }],
    ]);
  });

  it('an async result with a `then` getter: the capture never reads it, the call is recorded', async () => {
    const { call, calls } = await traced();
    // Untraced, the getter runs once: resolving a promise with a value looks up the value's `then`
    // (ECMAScript's promise resolve functions), and the async function resolves its own promise with it.
    // Traced, the caller's promise is a second one (the function's own adopting its instrumented body's, or a
    // wrapper's forwarding one), resolved with the same value: a second lookup. The one way to a single
    // lookup is to hand back the original promise and observe it with a reaction (a `then` taken at load,
    // on the original itself), and a reaction marks the promise handled: measured on Node 20, a rejection
    // observed that way no longer reaches 'unhandledRejection', which silences the crash the app would have
    // had (last test). Observing a promise without a reaction takes V8's promise hooks, which see every
    // promise of the thread and give no value without Node's internals. So two, and the capture itself
    // reads nothing (it used to be three: body, forwarding promise, adoption).
    expect(await call('thenGetter')).toBe('thenGetter traps=2 threw=no then,then');
    expect((await calls('thenGetter', 2)).map((r) => [r.subtype, r.payload.args ?? r.payload.result, r.payload.async])).toEqual([
      ['call', [], undefined],
      ['return', { ok: true, then: { $t: 'getter' } }, true],
    ]);
  });

  it('a rejection the caller leaves unhandled still reaches the program as unhandled; a handled one does not', async () => {
    const { app, call, calls } = await traced();
    expect(await call('awaitRejection')).toBe('awaitRejection traps=0 threw=own');
    expect(await call('dropRejection')).toBe('dropRejection traps=0 threw=no');
    await app.line(/^unhandled dropped$/);
    const rows = await calls('rejects', 4);
    expect(rows.map((r) => [r.subtype, r.payload.args ?? r.payload.error?.message])).toEqual([
      ['call', ['handled']],
      ['throw', 'handled'],
      ['call', ['dropped']],
      ['throw', 'dropped'],
    ]);
    // Reported in order: had the awaited one been reported, its line would have come first.
    await expect(app.line(/^unhandled handled/, 300)).rejects.toThrow(/printed no line/);
  });
});
