// Messages between threads and processes, captured for real and linked send → receipt.
import { describe, expect, it } from 'vitest';
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
