// Attach by OS pid to a process started with no flags: the family is found, followed, and left as it was.
import { afterEach, describe, expect, it } from 'vitest';
import { renderTree, supervisionTree } from '../../src/query/tree.js';
import { listeningPorts } from '../../src/trace/discovery.js';
import { attached, eventually, events, newTracer } from '../helpers.js';
import type { Tracer } from '../../src/trace/tracer.js';

let tracer: Tracer | undefined;
afterEach(async () => {
  await tracer?.close();
  tracer = undefined;
});

describe('attach by pid', () => {
  it('finds both named workers and the forked child, and sees a worker exit with code 3', async () => {
    const { app, t, ready } = await attached('family.cjs');
    const childPid = Number(ready.split(' ')[1]);
    const link = t.tracer.links.get(app.pid)!;
    expect(link.pid).toBe(app.pid);

    const tree = await eventually(() => {
      t.tracer.ingest.flush();
      const actors = t.store.actors();
      return actors.length === 4 && actors.every((a) => a.name !== null) && actors;
    }, 'four named actors');
    const shape = tree.map((a) => ({ id: a.id, kind: a.kind, parent: a.parent, name: a.name, status: a.status }));
    expect(shape).toEqual(
      expect.arrayContaining([
        { id: String(app.pid), kind: 'process', parent: null, name: 'family.cjs', status: 'running' },
        { id: `${app.pid}/w1`, kind: 'worker', parent: String(app.pid), name: 'pricing', status: 'running' },
        { id: `${app.pid}/w2`, kind: 'worker', parent: String(app.pid), name: 'inventory', status: 'running' },
        { id: String(childPid), kind: 'process', parent: String(app.pid), name: 'family.cjs child', status: 'running' },
      ]),
    );
    expect(shape).toHaveLength(4);

    app.send('stop-pricing');
    // The worker's own 'exiting' word and its parent's 'exit' report travel separately: wait for both.
    const pricing = await eventually(() => {
      t.tracer.ingest.flush();
      const a = t.store.actor(`${app.pid}/w1`);
      return a?.status === 'exited' && events(t.store, "type = 'worker' AND subtype = 'exit'").length > 0 && a;
    }, 'the pricing worker to exit');
    expect(pricing.exit_code).toBe(3);
    expect(t.store.actor(`${app.pid}/w2`)!.status).toBe('running');
    const exits = events(t.store, "type = 'worker' AND subtype = 'exit'");
    expect(exits).toEqual([{ type: 'worker', subtype: 'exit', actor: `${app.pid}/w1`, from_actor: String(app.pid), to_actor: null, payload: { code: 3 } }]);
  });

  it('detach restores every patch and closes the inspector ports it opened', async () => {
    const { app, t, ready } = await attached('family.cjs');
    const childPid = Number(ready.split(' ')[1]);
    await eventually(() => t.tracer.links.has(childPid), 'the child to be attached');
    expect(listeningPorts(app.pid)).toHaveLength(1);
    expect(listeningPorts(childPid)).toHaveLength(1);

    await t.tracer.detach();
    await eventually(() => listeningPorts(app.pid).length === 0 && listeningPorts(childPid).length === 0, 'inspector ports to close');
    app.send('check');
    const report = JSON.parse((await app.line(/^check /)).slice(6));
    expect(report).toEqual({
      workerEmitRestored: true,
      processEmitRestored: true,
      childEmitRestored: true,
      exitListeners: 0,
      monitorListeners: 0,
      channelSubscribers: false,
      agent: false,
      extraGlobals: [],
    });
    // Still running, unchanged: it obeys commands as before.
    app.send('stop-pricing');
    app.send('quit');
    expect(await app.exited).toEqual({ code: 0, signal: null });
  });

  it('after detach the supervision tree says each process and thread is detached, and since when; attached again, running', async () => {
    const { app, t, ready } = await attached('family.cjs');
    const childPid = Number(ready.split(' ')[1]);
    await eventually(() => {
      t.tracer.ingest.flush();
      const actors = t.store.actors();
      return actors.length === 4 && actors.every((a) => a.name !== null);
    }, 'four named actors');
    await eventually(() => t.tracer.links.get(childPid)?.state === 'attached', 'the child to be attached');
    const from = Date.now();
    await t.tracer.detach();
    const to = Date.now();
    const roots = supervisionTree(t.store);
    const lines = renderTree(roots).split('\n');
    const since = / — detached since (\S+)$/.exec(lines[0]!)?.[1];
    expect(lines[0]).toBe(`${app.pid} process "family.cjs" — detached since ${since}`);
    expect(Date.parse(since!)).toBeGreaterThanOrEqual(from);
    expect(Date.parse(since!)).toBeLessThanOrEqual(to);
    expect(roots[0]).toMatchObject({ status: 'detached', detached: since });
    // The child is a process of its own, let go of on its own.
    const childLine = lines.find((l) => l.includes(`${childPid} process`))!;
    const childSince = / — detached since (\S+)$/.exec(childLine)?.[1];
    expect(Date.parse(childSince!)).toBeLessThanOrEqual(to);
    expect(lines.slice(1).map((l) => l.slice(3)).sort()).toEqual([
      `${app.pid}/w1 worker "pricing" — detached since ${since}`,
      `${app.pid}/w2 worker "inventory" — detached since ${since}`,
      `${childPid} process "family.cjs child" — detached since ${childSince}`,
    ]);

    await t.tracer.attach(app.pid);
    const again = await eventually(() => {
      t.tracer.ingest.flush();
      const text = renderTree(supervisionTree(t.store));
      return !text.includes('detached') && text;
    }, 'the tree running again');
    expect(again.split('\n')[0]).toMatch(new RegExp(`^${app.pid} process "family.cjs" — running since `));
    expect(again).toMatch(new RegExp(`${app.pid}/w2 worker "inventory" — running$`, 'm'));
  });

  it('re-establishes a dropped WebSocket without losing what the agent buffered', async () => {
    const { app, t } = await attached('family.cjs');
    const link = t.tracer.links.get(app.pid)!;
    link.dropSocket();
    app.send('burst 20');
    await app.line(/^burst done/);
    let seen = 0;
    const codes = await eventually(
      () => {
        t.tracer.ingest.flush();
        const exits = events(t.store, "type = 'worker' AND subtype = 'exit'");
        seen = exits.length;
        return exits.length === 20 && exits.map((e) => e.payload.code).sort((a, b) => a - b);
      },
      () => `20 worker exits after the reconnect (link ${link.state}, resends ${link.main.resends}, seen ${seen})`,
      20_000,
    );
    expect(codes).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(link.state).toBe('attached');
  });

  it('refuses what is not a Node process, with a message that says so', async () => {
    const t = newTracer();
    tracer = t.tracer;
    await expect(t.tracer.attach(1)).rejects.toThrow(/not a Node.js process|no process/);
    await expect(t.tracer.attach('not a target')).rejects.toThrow(/give an OS pid/);
  });
});
