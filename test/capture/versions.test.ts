// The capture questions that matter, asked of targets on every Node version users run (20, 22, 24, 26): the
// server stays on the machine's Node, the target runs on the binary test/targets installed. One file, so the
// rest of the suite runs once.
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Tracer } from '../../src/trace/tracer.js';
import { attached, eventually, events, FIXTURES, newTracer } from '../helpers.js';
import { nodeTargets } from '../targets/index.js';

const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };

let launched: Tracer | undefined;
afterEach(async () => {
  await launched?.close();
  launched = undefined;
});

describe.each(nodeTargets())('Node $major', ({ major, bin: node }) => {
  it('attach by pid: the supervision tree of workers and a forked child, and a worker exit code', async () => {
    const { app, t, ready } = await attached('family.cjs', { node });
    const childPid = Number(ready.split(' ')[1]);
    const tree = await eventually(() => {
      t.tracer.ingest.flush();
      const actors = t.store.actors();
      return actors.length === 4 && actors.every((a) => a.name !== null) && actors;
    }, 'four named actors');
    expect(tree.map((a) => [a.id, a.kind, a.parent, a.name, a.status]).sort()).toEqual(
      [
        [String(app.pid), 'process', null, 'family.cjs', 'running'],
        [`${app.pid}/w1`, 'worker', String(app.pid), 'pricing', 'running'],
        [`${app.pid}/w2`, 'worker', String(app.pid), 'inventory', 'running'],
        [String(childPid), 'process', String(app.pid), 'family.cjs child', 'running'],
      ].sort(),
    );
    const start = events(t.store, "type = 'process' AND subtype = 'start' AND actor = ?", String(app.pid))[0]!;
    expect(start.payload.node).toMatch(new RegExp(`^v${major}\\.`));
    app.send('stop-pricing');
    const pricing = await eventually(() => (t.tracer.ingest.flush(), t.store.actor(`${app.pid}/w1`)?.status === 'exited' && t.store.actor(`${app.pid}/w1`)), 'the pricing worker to exit');
    expect(pricing.exit_code).toBe(3);
  });

  it('a worker started by a worker: attached, placed under its parent, its exit code seen', async () => {
    const { app, t } = await attached('versions/nested.cjs', { node });
    const main = String(app.pid);
    const actors = await eventually(() => {
      t.tracer.ingest.flush();
      const a = t.store.actors();
      return a.length === 3 && a.every((x) => x.name !== null) && a;
    }, 'three named actors');
    // The inspector announces every worker of the process to the main thread's session, nested or not: the
    // tracer cannot tell which thread started one that ran before attach, until its parent reports its exit.
    expect(actors.map((a) => [a.id, a.kind, a.name]).sort()).toEqual(
      [
        [main, 'process', 'nested.cjs'],
        [`${main}/w1`, 'worker', 'outer'],
        [`${main}/w2`, 'worker', 'inner'],
      ].sort(),
    );
    expect(t.store.actor(`${main}/w1`)!.parent).toBe(main);
    app.send('stop-inner');
    await app.line(/^inner exited 4/);
    // The worker's own last word and its parent's report of the exit arrive in either order: both awaited.
    const inner = await eventually(() => {
      t.tracer.ingest.flush();
      const a = t.store.actor(`${main}/w2`);
      return a?.ended_ms && a.parent !== main && a;
    }, 'the outer worker to report the inner one\'s exit');
    expect(inner).toMatchObject({ parent: `${main}/w1`, status: 'exited', exit_code: 4 });
  });

  it('worker messages, trace_module on CommonJS, and a tracked object, in one attached app', async () => {
    const { app, t } = await attached('bank/app.cjs', { node });
    const main = String(app.pid);
    const auth = await eventually(() => (t.tracer.ingest.flush(), t.store.actors().find((a) => a.name === 'auth')?.id), 'the auth worker');
    await t.tracer.traceModule({ module: './test/fixtures/bank/payments.js', ...limits });
    await t.tracer.track('counter');

    app.send('login ada hunter2');
    await app.line(/^login ok/);
    app.send('checkout 50');
    await app.line(/^checkout ok tx1/);
    app.send('checkout 500');
    await app.line(/^checkout failed/);
    app.send('inc 2');
    await app.line(/^count 2/);
    await eventually(() => (t.tracer.ingest.flush(), events(t.store, "type = 'state'").length === 2), 'two snapshots of the counter');

    const messages = events(t.store, "type = 'message'").map((r) => [r.subtype, r.actor, r.from_actor, r.to_actor, r.payload.message]);
    expect(messages).toEqual([
      ['send', main, main, auth, { user: 'ada', password: '[redacted]' }],
      ['receive', auth, main, auth, { user: 'ada', password: '[redacted]' }],
      ['send', auth, auth, main, { user: 'ada', ok: true, token: '[redacted]' }],
      ['receive', main, auth, main, { user: 'ada', ok: true, token: '[redacted]' }],
    ]);
    const calls = events(t.store, "type = 'call' AND actor = ?", main).map((r) => [r.subtype, r.payload.fn, r.payload.args ?? r.payload.result ?? r.payload.error?.message]);
    expect(calls).toEqual([
      ['call', 'fee', [50]],
      ['return', 'fee', 1.5],
      ['call', 'charge', [{ owner: 'ada', limit: 100 }, 51.5]],
      ['return', 'charge', { id: 'tx1', amount: 51.5 }],
      ['call', 'Ledger#record', [{ id: 'tx1', amount: 51.5 }]],
      ['return', 'Ledger#record', 1],
      ['call', 'fee', [500]],
      ['return', 'fee', 15],
      ['call', 'charge', [{ owner: 'ada', limit: 100 }, 515]],
      ['throw', 'charge', 'card declined: 515 over limit 100'],
    ]);
    const states = events(t.store, "type = 'state'").map((r) => [r.actor, r.payload.trigger.method, r.payload.state]);
    expect(states).toEqual([
      [`${main}/o1`, '(tracked)', { $class: 'Counter', count: 0 }],
      [`${main}/o1`, 'increment', { $class: 'Counter', count: 2 }],
    ]);
  });

  it('IPC between a parent and its forked child, both sides', async () => {
    const { app, t, ready } = await attached('ipc.cjs', { node });
    const [p, c] = [String(app.pid), ready.split(' ')[1]!];
    await eventually(() => t.tracer.links.has(Number(c)), 'the child to be attached');
    app.send('ping 7');
    await app.line(/^pong 7/);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = events(t.store, "type = 'message'");
      return r.length === 4 && r;
    }, 'four IPC events');
    expect(rows.map((r) => [r.subtype, r.actor, r.from_actor, r.to_actor, r.payload.message])).toEqual([
      ['send', p, p, c, { ping: 7 }],
      ['receive', c, p, c, { ping: 7 }],
      ['send', c, c, p, { pong: 7 }],
      ['receive', p, c, p, { pong: 7 }],
    ]);
  });

  it('web capture: an Express request with its route and status, and the calls made for it', async () => {
    const { app, t, ready } = await attached('web/server.cjs', { node, web: true });
    const port = Number(ready.split(' ')[1]);
    await t.tracer.traceModule({ module: './test/fixtures/bank/payments.js', ...limits });
    expect((await fetch(`http://127.0.0.1:${port}/checkout/500`)).status).toBe(500);
    const response = await eventually(() => (t.tracer.ingest.flush(), events(t.store, "type = 'http' AND subtype = 'response'")[0]), 'the response');
    expect(response.payload).toMatchObject({ method: 'GET', url: '/checkout/500', route: '/checkout/:amount', status: 500 });
    const corr = `${app.pid}:r1`;
    const calls = events(t.store, "type = 'call' AND corr = ?", corr).map((r) => `${r.subtype} ${r.payload.fn}`);
    expect(calls).toEqual(['call fee', 'return fee', 'call charge', 'throw charge']);
  });

  it('launch: recorded from the first line, up to an uncaught crash with its stack', async () => {
    const t = newTracer();
    launched = t.tracer;
    const file = join(FIXTURES, 'crash.cjs');
    const link = await t.tracer.launch([node, file]);
    const pid = String(link.pid);
    const actor = await eventually(() => (t.tracer.ingest.flush(), t.store.actor(pid)?.ended_ms != null && t.store.actor(pid)), 'the crash');
    expect(actor).toMatchObject({ status: 'crashed', exit_code: 1 });
    const main = events(t.store, 'actor = ?', pid);
    expect(main.map((e) => `${e.type}/${e.subtype}`)).toEqual(['process/start', 'log/log', 'log/log', 'error/uncaught_exception', 'process/exit']);
    expect(main[0]!.payload).toMatchObject({ fromStart: true, argv: [realpathSync(node), file], node: expect.stringMatching(new RegExp(`^v${major}\\.`)) });
    expect(main.slice(1, 3).map((e) => e.payload.text)).toEqual(['starting', 'about to throw']);
    expect(main[3]!.payload.error.stack).toMatch(/^Error: boom at 50ms\n\s+at Timeout\._onTimeout \(.*crash\.cjs:\d+:\d+\)/);
  });

  it('launch: a worker started on the first line is followed from its own first line, its output its own', async () => {
    const t = newTracer();
    launched = t.tracer;
    const link = await t.tracer.launch([node, join(FIXTURES, 'worker_first_line.cjs')]);
    const pid = String(link.pid);
    await eventually(() => (t.tracer.ingest.flush(), t.store.actor(pid)?.ended_ms), 'the app to end');
    expect(t.store.actor(`${pid}/w1`)).toMatchObject({ kind: 'worker', name: 'early', parent: pid, status: 'exited', exit_code: 5 });
    const lines = events(t.store, "type = 'log'").map((e) => [e.actor, e.subtype, e.payload.text]);
    expect(lines).toEqual([
      [`${pid}/w1`, 'log', 'worker first line'],
      [pid, 'log', 'worker exited 5'],
    ]);
  });
});
