// Tracked objects (the GenServer analogue): found by registered name or by path in any thread, with a
// state snapshot after every method call, each with its trigger.
import { describe, expect, it } from 'vitest';
import { attached, eventually, events } from '../helpers.js';

describe('tracked objects', () => {
  it('tracks a registered object: calls, and the state after each with its trigger', async () => {
    const { app, t } = await attached('bank/app.cjs');
    const found = await t.tracer.track('counter');
    const id = `${app.pid}/o1`;
    expect(found).toEqual([{ actor: String(app.pid), value: { id, name: 'counter', class: 'Counter', path: 'counter', methods: ['increment'], existing: false } }]);
    await t.tracer.sync(); // the agent's report of it is on its way to the store
    expect(t.store.actor(id)).toMatchObject({ kind: 'object', parent: String(app.pid), name: 'counter', status: 'running' });

    app.send('inc 2');
    app.send('inc 5');
    await app.line(/^count 7/);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = events(t.store, 'actor = ?', id);
      return r.length === 8 && r;
    }, 'eight events of the counter');
    expect(rows.map((r) => [r.type, r.subtype, r.payload])).toEqual([
      ['object', 'track', { name: 'counter', class: 'Counter', path: 'counter' }],
      ['state', 'snapshot', { state: { $class: 'Counter', count: 0 }, trigger: { method: '(tracked)', args: [] } }],
      ['call', 'call', { module: 'Counter', fn: 'Counter#increment', args: [2], parent: null }],
      ['call', 'return', { module: 'Counter', fn: 'Counter#increment', result: 2, duration_ns: expect.any(Number), async: false }],
      ['state', 'snapshot', { state: { $class: 'Counter', count: 2 }, trigger: { method: 'increment', args: [2] } }],
      ['call', 'call', { module: 'Counter', fn: 'Counter#increment', args: [5], parent: null }],
      ['call', 'return', { module: 'Counter', fn: 'Counter#increment', result: 7, duration_ns: expect.any(Number), async: false }],
      ['state', 'snapshot', { state: { $class: 'Counter', count: 7 }, trigger: { method: 'increment', args: [5] } }],
    ]);
    // Each snapshot after a call names that call as its trigger.
    const refs = t.store.db.prepare("SELECT subtype, ref FROM events WHERE actor = ? AND type IN ('call', 'state') ORDER BY ts_ns").all(id) as { ref: string }[];
    expect(refs.map((r) => r.ref)).toEqual([null, `${app.pid}:c1`, `${app.pid}:c1`, `${app.pid}:c1`, `${app.pid}:c2`, `${app.pid}:c2`, `${app.pid}:c2`]);

    await t.tracer.detach();
    app.send('check');
    expect(JSON.parse((await app.line(/^check /)).slice(6))).toMatchObject({ increment: true });
  });

  it('tracks an object by path inside a worker, and keeps its last state when the worker crashes', async () => {
    const { app, t } = await attached('bank/app.cjs');
    const accounts = await eventually(() => (t.tracer.ingest.flush(), t.store.actors().find((a) => a.name === 'accounts')?.id), 'the accounts worker');
    const found = await t.tracer.track('globalThis.account');
    expect(found.map((f) => [f.actor, f.value.id, f.value.class])).toEqual([[accounts, `${accounts}/o1`, 'Account']]);
    const id = `${accounts}/o1`;

    app.send('withdraw 30');
    await app.line(/^balance 70/);
    app.send('withdraw 500');
    await app.line(/^withdraw failed: insufficient funds/);
    app.send('crash-accounts');
    await app.line(/^accounts exited 1/);
    const worker = await eventually(() => {
      t.tracer.ingest.flush();
      const a = t.store.actor(accounts);
      return a?.ended_ms && a;
    }, 'the accounts worker to end');
    expect(worker).toMatchObject({ status: 'crashed', exit_code: 1 });

    const states = events(t.store, "actor = ? AND type = 'state'", id).map((r) => [r.payload.trigger.method, r.payload.state]);
    expect(states).toEqual([
      ['(tracked)', { $class: 'Account', owner: 'ada', balance: 100, history: [] }],
      ['withdraw', { $class: 'Account', owner: 'ada', balance: 70, history: [-30] }],
      ['withdraw', { $class: 'Account', owner: 'ada', balance: 70, history: [-30] }],
    ]);
    const failed = events(t.store, "actor = ? AND type = 'call' AND subtype = 'throw'", id);
    expect(failed.map((r) => r.payload.error.message)).toEqual(['insufficient funds']);
    // The worker's last batch (its crash) comes through the binding, and may be written just after its end.
    const crash = await eventually(() => {
      t.tracer.ingest.flush();
      const rows = events(t.store, "actor = ? AND type = 'error'", accounts);
      return rows.length > 0 && rows;
    }, 'the crash');
    expect(crash).toHaveLength(1);
    expect(crash[0]!.payload.error.message).toBe('account ledger corrupted');
  });

  it('says nothing was found when a name matches no object', async () => {
    const { app, t } = await attached('bank/app.cjs');
    expect(await t.tracer.track('globalThis.nope')).toEqual([]);
  });
});
