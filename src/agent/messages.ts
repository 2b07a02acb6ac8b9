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
  if (subtype === 'send' && channel === 'ipc' && nodeInternal(core, value)) return;
  const message = core.capture(value);
  // The content hash that completes the link is added by the tracer (src/trace/ingest.ts), which
  // stringifies the payload anyway: hashing here would serialize every message twice inside the target.
  core.emit('message', subtype, subtype === 'send' ? from : to, { channel, message }, { from, to, ref: `${from}>${to}` });
}

/**
 * Node's own IPC messages, `{cmd: 'NODE_…'}` (Node's test, lib/internal/child_process.js isInternal):
 * node:cluster's handshake and the one it sends per connection it hands a worker (newconn and its ack: two
 * per request under round-robin), and handle acks. They go through the same `send` as the program's, but
 * Node delivers them as 'internalMessage', never to a 'message' listener: recorded, they were sends that
 * no receipt ever matched, a backlog of 7 in the primary's mailbox after 3 requests. Read through the
 * descriptor: no getter or Proxy trap of the program's runs.
 */
function nodeInternal(core: AgentCore, value: unknown): boolean {
  if (typeof value !== 'object' || value === null || core.isProxy(value)) return false;
  const cmd = Object.getOwnPropertyDescriptor(value, 'cmd')?.value;
  return typeof cmd === 'string' && cmd.length > 5 && cmd.startsWith('NODE_');
}

const HYBRID_DISPATCH = Symbol.for('nodejs.internal.kHybridDispatch');

