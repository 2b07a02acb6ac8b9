// Attach by pid when another process's inspector already holds 9229 (the port SIGUSR1 opens): the holder
// is moved aside for the moment and put back, and the target is attached all the same — unless a debugger
// is connected to the holder, which the move would disconnect: then the attach is refused and says why.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_INSPECTOR_PORT, inspectorUrl, listenerOf, listeningPorts, waitFor } from '../../src/trace/discovery.js';
import { withPortLock } from '../../src/trace/relocate.js';
import { events, eventually, newTracer, startFixture } from '../helpers.js';

let holder: ChildProcess | undefined;
afterAll(() => {
  holder?.kill('SIGKILL');
});

/** A process holding 9229 with its inspector, started under the lock nodescopes take before signalling. */
async function holdPort(): Promise<ChildProcess> {
  holder?.kill('SIGKILL');
  const p = spawn(process.execPath, [`--inspect=127.0.0.1:${DEFAULT_INSPECTOR_PORT}`, '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  holder = p;
  const held = await waitFor(() => (listenerOf(DEFAULT_INSPECTOR_PORT) === p.pid ? true : undefined), 5_000);
  if (!held) throw new Error(`port ${DEFAULT_INSPECTOR_PORT} is held by something else on this machine; cannot run this test`);
  return p;
}

describe('port 9229 held by another inspector', () => {
  it('attaches anyway and gives the port back to its holder', async () => {
    // Under the lock, so no parallel attach holds 9229 now.
    await withPortLock(holdPort);
    const app = startFixture('family.cjs');
    await app.line(/^ready/);
    const t = newTracer();
    try {
      const link = await t.tracer.attach(app.pid);
      expect(link.pid).toBe(app.pid);
      expect(listeningPorts(app.pid)).not.toContain(DEFAULT_INSPECTOR_PORT);
      await eventually(() => listenerOf(DEFAULT_INSPECTOR_PORT) === holder!.pid, 'the holder back on 9229');
      expect(await inspectorUrl('127.0.0.1', DEFAULT_INSPECTOR_PORT)).toMatch(/^ws:\/\/127\.0\.0\.1:9229\//);
      await eventually(() => (t.tracer.ingest.flush(), t.store.actors().length >= 3), 'the family');
    } finally {
      await t.tracer.close();
    }
  });

  it('refuses to move a holder a debugger is connected to, and leaves that debugger connected', async () => {
    // All of it under the lock nodescopes take before signalling (the attach inside takes it again): an
    // attach elsewhere would otherwise be refused, or move the holder, while the debugger is connected.
    await withPortLock(async () => {
      const held = await holdPort();
      const debuggerUrl = await inspectorUrl('127.0.0.1', DEFAULT_INSPECTOR_PORT);
      const client = new WebSocket(debuggerUrl);
      await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
      const app = startFixture('family.cjs');
      await app.line(/^ready/);
      const t = newTracer();
      try {
        await expect(t.tracer.attach(app.pid)).rejects.toThrow(`port 9229 is held by the inspector of pid ${held.pid}, which a debugger is connected to: nodescope does not disconnect it, so SIGUSR1 cannot open one for pid ${app.pid}`);
        expect(client.readyState).toBe(WebSocket.OPEN);
        const answer = new Promise((resolve) => client.once('message', (m) => resolve(JSON.parse(String(m)))));
        client.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: 'process.pid', returnByValue: true } }));
        expect(await answer).toEqual({ id: 1, result: { result: { type: 'number', value: held.pid, description: String(held.pid) } } });
        expect(await inspectorUrl('127.0.0.1', DEFAULT_INSPECTOR_PORT)).toBe(debuggerUrl);
        expect(listeningPorts(app.pid)).toEqual([]);
      } finally {
        client.close();
        await t.tracer.close();
      }
    });
  });
});

describe('a target whose event loop comes round every few seconds', () => {
  it('is attached on a port of its own once its loop came round, its session never cut, and its port closed at detach', async () => {
    const app = startFixture('busy_loop.cjs');
    await app.line(/^ready/);
    const t = newTracer();
    try {
      // SIGUSR1's port opens when the loop comes round; the move off 9229 runs at its next turn, 4.5 s later.
      const link = await t.tracer.attach(app.pid);
      const port = Number(new URL(link.url).port);
      expect(port).not.toBe(DEFAULT_INSPECTOR_PORT);
      expect(listeningPorts(app.pid)).toEqual([port]);
      const next = await app.nextLine(/^turn \d+$/, 15_000);
      await eventually(() => (t.tracer.ingest.flush(), events(t.store, "type = 'log'").some((e) => e.payload.text === next)), `"${next}" recorded`);
      expect(link.reconnects).toBe(0);
      expect(link.state).toBe('attached');
    } finally {
      await t.tracer.close();
    }
    await eventually(() => listeningPorts(app.pid).length === 0, 'the port nodescope opened closed', 15_000);
  }, 40_000);
});

