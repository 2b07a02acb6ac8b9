// Attach by pid when another process's inspector already holds 9229 (the port SIGUSR1 opens): the holder
// is moved aside for the moment and put back, and the target is attached all the same.
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_INSPECTOR_PORT, inspectorUrl, listenerOf, listeningPorts, waitFor } from '../../src/trace/discovery.js';
import { eventually, newTracer, startFixture } from '../helpers.js';

const holder = spawn(process.execPath, [`--inspect=127.0.0.1:${DEFAULT_INSPECTOR_PORT}`, '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
afterAll(() => {
  holder.kill('SIGKILL');
});

describe('port 9229 held by another inspector', () => {
  it('attaches anyway and gives the port back to its holder', async () => {
    // Another test file may be moving the holder at this moment: wait until it sits on 9229.
    const held = await waitFor(() => (listenerOf(DEFAULT_INSPECTOR_PORT) === holder.pid ? true : undefined), 10_000);
    if (!held) throw new Error(`port ${DEFAULT_INSPECTOR_PORT} is in use by something else on this machine; cannot run this test`);
    const app = startFixture('family.cjs');
    await app.line(/^ready/);
    const t = newTracer();
    try {
      const link = await t.tracer.attach(app.pid);
      expect(link.pid).toBe(app.pid);
      expect(listeningPorts(app.pid)).not.toContain(DEFAULT_INSPECTOR_PORT);
      await eventually(() => listenerOf(DEFAULT_INSPECTOR_PORT) === holder.pid, 'the holder back on 9229');
      expect(await inspectorUrl('127.0.0.1', DEFAULT_INSPECTOR_PORT)).toMatch(/^ws:\/\/127\.0\.0\.1:9229\//);
      await eventually(() => (t.tracer.ingest.flush(), t.store.actors().length >= 3), 'the family');
    } finally {
      await t.tracer.close();
    }
  });
});