export const messageSource: Source = {
  category: 'message',
  enable(core, patches) {
    const wt = core.builtin('worker_threads');
    const self = core.config.actor;
    const channels = watchChannels(core, patches, wt);
    watchWorkerObjects(core, patches, wt.Worker, channels);
    watchPorts(core, patches, wt, channels, wt.isMainThread ? undefined : (core.config.parent ?? String(core.pid)));
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

/**
 * Ports of a MessageChannel whose other end went to another thread (a pool's task channel: Piscina hands
 * each worker a port2 and keeps its port1), with that thread's actor. The main thread learns its port's peer
 * from the channels made here (each port's partner) and the ports it transfers to a worker; a worker learns
 * it from the ports its parent sends it, whose other end is in the parent.
 */
type Peers = WeakMap<object, string>;

/** `new MessageChannel()`, wrapped to note each port's partner: the channel itself is Node's, unchanged. */
function watchChannels(core: AgentCore, patches: PatchTable, wt: { MessageChannel: new () => { port1: object; port2: object } }): { peers: Peers; partners: WeakMap<object, object> } {
  const peers: Peers = new WeakMap();
  const partners = new WeakMap<object, object>();
  const Original = wt.MessageChannel;
  const note = (channel: { port1: object; port2: object }) =>
    core.guard(() => {
      const { port1, port2 } = channel;
      partners.set(port1, port2);
      partners.set(port2, port1);
    });
  function MessageChannel(this: unknown, ...args: unknown[]) {
    // As the original answers: a TypeError when called without `new`; a subclass's instance with one.
    if (!new.target) return (Original as unknown as (...a: unknown[]) => unknown).apply(this, args);
    const channel = Reflect.construct(Original, args, new.target === MessageChannel ? Original : new.target) as { port1: object; port2: object };
    if (patches.active) note(channel);
    return channel;
  }
  MessageChannel.prototype = Original.prototype;
  Object.defineProperty(MessageChannel, 'name', { value: Original.name });
  const wrapped = MessageChannel as unknown as typeof Original;
  patches.patch(wt, 'MessageChannel', () => wrapped);
  // The global is the same class: kept the same as the module's.
  if ((globalThis as { MessageChannel?: unknown }).MessageChannel === Original) patches.patch(globalThis as unknown as typeof wt, 'MessageChannel', () => wrapped);
  return { peers, partners };
}

/** Ports in what a thread transfers (postMessage's transfer list, or options with `transfer`). */
function transferred(rest: unknown[]): unknown[] {
  const list = rest[0];
  if (Array.isArray(list)) return list;
  const transfer = list !== null && typeof list === 'object' ? Object.getOwnPropertyDescriptor(list, 'transfer')?.value : undefined;
  return Array.isArray(transfer) ? transfer : [];
}

/** The parent side of worker messages: sends through Worker#postMessage, receipts on Worker#emit. */
function watchWorkerObjects(core: AgentCore, patches: PatchTable, Worker: { prototype: Poster & Emitter }, { peers, partners }: ReturnType<typeof watchChannels>): void {
  const self = core.config.actor;
  patches.patch(Worker.prototype, 'postMessage', (original) =>
    function (this: Poster, value: unknown, ...rest: unknown[]) {
      if (patches.active) {
        core.guard(() => {
          const to = adoptWorker(core, this as never);
          if (!to) return;
          recordMessage(core, 'send', self, to, 'worker', value);
          // A port sent to the worker: messages on its partner, kept here, go to that worker.
          for (const port of transferred(rest)) {
            const partner = typeof port === 'object' && port !== null ? partners.get(port) : undefined;
            if (partner) peers.set(partner, to);
          }
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
 * Messages on ports: a worker's parentPort (sends and receipts, to and from its parent), and ports whose other
 * end is in another thread (Peers). Patched on MessagePort.prototype and checked at each call, because a
 * worker whose agent arrives before its bootstrap has no parentPort yet.
 */
function watchPorts(core: AgentCore, patches: PatchTable, wt: { parentPort: unknown; MessagePort: { prototype: Poster }; receiveMessageOnPort: (port: any) => unknown }, { peers }: ReturnType<typeof watchChannels>, parent: string | undefined): void {
  const self = core.config.actor;
  const proto = wt.MessagePort.prototype as Poster & Record<symbol, unknown>;
  const Port = wt.MessagePort as unknown as abstract new () => object;
  /** The thread at a port's other end, and the channel it is: the parent's port, or one of Peers. */
  const peerOf = (port: unknown): { peer: string; channel: 'worker' | 'port' } | undefined => {
    if (typeof port !== 'object' || port === null) return undefined;
    if (parent !== undefined && port === wt.parentPort) return { peer: parent, channel: 'worker' };
    const peer = peers.get(port);
    return peer === undefined ? undefined : { peer, channel: 'port' };
  };
  patches.patch(proto, 'postMessage', (original) =>
    function (this: unknown, value: unknown, ...rest: unknown[]) {
      const to = patches.active ? peerOf(this) : undefined;
      if (to) core.guard(() => recordMessage(core, 'send', self, to.peer, to.channel, value));
      return original.apply(this, [value, ...rest]);
    },
  );
  // A message taken off a port synchronously (a pool's thread woken by Atomics.notify reads its tasks so).
  patches.patch(wt as { receiveMessageOnPort: (port: unknown) => unknown }, 'receiveMessageOnPort', (original) =>
    function (this: unknown, port: unknown) {
      const entry = original.call(this, port) as { message: unknown } | undefined;
      const from = patches.active && entry !== undefined ? peerOf(port) : undefined;
      if (from) core.guard(() => recordMessage(core, 'receive', from.peer, self, from.channel, entry!.message));
      return entry;
    },
  );
  // Node delivers port messages through an internal dispatch method whose symbol is registered
  // (Symbol.for), so receipts are observed without touching the app's listeners.
  if (typeof proto[HYBRID_DISPATCH] !== 'function') return;
  patches.patch(proto as Record<symbol, (...a: unknown[]) => unknown>, HYBRID_DISPATCH, (original) =>
    function (this: unknown, data: unknown, type: unknown, event: unknown) {
      const from = type === 'message' && patches.active ? peerOf(this) : undefined;
      if (from) {
        core.guard(() => {
          recordMessage(core, 'receive', from.peer, self, from.channel, data);
          // A port the parent sent (a structured clone: plain data, no getter to run) has its other end there.
          if (from.channel === 'worker') for (const port of portsIn(data, Port)) peers.set(port, from.peer);
        });
      }
      return original.apply(this, [data, type, event]);
    },
  );
}

/** Own values of a message looked at for ports: a task object's handful, never a large array's items. */
const MAX_PORT_KEYS = 16;

/** The ports in a message: itself, or among the first own values of a plain object. */
function portsIn(data: unknown, Port: abstract new () => object): object[] {
  if (data instanceof Port) return [data];
  if (data === null || typeof data !== 'object' || Object.getPrototypeOf(data) !== Object.prototype) return [];
  const ports: object[] = [];
  let seen = 0;
  for (const key in data) {
    const v = (data as Record<string, unknown>)[key];
    if (v instanceof Port) ports.push(v);
    if (++seen >= MAX_PORT_KEYS) break;
  }
  return ports;
}
