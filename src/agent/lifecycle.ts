// Critical events: process and thread lifecycle, crashes, child processes. Recorded at every level but `off`.
import type { AgentCore, Source } from './index.js';
import { recordMessage } from './messages.js';
import type { PatchTable } from './patches.js';

type Emitter = { emit(name: string, ...args: unknown[]): boolean };
type ChildLike = Emitter & { pid?: number; spawnfile?: string; spawnargs?: string[]; send?: (...args: unknown[]) => unknown };
type WorkerLike = Emitter & { threadId: number };

export const lifecycleSource: Source = {
  category: 'lifecycle',
  enable(core, patches) {
    const proc = core.builtin('process');
    const self = core.config.actor;
    announceStart(core);

    // A worker that existed before attach is unknown to its parent's agent (whose Worker object reports
    // threadId -1 by the time it exits), so such a worker reports its own exit code.
    // The code is read after every 'exit' listener ran: jest sets process.exitCode from an 'exit' listener
    // of its own, and Node exits with whatever exitCode holds once they are done (recorded 0, exited 1).
    const onExit = (code: unknown) =>
      core.guard(() => {
        code = Number(proc.exitCode ?? code) || 0;
        if (core.isMainThread) core.emit('process', 'exit', self, { code });
        else if (!core.config.fromStart) core.emit('worker', 'exiting', self, { code });
        core.markExiting();
      });

    // process.abort() runs no 'exit' listener: what is queued is sent on the way, then the inspector's I/O
    // thread gets 100 ms to write it out (measured: 62% of a 5,000-event burst stored without the pause on a
    // busy machine, all of it with).
    patches.patch(proc as { abort(): never }, 'abort', (original) =>
      function (this: unknown) {
        if (patches.active) core.guard(() => (core.emit('process', 'abort', self, null), core.markExiting(), Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)));
        return original.apply(this);
      },
    );

    // The monitor event observes a crash without handling it, so the target still dies as it would have.
    const onUncaught = (error: unknown, origin: string) =>
      core.guard(() => {
        const fatal = proc.listenerCount('uncaughtException') === 0;
        if (origin === 'uncaughtException') core.emit('error', 'uncaught_exception', self, { error: core.capture(error), fatal });
        if (fatal) core.markExiting();
      });
    proc.on('uncaughtExceptionMonitor', onUncaught);
    patches.add(() => proc.removeListener('uncaughtExceptionMonitor', onUncaught));

    // A listener for 'unhandledRejection' would change what the target does (it stops the crash), so the
    // rejection is observed where Node announces it instead.
    patches.patch(proc as Emitter, 'emit', (original) =>
      function (this: unknown, name: string, ...args: unknown[]) {
        if (name === 'unhandledRejection' && patches.active) {
          core.guard(() =>
            core.emit('error', 'unhandled_rejection', self, { reason: core.capture(args[0]), handled: proc.listenerCount('unhandledRejection') > 0 }),
          );
        }
        // An 'exit' listener that calls process.exit() again (pino's transport worker does) ends the thread
        // at once, running no `finally`: from here on each event is sent as it is recorded.
        if (name === 'exit' && patches.active) core.markExiting();
        try {
          return original.apply(this, [name, ...args]);
        } finally {
          if (name === 'exit' && patches.active) onExit(args[0]);
        }
      },
    );

    watchWorkers(core, patches);
    watchChildren(core, patches);
  },
};

function announceStart(core: AgentCore): void {
  const proc = core.builtin('process');
  const { performance } = core.builtin('perf_hooks');
  const common = { fromStart: core.config.fromStart };
  if (core.isMainThread) {
    core.emit('process', 'start', core.config.actor, {
      pid: proc.pid,
      ppid: proc.ppid,
      title: proc.title,
      argv: proc.argv,
      execArgv: proc.execArgv,
      cwd: proc.cwd(),
      node: proc.version,
      // A worker inherits the process's timeOrigin in Node 20, so only the main thread reports it.
      startedWallMs: performance.timeOrigin,
      ...clusterWorker(proc, core.builtin),
      ...common,
    });
  } else {
    const { threadId } = core.builtin('worker_threads');
    core.emit('worker', 'start', core.config.actor, { pid: core.pid, threadId, name: core.config.name ?? null, parent: core.config.parent ?? null, url: core.config.url ?? null, ...common });
  }
}

/**
 * A node:cluster worker's id (1, 2, … in fork order, as cluster.worker.id), which is what pm2 and throng users
 * know their workers by: its script and arguments are the primary's. Node loads node:cluster in a worker
 * before any preload (and deletes NODE_UNIQUE_ID from its environment), so a loaded module says whether it is
 * one; the module is never loaded here otherwise.
 */
function clusterWorker(proc: { moduleLoadList?: unknown }, builtin: (name: string) => any): { clusterWorker?: number } {
  if (!Array.isArray(proc.moduleLoadList) || !proc.moduleLoadList.includes('NativeModule cluster')) return {};
  const worker = Object.getOwnPropertyDescriptor(builtin('cluster'), 'worker')?.value;
  const id = worker ? Object.getOwnPropertyDescriptor(worker, 'id')?.value : undefined;
  return typeof id === 'number' ? { clusterWorker: id } : {};
}

/** The actor ids of Worker objects in this thread, learnt while their threadId is valid (it is -1 at exit). */
const workerActors = new WeakMap<object, string>();

export function adoptWorker(core: AgentCore, worker: WorkerLike): string | undefined {
  let actor = workerActors.get(worker);
  if (actor === undefined && worker.threadId >= 0) {
    actor = core.threadActor(worker.threadId);
    workerActors.set(worker, actor);
  }
  return actor;
}

