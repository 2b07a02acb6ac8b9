// Terminations of a thread's JavaScript while nodescope calls into it through the inspector
// (test/fixtures/terminations): vm scripts stopped by their timeout, round after round, while the host calls the
// agent in a loop (run by the inspector as an interrupt of whatever JavaScript runs there; syncs went so until
// they moved to the control socket, other calls still do). A timeout that lands in one of our calls ended that
// call and not the script, which then ran on for ever (the program hung: 5 of 10 runs on Node 20, 8 of 10 on
// Node 24, 9 of 10 on Node 26, test/fixtures/terminations/hangs.mjs). Rounds run until one has landed in our
// call (the session counts those it handed on); then the program's output is what it prints untraced. Workers:
// test/capture/terminations_worker.test.ts.
import { describe, expect, it } from 'vitest';
import { attached, events, type Fixture } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';
import { AGENT_REF } from '../../src/shared/protocol.js';
import type { ThreadLink } from '../../src/trace/thread.js';

const ROUNDS = 20;
const MS = 5;
/** Batches of rounds at most before one timeout lands in a call of ours (it took 1–30 in trials). */
const MAX_BATCHES = 40;
const TIMED_OUT = `Script execution timed out after ${MS}ms`;
const limits = { maxCalls: 1e8, maxPerSecond: 1e8, durationMs: 600_000 };

/**
 * Calls into the thread through the inspector (flushNow, as a sync asked it before syncs went on the control
 * socket) in three loops until `done` settles (a line the program prints; it rejects if the program hangs).
 * The inspector runs each as an interrupt, so vm timeouts land in them; syncs themselves no longer do.
 */
async function callingUntil(thread: ThreadLink, done: Promise<unknown>): Promise<void> {
  let settled = false;
  const over = done.finally(() => (settled = true));
  const loop = async () => {
    while (!settled) {
      await Promise.race([thread.call('flushNow()').catch(() => undefined), over.catch(() => undefined)]);
      // A sync that fails at once must not spin on microtasks: the event loop (the program's output, this
      // process's own timers) would never run, and a suite run's test process died (out of memory, likely).
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all([loop(), loop(), loop(), over]);
}

/**
 * Runs batches of vm rounds (`command` on stdin, each over once `last` is printed) until a timeout landed in one
 * of our calls; answers how many.
 */
async function untilOneLands(app: Fixture, thread: ThreadLink, command: string, last: RegExp): Promise<number> {
  const handedOn = () => thread.session.handedOn;
  let batches = 0;
  while (handedOn() === 0 && batches < MAX_BATCHES) {
    const done = app.nextLine(last, 5_000);
    app.send(`${command} ${ROUNDS} ${MS}`);
    await callingUntil(thread, done);
    batches++;
  }
  expect(handedOn()).toBeGreaterThan(0);
  return batches;
}

const rounds = (batches: number) => Array.from({ length: batches * ROUNDS }, (_, i) => i % ROUNDS);

describe.each(['20', '24', '26'])('vm timeouts on Node %s while nodescope calls into the thread', (major) => {
  const node = major === process.versions.node.split('.')[0] ? process.execPath : nodeTarget(major).bin;

  it('in the main thread: each vm call throws its timeout as untraced, and every call made is recorded once (but one a hand-on cut)', async () => {
    const { app, t } = await attached('terminations/app.cjs', { node });
    await t.tracer.traceModule({ module: 'lib.cjs', ...limits });
    const main = t.tracer.links.get(app.pid)!.main;
    const batches = await untilOneLands(app, main, 'spin', /^spin done /);
    expect(app.lines().slice(1)).toEqual(rounds(batches).flatMap((i) => [`round ${i} ${TIMED_OUT}`, ...(i === ROUNDS - 1 ? [`spin done ${ROUNDS}`] : [])]));
    await t.tracer.sync();
    const after = events(t.store, "type = 'call' AND subtype = 'call' AND actor = ? AND json_extract(payload, '$.fn') = 'after'", String(app.pid));
    // Every call made, once each, in order, but for the one being recorded where a handed-on termination
    // landed, which is lost by design (at most one per hand-on; seen once in ~6,000 calls on Node 24). A timeout
    // that cut a flush of ours lost the batch it was taking into flight, or left the data socket stuck
    // mid-write, and the calls of the rest of the run with it (up to 16 in a run; 5 and 7 runs of 40 on Node 20,
    // 4 of 30 on 24, 2 of 30 on 26: fixtures/terminations/losses.mjs).
    const made = rounds(batches).map((i) => [i, TIMED_OUT]);
    const recorded = after.map((e) => e.payload.args as unknown[]);
    let at = 0;
    for (const call of recorded) {
      while (at < made.length && JSON.stringify(made[at]) !== JSON.stringify(call)) at++;
      expect(at, `${JSON.stringify(call)} recorded out of order, twice or never made`).toBeLessThan(made.length);
      at++;
    }
    expect(made.length - recorded.length).toBeLessThanOrEqual(main.session.handedOn);
  });
});

// A termination that cuts agent code runs none of its `finally`: the agent's depth stays raised (host calls then
// wait for a microtask checkpoint each) and an event stays half-written, after which every event waited behind
// it or was written onto it (the host failed to decode the batch). Left so by vm timeouts landing in traced
// calls (depth 1 to 7 after 30 rounds, 4 of 6 runs on Node 24 before the fix), but where a timeout lands is
// chance: here the agent's own entry points leave them as such a cut does, in a real traced process.
describe.each(['20', '24'])('Agent code cut by a termination on Node %s', (major) => {
  const node = major === process.versions.node.split('.')[0] ? process.execPath : nodeTarget(major).bin;

  it('host calls answer, the half-written event is dropped, and every later call is recorded', async () => {
    const { app, t } = await attached('terminations/app.cjs', { node });
    await t.tracer.traceModule({ module: 'lib.cjs', ...limits });
    const actor = String(app.pid);
    await t.tracer.evaluate(actor, `(a => { a.enter(); a.enter(); a.beginEvent().text('[1,"cut'); })(${AGENT_REF})`);
    const done = app.nextLine(/^after done 5$/);
    app.send('after 5');
    await done;
    await t.tracer.sync();
    const after = events(t.store, "type = 'call' AND subtype = 'call' AND actor = ? AND json_extract(payload, '$.fn') = 'after'", actor);
    expect(after.map((e) => e.payload.args)).toEqual([0, 1, 2, 3, 4].map((i) => [i, 'ok']));
    // Read from a callback of the thread's own event loop, where no agent code is on the stack (the evaluation
    // itself could land inside some, the socket's callback that answered the sync included).
    expect((await t.tracer.evaluate(actor, `new Promise((answer) => setImmediate(() => answer(${AGENT_REF}.depth)))`)).value).toBe(0);
    expect(t.tracer.warnings()).toEqual([]);
  });
});
