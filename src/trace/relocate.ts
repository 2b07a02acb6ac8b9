// Moves a process's inspector to another port. SIGUSR1 always opens the process's configured port (9229 by
// default), so a family attached by pid must free it after each attach. inspector.close() blocks until no
// session is connected, so the move is scheduled on a timer and runs once we have disconnected.
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketSession, type CdpSession } from './cdp.js';
import { inspectorUrl, listeningPorts, sleep, waitFor } from './discovery.js';

const LOCK = join(tmpdir(), 'nodescope-inspector-port.lock');
/** Set inside a job that holds the lock; unrelated attaches of this process still take turns. */
const lockHeld = new AsyncLocalStorage<boolean>();
/** A lock older than this was left by a nodescope that died while holding it. */
const STALE_LOCK_MS = 15_000;

/**
 * Runs `job` while holding a machine-wide lock (an exclusively created file), so that two nodescopes never
 * signal processes onto port 9229 at the same moment: the loser's target would fail to open its inspector
 * and print an error on its own stderr.
 */
export async function withPortLock<T>(job: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  // Taken again inside its own job (a caller that holds the lock and attaches): already ours.
  if (lockHeld.getStore()) return job();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      closeSync(openSync(LOCK, 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { force: true });
      } catch {
        // removed meanwhile
      }
      if (Date.now() > deadline) throw new Error(`another nodescope holds ${LOCK}; try again`);
      await sleep(20);
    }
  }
  try {
    return await lockHeld.run(true, job);
  } finally {
    // Only one job holds the lock: nothing left running from it may take it as held, and on Node 20 the
    // async hooks behind AsyncLocalStorage stay off while no job runs.
    lockHeld.disable();
    rmSync(LOCK, { force: true });
  }
}

const MOVE_KEY = `Symbol.for('nodescope.moveInspector')`;
// The move is called off by taking its mark away (the timer finds it gone), as the inspector's close is
// (process_link.ts, CANCEL_CLOSE). The timer is set at a microtask checkpoint: the evaluation is an
// interrupt, maybe inside Node's walk of its timers.
//
// An inspector that opens in a node:cluster primary makes Node signal each of its workers to open theirs (it
// emits 'internalMessage' {cmd: 'NODE_DEBUG_ENABLED'} on `process`, synchronously inside open(), and cluster
// sends every worker SIGUSR1): right after the close, the port was free, and a worker took 9229 on its own —
// under the lock of the attach that was to signal it, which moved it while its own session was being set up
// (attaching to a cluster primary lost a worker 1 time in 2). Nodescope follows the workers itself: the move
// keeps that message from cluster, for the open() only.
const SCHEDULE_MOVE = (port: number) =>
  `(m => { globalThis[${MOVE_KEY}] = m; (async () => { await undefined; setTimeout(() => { if (globalThis[${MOVE_KEY}] !== m) return; delete globalThis[${MOVE_KEY}]; try { const i = process.getBuiltinModule('inspector'); i.close(); const emit = process.emit; process.emit = function (name, message) { return name === 'internalMessage' && message?.cmd === 'NODE_DEBUG_ENABLED' ? false : emit.apply(this, arguments); }; try { i.open(${port}, '127.0.0.1', false); } finally { process.emit = emit; } } catch {} }, 50); })(); })({}), undefined`;
const CANCEL_MOVE = `(() => { if (!globalThis[${MOVE_KEY}]) return false; delete globalThis[${MOVE_KEY}]; return true; })()`;

/**
 * Returns the inspector's new ws URL. `port` 0 picks a random free port. The move runs when the target's event
 * loop comes round: one busy for seconds at a time is waited for (10 s; the attach holds the port lock
 * meanwhile, which other nodescopes wait 20 s for), and past that has its move called off and keeps its port
 * (an error says so). It used to be waited for 3 s and then taken as not moving: the caller went on with the
 * old address, closed under it a moment later (a capture test's attach refused on a loaded machine).
 */
export async function relocateInspector(url: string, pid: number, port: number): Promise<string> {
  const before = listeningPorts(pid);
  await evaluateOnce(url, `relocate ${pid}`, SCHEDULE_MOVE(port));
  const movedPort = () => listeningPorts(pid).filter((p) => (port === 0 ? !before.includes(p) : p === port))[0];
  let moved = await waitFor(movedPort, 10_000);
  if (moved === undefined) {
    const calledOff = await evaluateOnce(url, `relocate ${pid}`, CANCEL_MOVE).catch(() => false);
    if (calledOff === true) throw new Error(`the inspector of pid ${pid} did not move (its event loop did not come round): left where it was`);
    // Under way as we asked: its new port appears in a moment.
    moved = await waitFor(movedPort, 5_000);
  }
  if (moved === undefined) throw new Error(`the inspector of pid ${pid} did not move`);
  return inspectorUrl('127.0.0.1', moved);
}

/** One evaluation in a session of its own, gone right after: the move waits for every session to go. */
async function evaluateOnce(url: string, label: string, expression: string): Promise<unknown> {
  const session = await WebSocketSession.connect(url, label);
  try {
    const { result } = await session.send('Runtime.evaluate', { expression, returnByValue: true, silent: true });
    return result.value;
  } finally {
    session.disconnect();
  }
}

/** Lets a process waiting in the launch preload run on untraced, and closes the inspector if the preload opened it. */
export async function releaseProcess(url: string, opened = true): Promise<void> {
  const session = await WebSocketSession.connect(url, 'release');
  try {
    await letRun(session);
    // The port closes a moment after this session is gone, the last thing sent before it goes: closing it
    // while the session was still connected (the go-ahead's checks outlasted a shorter timer on a loaded
    // machine) crashed a Node 20 target with SIGSEGV once in a CI run.
    if (opened) {
      await session
        .send('Runtime.evaluate', { expression: `setTimeout(() => { try { process.getBuiltinModule('inspector').close(); } catch {} }, 500).unref(), undefined`, silent: true })
        .catch(() => undefined);
    }
  } finally {
    session.disconnect();
  }
}

/** Set by the launch preload (src/preload/announce.cjs) from before it announces its process until it goes on. */
const WAITING = `globalThis[Symbol.for('nodescope.waiting')] === true`;

/**
 * Lets a process that the launch preload holds run. Runtime.runIfWaitingForDebugger is lost when it comes
 * before the preload's inspector.waitForDebugger() has begun (the preload announces itself just before it,
 * and a loaded machine may stop it in between): such a process waited for ever — a forked child of a test's
 * program, and the program waiting for it. So it is sent again while the preload's mark says it still waits.
 */
export async function letRun(session: CdpSession): Promise<void> {
  await session.send('Runtime.runIfWaitingForDebugger');
  await stillWaiting(session);
}

/**
 * The go-ahead again while the preload's mark says the process still waits (see letRun). Never fails: a
 * process that ends once let go (a missing main module) answers no more, and nothing waits for it then.
 */
export async function stillWaiting(session: CdpSession): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    const waits = await session.send('Runtime.evaluate', { expression: WAITING, returnByValue: true, silent: true }).then(({ result }) => result.value === true, () => false);
    if (!waits) return;
    await sleep(10);
    await session.send('Runtime.runIfWaitingForDebugger').catch(() => undefined);
  }
}
