// Messages between threads and processes, captured for real and linked send → receipt.
import { describe, expect, it } from 'vitest';
import { messageFlow } from '../../src/query/messages.js';
import { attached, eventually, events } from '../helpers.js';

describe('messages', () => {
  it('records worker messages both ways, linked, with secrets redacted before they are stored', async () => {
    const { app, t } = await attached('bank/app.cjs');
    const main = String(app.pid);
    const auth = await eventually(() => (t.tracer.ingest.flush(), t.store.actors().find((a) => a.name === 'auth')?.id), 'the auth worker');

    app.send('login ada hunter2');
    await app.line(/^login ok/);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = events(t.store, "type = 'message'");
      return r.length === 4 && r;
    }, 'four message events');
    expect(rows.map((r) => [r.subtype, r.actor, r.from_actor, r.to_actor, r.payload])).toEqual([
      ['send', main, main, auth, { channel: 'worker', message: { user: 'ada', password: '[redacted]' } }],
      ['receive', auth, main, auth, { channel: 'worker', message: { user: 'ada', password: '[redacted]' } }],
      ['send', auth, auth, main, { channel: 'worker', message: { user: 'ada', ok: true, token: '[redacted]' } }],
      ['receive', main, auth, main, { channel: 'worker', message: { user: 'ada', ok: true, token: '[redacted]' } }],
    ]);
    const refs = t.store.db.prepare("SELECT ref FROM events WHERE type = 'message' ORDER BY ts_ns").all().map((r: any) => r.ref);
    expect(refs[0]).toBe(refs[1]);
    expect(refs[2]).toBe(refs[3]);
    expect(refs[0]).not.toBe(refs[2]);
    expect(JSON.stringify(t.store.db.prepare('SELECT payload FROM events').all())).not.toMatch(/hunter2|tok-123/);
  });

  it('records IPC between a parent and its forked child, both sides', async () => {
    const { app, t, ready } = await attached('ipc.cjs');
    const childPid = Number(ready.split(' ')[1]);
    await eventually(() => t.tracer.links.has(childPid), 'the child to be attached');
    app.send('ping 7');
    await app.line(/^pong 7/);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = events(t.store, "type = 'message'");
      return r.length === 4 && r;
    }, 'four IPC events');
    const [p, c] = [String(app.pid), String(childPid)];
    expect(rows.map((r) => [r.subtype, r.actor, r.from_actor, r.to_actor, r.payload])).toEqual([
      ['send', p, p, c, { channel: 'ipc', message: { ping: 7 } }],
      ['receive', c, p, c, { channel: 'ipc', message: { ping: 7 } }],
      ['send', c, c, p, { channel: 'ipc', message: { pong: 7 } }],
      ['receive', p, c, p, { channel: 'ipc', message: { pong: 7 } }],
    ]);
  });
});

describe('message pairing by what the channel delivers', () => {
  it('an IPC message with an undefined field (JSON drops it) pairs with its receipt', async () => {
    const { app, t, ready } = await attached('ipc.cjs');
    const childPid = Number(ready.split(' ')[1]);
    await eventually(() => t.tracer.links.has(childPid), 'the child to be attached');
    app.send('jping 3');
    await app.line(/^pong 3/);
    const [p, c] = [String(app.pid), String(childPid)];
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = events(t.store, "type = 'message' AND from_actor = ?", p);
      return r.length === 2 && r;
    }, 'the send and its receipt');
    expect(rows.map((r) => [r.subtype, r.payload.message])).toEqual([
      ['send', { ping: 3, mode: { $t: 'undefined' }, at: { $t: 'Date', v: '1970-01-01T00:00:00.000Z' }, list: [{ $t: 'undefined' }, { $t: 'number', v: 'NaN' }] }],
      ['receive', { ping: 3, at: '1970-01-01T00:00:00.000Z', list: [null, null] }],
    ]);
    const { messages } = messageFlow(t.store, p, c, { sinceMs: null, untilMs: null }, { limit: 50, offset: 0, page: 1 });
    expect(messages.map((m) => [m.from, m.to, m.status])).toEqual([
      [p, c, 'received'],
      [c, p, 'received'],
    ]);
  });

  it('messages sent before the receiver\'s agent came, and received after, pair', async () => {
    const { app, t } = await attached('ipc.cjs');
    app.send('late 2');
    const late = String(Number((await app.line(/^late \d+/)).split(' ')[1]));
    await app.line(/^late pong 2/);
    const p = String(app.pid);
    await eventually(() => {
      t.tracer.ingest.flush();
      return events(t.store, "type = 'message' AND subtype = 'receive'").length === 4;
    }, 'both receipts of both pairs');
    const { messages } = messageFlow(t.store, p, late, { sinceMs: null, untilMs: null }, { limit: 50, offset: 0, page: 1 });
    // The two sends were recorded before the child's agent started (its first event), their receipts after.
    const start = t.store.db.prepare('SELECT min(ts_ns) AS t FROM events WHERE actor = ?').get(late) as { t: number };
    const sends = t.store.db.prepare("SELECT ts_ns FROM events WHERE type = 'message' AND subtype = 'send' AND actor = ?").all(p) as { ts_ns: number }[];
    expect(sends.filter((s) => s.ts_ns < start.t)).toHaveLength(2);
    expect(messages.map((m) => [m.from, m.to, m.message, m.status])).toEqual([
      [p, late, { ping: 1, mode: { $t: 'undefined' } }, 'received'],
      [p, late, { ping: 2, mode: { $t: 'undefined' } }, 'received'],
      [late, p, { pong: 1 }, 'received'],
      [late, p, { pong: 2 }, 'received'],
    ]);
  });
});
