// Workers running vm scripts stopped by their timeout (test/fixtures/terminations), traced as they start. The
// module trace reads the exports of what the worker requires while its first vm rounds run, and the inspector
// dispatches those reads inside the vm script, where its timeout's termination comes at any moment. Read by
// Runtime.getProperties, a termination landing inside one aborted the whole process (V8: `Check failed:
// tryCatch.HasCaught()` in ValueMirror::getProperties): the build before crashed at the first or second worker,
// 4 runs of 4 on Node 20. Each batch starts a new worker: five per run.
// (With the host syncing in a loop meanwhile, a timeout landing in a sync's call, handed on, left a worker's
// loop running for ever or lost a batch in 1-4 of 6 runs on Node 24; syncs now go on the control socket: 0 of
// 15 on Node 20/24/26 at low load, but a worker hung once in a CI run at high load, where a sync waits past
// 100 ms and is asked through the inspector after all, and the trace's own set-up calls are still inspector
// calls. An open finding, so not asserted here.)
import { describe, expect, it } from 'vitest';
import { attached, events } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

const WORKERS = 5;
const ROUNDS = 20;
const MS = 5;
const TIMED_OUT = `Script execution timed out after ${MS}ms`;
const limits = { maxCalls: 1e8, maxPerSecond: 1e8, durationMs: 600_000 };

describe.each(['20', '24', '26'])('vm timeouts in workers traced as they start, Node %s', (major) => {
  const node = major === process.versions.node.split('.')[0] ? process.execPath : nodeTarget(major).bin;

  it('the program runs as untraced, and every call in each worker is recorded', async () => {
    const { app, t } = await attached('terminations/app.cjs', { node });
    await t.tracer.traceModule({ module: 'lib.cjs', ...limits });
    const link = t.tracer.links.get(app.pid)!;
    for (let w = 0; w < WORKERS; w++) {
      const exited = app.nextLine(/^worker exited /, 20_000);
      app.send(`worker spin ${ROUNDS} ${MS}`);
      await exited;
    }
    const rounds = Array.from({ length: ROUNDS }, (_, i) => i);
    const batch = [...rounds.map((i) => `round ${i} ${TIMED_OUT}`), `spin done ${ROUNDS}`, 'worker exited 0'];
    expect(app.lines().slice(1)).toEqual(Array.from({ length: WORKERS }, () => batch).flat());
    await t.tracer.sync();
    expect(link.workers.size).toBe(WORKERS);
    for (const actor of link.workers.keys()) {
      const after = events(t.store, "type = 'call' AND subtype = 'call' AND actor = ? AND json_extract(payload, '$.fn') = 'after'", actor);
      expect(after.map((e) => e.payload.args)).toEqual(rounds.map((i) => [i, TIMED_OUT]));
    }
  });
});
