// The recording spine against a real process: batches through the data socket, a dropped socket on either
// side and its reconnect, a crash in the middle of the stream, and order across threads. Exact counts: every
// event emitted is stored exactly once.
import { describe, expect, it } from 'vitest';
import { attached, eventually } from '../helpers.js';
import type { Store } from '../../src/store/store.js';
import type { Tracer } from '../../src/trace/tracer.js';

/** The `i` of every log/<subtype> event of an actor, in stored (ts_ns) order. */
function sequence(store: Store, actor: string, subtype = 'spine'): number[] {
  return (store.db.prepare("SELECT payload FROM events WHERE type = 'log' AND subtype = ? AND actor = ? ORDER BY ts_ns, id").all(subtype, actor) as { payload: string }[]).map(
    (r) => JSON.parse(r.payload).i,
  );
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function stats(app: { send(c: string): void; nextLine(re: RegExp): Promise<string> }) {
  const line = app.nextLine(/^stats /);
  app.send('stats');
  return JSON.parse((await line).slice(6));
}

async function settled(tracer: Tracer, store: Store, actor: string, n: number): Promise<number[]> {
  return eventually(() => {
    tracer.ingest.flush();
    const s = sequence(store, actor);
    return s.length >= n && s;
  }, () => `${n} events of ${actor} (have ${sequence(store, actor).length})`);
}

describe('data channel', () => {
  it('carries batches through the socket, each event stored once, in order', async () => {
    const { app, t } = await attached('spine.cjs');
    const actor = String(app.pid);
    await eventually(async () => (await stats(app)).socket, 'the data socket to be up');
    app.send('emit 5000');
    await app.nextLine(/^emitted 5000/);
    await t.tracer.sync();
    expect(sequence(t.store, actor)).toEqual(range(5000));
    const s = await stats(app);
    expect(s.socket).toBe(true);
    expect(s.viaSocket).toBeGreaterThan(5000 / 256 - 1);
  });

  it('a socket dropped by the agent mid-stream: the binding takes over, nothing lost, nothing twice', async () => {
    const { app, t } = await attached('spine.cjs');
    const actor = String(app.pid);
    await eventually(async () => (await stats(app)).socket, 'the data socket to be up');
    app.send('drop 20000');
    await app.nextLine(/^emitted 20000/);
    expect(await settled(t.tracer, t.store, actor, 20_000)).toEqual(range(20_000));
    // and it comes back
    await eventually(async () => (await stats(app)).socket, 'the data socket to reconnect');
    app.send('emit 1000');
    await app.nextLine(/^emitted 1000/);
    expect(await settled(t.tracer, t.store, actor, 21_000)).toEqual(range(21_000));
  });

  it('a socket dropped by the host mid-stream, then reconnected: nothing lost, nothing twice', async () => {
    const { app, t } = await attached('spine.cjs');
    const actor = String(app.pid);
    await eventually(async () => (await stats(app)).socket, 'the data socket to be up');
    app.send('emit 10000');
    t.tracer.ingest.data()!.drop(actor);
    await app.nextLine(/^emitted 10000/);
    app.send('emit 10000');
    await app.nextLine(/^emitted 10000/);
    expect(await settled(t.tracer, t.store, actor, 20_000)).toEqual(range(20_000));
    await eventually(() => t.tracer.ingest.data()!.connected(actor), 'the agent to reconnect');
  });

  it('refuses a connection without the session secret', async () => {
    const { t } = await attached('spine.cjs');
    const data = t.tracer.ingest.data()!;
    const { connect } = await import('node:net');
    const closed = await new Promise<string>((resolve) => {
      const s = connect(data.path, () => s.write('not-the-secret 1\n'));
      let got = '';
      s.setEncoding('utf8');
      s.on('data', (c: string) => (got += c));
      s.on('close', () => resolve(got));
    });
    expect(closed).toBe('');
    expect(data.refused).toBe(1);
  });

  it('a target killed right after flushing: every batch it wrote is stored', async () => {
    const { app, t } = await attached('spine.cjs');
    const actor = String(app.pid);
    await eventually(async () => (await stats(app)).socket, 'the data socket to be up');
    app.send('crash 3000');
    expect(await app.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await settled(t.tracer, t.store, actor, 3000)).toEqual(range(3000));
  });

  it('keeps the order of events across threads (ping in main, pong in the worker, in turns)', async () => {
    const { app, t } = await attached('spine.cjs');
    const main = String(app.pid);
    await eventually(async () => (await stats(app)).socket, 'the data socket to be up');
    app.send('pingpong 300');
    await app.nextLine(/^pingpong 300/);
    await t.tracer.sync();
    const rows = t.store.db
      .prepare("SELECT subtype, actor, payload FROM events WHERE type = 'log' AND subtype IN ('ping', 'pong') ORDER BY ts_ns, id")
      .all() as { subtype: string; actor: string; payload: string }[];
    const expected = range(300).flatMap((i) => [`ping ${i} main`, `pong ${i} worker`]);
    expect(rows.map((r) => `${r.subtype} ${JSON.parse(r.payload).i} ${r.actor === main ? 'main' : 'worker'}`)).toEqual(expected);
  });
});