function watchWorkers(core: AgentCore, patches: PatchTable): void {
  const { Worker } = core.builtin('worker_threads');
  const dc = core.builtin('diagnostics_channel');
  const self = core.config.actor;
  const onWorker = ({ worker }: { worker: WorkerLike }) => core.guard(() => void adoptWorker(core, worker));
  dc.subscribe('worker_threads', onWorker);
  patches.add(() => dc.unsubscribe('worker_threads', onWorker));

  // Worker.prototype has no own `emit`: defining one sees every Worker, including those created before attach.
  patches.patch(Worker.prototype as Emitter, 'emit', (original) =>
    function (this: WorkerLike, name: string, ...args: unknown[]) {
      if (patches.active && (name === 'online' || name === 'exit' || name === 'error')) {
        core.guard(() => {
          const actor = adoptWorker(core, this);
          if (actor === undefined) return;
          if (name === 'online') core.emit('worker', 'online', actor, null, { from: self });
          else if (name === 'exit') core.emit('worker', 'exit', actor, { code: args[0] }, { from: self });
          else core.emit('worker', 'error', actor, { error: core.capture(args[0]) }, { from: self });
        });
      }
      return original.apply(this, [name, ...args]);
    },
  );
}

/** ChildProcess instances whose `emit` we wrapped, with their unwrap, so that detach can undo the live ones. */
const watchedChildren = new Map<ChildLike, () => void>();

export function watchChild(core: AgentCore, patches: PatchTable, child: ChildLike, existing: boolean): void {
  if (watchedChildren.has(child)) return;
  const self = core.config.actor;
  const own = Object.getOwnPropertyDescriptor(child, 'emit');
  const original = child.emit;
  // ChildProcess#send is an own property of each instance (set up when the IPC channel opens).
  // It is set up during spawn, after the constructor announced the child: wrapped now or on 'spawn'.
  let ownSend: PropertyDescriptor | undefined;
  let originalSend: ChildLike['send'];
  const wrapSend = () => {
    ownSend = Object.getOwnPropertyDescriptor(child, 'send');
    originalSend = child.send;
    if (ownSend && typeof originalSend === 'function') Object.defineProperty(child, 'send', { ...ownSend, value: sendWrapper });
  };
  const sendWrapper = function (this: ChildLike, message: unknown, ...rest: unknown[]) {
    if (patches.active) core.guard(() => recordMessage(core, 'send', self, String(child.pid), 'ipc', message));
    return originalSend!.apply(this, [message, ...rest]);
  };
  // Node assigns `send` while spawning, inside fork() itself, and programs send at once (jest's workers do):
  // waiting for 'spawn' would miss those messages. An accessor catches the assignment instead.
  let catcher: PropertyDescriptor | undefined;
  // (A child adopted after its spawn that has no `send` has no IPC channel: nothing to catch.)
  if (!existing && Object.getOwnPropertyDescriptor(child, 'send') === undefined) {
    catcher = {
      configurable: true,
      enumerable: false,
      get: () => undefined,
      set: (value: unknown) => {
        catcher = undefined;
        Object.defineProperty(child, 'send', { value, writable: true, enumerable: true, configurable: true });
        core.guard(wrapSend);
      },
    };
    Object.defineProperty(child, 'send', catcher);
  }
  const unwrap = () => {
    watchedChildren.delete(child);
    if (catcher && Object.getOwnPropertyDescriptor(child, 'send')?.set === catcher.set) delete (child as Partial<ChildLike>).send;
    if (ownSend && child.send === sendWrapper) Object.defineProperty(child, 'send', ownSend);
    if (child.emit !== wrapper) return;
    if (own) Object.defineProperty(child, 'emit', own);
    else delete (child as Partial<ChildLike>).emit;
  };
  const wrapper = function (this: ChildLike, name: string, ...args: unknown[]) {
    if (patches.active) {
      core.guard(() => {
        const actor = String(this.pid);
        const info = { pid: this.pid ?? null, file: this.spawnfile ?? null, args: this.spawnargs ?? [] };
        if (name === 'spawn') {
          // No IPC channel: nothing was assigned, and the catcher goes.
          if (catcher && Object.getOwnPropertyDescriptor(child, 'send')?.set === catcher.set) delete (child as Partial<ChildLike>).send;
          if (!ownSend) wrapSend();
          core.emit('child', 'spawn', actor, info, { from: self });
        }
        else if (name === 'exit') core.emit('child', 'exit', actor, { code: args[0], signal: args[1] }, { from: self });
        else if (name === 'error') core.emit('child', 'error', this.pid ? actor : self, { ...info, error: core.capture(args[0]) }, { from: self });
        else if (name === 'message') recordMessage(core, 'receive', actor, self, 'ipc', args[0]);
      });
    }
    const result = original.apply(this, [name, ...args]);
    if (name === 'exit') unwrap();
    return result;
  };
  Object.defineProperty(child, 'emit', { value: wrapper, writable: true, configurable: true, enumerable: false });
  if (!catcher) wrapSend();
  watchedChildren.set(child, unwrap);
  if (existing && child.pid !== undefined) {
    core.emit('child', 'spawn', String(child.pid), { pid: child.pid, file: child.spawnfile ?? null, args: child.spawnargs ?? [], existing: true }, { from: self });
  }
}

function watchChildren(core: AgentCore, patches: PatchTable): void {
  const dc = core.builtin('diagnostics_channel');
  // Published in the ChildProcess constructor, before the pid exists: the wrapper reports on 'spawn'.
  const onChild = ({ process: child }: { process: ChildLike }) => core.guard(() => watchChild(core, patches, child, false));
  dc.subscribe('child_process', onChild);
  patches.add(() => {
    dc.unsubscribe('child_process', onChild);
    for (const unwrap of [...watchedChildren.values()]) unwrap();
  });
}
