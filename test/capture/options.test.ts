// Configuration options that change what capture records, on real targets: trace_all and redact (level,
// sample_rate: levels.test.ts; web: web.test.ts; retention and max_events: configure.test.ts, store.test.ts).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attached, eventually, events, newTracer } from '../helpers.js';

describe('trace_all', () => {
  it('false traces the attached process only: no agent in its workers or children', async () => {
    const { app, t } = await attached('family.cjs', { traceAll: false });
    app.send('stop-pricing');
    await eventually(() => (t.tracer.ingest.flush(), events(t.store, "type = 'worker' AND subtype = 'exit'").length === 1), 'the worker exit, seen by the parent');
    await new Promise((r) => setTimeout(r, 300));
    expect([...t.tracer.links.keys()]).toEqual([app.pid]);
    expect(events(t.store, "subtype = 'start'").map((e) => `${e.type}/${e.subtype} ${e.actor}`)).toEqual([`process/start ${app.pid}`]);
  });

  it('false in launch mode lets descendants run untraced', async () => {
    const t = newTracer({ traceAll: false });
    try {
      const link = await t.tracer.launch([process.execPath, 'shop.cjs'], { cwd: join(import.meta.dirname, '..', '..', 'demo') });
      const main = await eventually(() => (t.tracer.ingest.flush(), t.store.actor(String(link.pid))?.ended_ms !== null && t.store.actor(String(link.pid))), 'the shop to finish', 15_000);
      expect(main).toMatchObject({ status: 'exited', exit_code: 0 });
      expect(events(t.store, "type = 'process' AND subtype = 'start'").map((e) => e.actor)).toEqual([String(link.pid)]);
      expect(events(t.store, "type = 'child' AND subtype = 'exit'").map((e) => e.payload)).toEqual([{ code: 0, signal: null }]);
    } finally {
      await t.tracer.close();
    }
  });

  it('lets a descendant go even when the go-ahead comes before it waits for it', async () => {
    // The preload announces a process, then waits for nodescope; the go-ahead sent in between was lost, and the
    // forked mailer (and the shop waiting for it) ran for ever on a loaded machine. Here every process pauses
    // 300 ms in between, longer than nodescope takes to answer.
    const t = newTracer({ traceAll: false });
    try {
      const link = await t.tracer.launch([process.execPath, 'shop.cjs'], { cwd: join(import.meta.dirname, '..', '..', 'demo'), env: { NODESCOPE_TEST_ANNOUNCE_PAUSE_MS: '300' } });
      const main = await eventually(() => (t.tracer.ingest.flush(), t.store.actor(String(link.pid))?.ended_ms !== null && t.store.actor(String(link.pid))), 'the shop to finish', 15_000);
      expect(main).toMatchObject({ status: 'exited', exit_code: 0 });
      expect(events(t.store, "type = 'child' AND subtype = 'exit'").map((e) => e.payload)).toEqual([{ code: 0, signal: null }]);
    } finally {
      await t.tracer.close();
    }
  });
});

describe('redact', () => {
  it('a custom list replaces the default: what it names is redacted, the rest kept', async () => {
    const { app, t } = await attached('bank/app.cjs', { redact: '^user$' });
    app.send('login ada hunter2');
    await app.line(/^login ok/);
    await t.tracer.sync();
    expect(events(t.store, "type = 'message' AND subtype = 'send'").map((e) => e.payload.message)).toEqual([
      { user: '[redacted]', password: 'hunter2' },
      { user: '[redacted]', ok: true, token: 'tok-123' },
    ]);
  });
});
