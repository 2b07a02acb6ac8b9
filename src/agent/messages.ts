// Messages between threads and processes: Worker/parentPort postMessage and child-process IPC. A message
// carries no id we could add without changing it, so both sides derive the same link from what they see:
// `<from>><to>#<content hash>` (the hash added by the tracer). The query layer pairs the k-th send of a link
// with its k-th receipt.
import type { AgentCore, Source } from './index.js';
import type { PatchTable } from './patches.js';
import { adoptWorker } from './lifecycle.js';

type Emitter = { emit(name: string, ...args: unknown[]): boolean };
type Poster = { postMessage(value: unknown, ...rest: unknown[]): void };

export function recordMessage(core: AgentCore, subtype: 'send' | 'receive', from: string, to: string, channel: string, value: unknown): void {
  const message = core.capture(value);
  // The content hash that completes the link is added by the tracer (src/trace/ingest.ts), which
  // stringifies the payload anyway: hashing here would serialize every message twice inside the target.
  core.emit('message', subtype, subtype === 'send' ? from : to, { channel, message }, { from, to, ref: `${from}>${to}` });
}

const HYBRID_DISPATCH = Symbol.for('nodejs.internal.kHybridDispatch');

export const messageSource: Source = {
  category: 'message',
  enable(core, patches) {
    const wt = core.builtin('worker_threads');
    const self = core.config.actor;
    watchWorkerObjects(core, patches, wt.Worker);
    if (!wt.isMainThread) watchParentPort(core, patches, wt, core.config.parent ?? String(core.pid));
    const proc = core.builtin('process');
    if (core.isMainThread && typeof proc.send === 'function') {
      // Forked child: IPC with the parent process (its main thread, where ChildProcess objects live).
      const parent = String(proc.ppid);
      patches.patch(proc as { send: (...a: unknown[]) => unknown }, 'send', (original) =>
        function (this: unknown, message: unknown, ...rest: unknown[]) {
          if (patches.active) core.guard(() => recordMessage(core, 'send', self, parent, 'ipc', message));
          return original.apply(this, [message, ...rest]);
        },
      );
      patches.patch(proc as Emitter, 'emit', (original) =>
        function (this: unknown, name: string, ...args: unknown[]) {
          if (name === 'message' && patches.active) core.guard(() => recordMessage(core, 'receive', parent, self, 'ipc', args[0]));
          return original.apply(this, [name, ...args]);
        },
      );
    }
  },
};

/** The parent side of worker messages: sends through Worker#postMessage, receipts on Worker#emit. */
function watchWorkerObjects(core: AgentCore, patches: PatchTable, Worker: { prototype: Poster & Emitter }): void {
  const self = core.config.actor;
  patches.patch(Worker.prototype, 'postMessage', (original) =>
    function (this: Poster, value: unknown, ...rest: unknown[]) {
      if (patches.active) {
        core.guard(() => {
          const to = adoptWorker(core, this as never);
          if (to) recordMessage(core, 'send', self, to, 'worker', value);
        });
      }
      return original.apply(this, [value, ...rest]);
    },
  );
  patches.patch(Worker.prototype, 'emit', (original) =>
    function (this: Emitter, name: string, ...args: unknown[]) {
      if (name === 'message' && patches.active) {
        core.guard(() => {
          const from = adoptWorker(core, this as never);
          if (from) recordMessage(core, 'receive', from, self, 'worker', args[0]);
        });
      }
      return original.apply(this, [name, ...args]);
    },
  );
}

/**
 * The worker side: parentPort.postMessage, and receipts where Node dispatches them to the port. Patched on
 * MessagePort.prototype and checked against parentPort at each call, because a worker whose agent arrives
 * before its bootstrap has no parentPort yet.
 */
function watchParentPort(core: AgentCore, patches: PatchTable, wt: { parentPort: unknown; MessagePort: { prototype: Poster } }, parent: string): void {
  const self = core.config.actor;
  const proto = wt.MessagePort.prototype as Poster & Record<symbol, unknown>;
  patches.patch(proto, 'postMessage', (original) =>
    function (this: unknown, value: unknown, ...rest: unknown[]) {
      if (this === wt.parentPort && patches.active) core.guard(() => recordMessage(core, 'send', self, parent, 'worker', value));
      return original.apply(this, [value, ...rest]);
    },
  );
  // Node delivers port messages through an internal dispatch method whose symbol is registered
  // (Symbol.for), so receipts are observed without touching the app's listeners.
  if (typeof proto[HYBRID_DISPATCH] !== 'function') return;
  patches.patch(proto as Record<symbol, (...a: unknown[]) => unknown>, HYBRID_DISPATCH, (original) =>
    function (this: unknown, data: unknown, type: unknown, event: unknown) {
      if (this === wt.parentPort && type === 'message' && patches.active) core.guard(() => recordMessage(core, 'receive', parent, self, 'worker', data));
      return original.apply(this, [data, type, event]);
    },
  );
}
