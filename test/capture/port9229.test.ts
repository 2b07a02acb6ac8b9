// Attach by pid when another process's inspector already holds 9229 (the port SIGUSR1 opens): the holder
// is moved aside for the moment and put back, and the target is attached all the same.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_INSPECTOR_PORT, inspectorUrl, listenerOf, listeningPorts, waitFor } from '../../src/trace/discovery.js';
import { withPortLock } from '../../src/trace/relocate.js';
import { eventually, newTracer, startFixture } from '../helpers.js';

let holder: ChildProcess | undefined;
afterAll(() => {
  holder?.kill('SIGKILL');
});

describe('port 9229 held by another inspector', () => {
  it('attaches anyway and gives the port back to its holder', async () => {
    // Started under the same lock nodescopes take before signalling, so no parallel attach holds 9229 now.
    await withPortLock(async () => {
      holder = spawn(process.execPath, [`--inspect=127.0.0.1:${DEFAULT_INSPECTOR_PORT}`, '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      const held = await waitFor(() => (listenerOf(DEFAULT_INSPECTOR_PORT) === holder!.pid ? true : undefined), 5_000);
      if (!held) throw new Error(`port ${DEFAULT_INSPECTOR_PORT} is held by something else on this machine; cannot run this test`);
    });
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
});
