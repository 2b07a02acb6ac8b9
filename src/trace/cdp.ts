// A typed Chrome DevTools Protocol session. One id counter and one map of pending requests; one router for
// responses and events; when the transport closes, every pending request is rejected. The same class
// serves a WebSocket (a process) and a nested worker session (messages tunnelled through NodeWorker).
import type { ProtocolMapping } from 'devtools-protocol/types/protocol-mapping.js';
import WebSocket from 'ws';

/** Node's own domains, absent from devtools-protocol (which describes Chrome). */
interface NodeCommands {
  'NodeWorker.enable': { paramsType: [{ waitForDebuggerOnStart: boolean }]; returnType: void };
  'NodeWorker.disable': { paramsType: []; returnType: void };
  'NodeWorker.sendMessageToWorker': { paramsType: [{ message: string; sessionId: string }]; returnType: void };
  'NodeWorker.detach': { paramsType: [{ sessionId: string }]; returnType: void };
  'NodeRuntime.notifyWhenWaitingForDisconnect': { paramsType: [{ enabled: boolean }]; returnType: void };
}

export interface WorkerInfo {
  workerId: string;
  type: string;
  title: string;
  url: string;
}

interface NodeEvents {
  'NodeWorker.attachedToWorker': [{ sessionId: string; workerInfo: WorkerInfo; waitingForDebugger: boolean }];
  'NodeWorker.detachedFromWorker': [{ sessionId: string }];
  'NodeWorker.receivedMessageFromWorker': [{ sessionId: string; message: string }];
  'NodeRuntime.waitingForDisconnect': [];
}

type Commands = ProtocolMapping.Commands & NodeCommands;
type Events = ProtocolMapping.Events & NodeEvents;
export type Method = keyof Commands;
export type Params<M extends Method> = Commands[M]['paramsType'];
export type Result<M extends Method> = Commands[M]['returnType'];
export type EventName = keyof Events;

export class CdpError extends Error {
  constructor(
    readonly method: string,
    readonly params: unknown,
    readonly code: number | undefined,
    /** The inspector's own words, for an answer (the message adds the call, for a log). */
    readonly reason: string,
  ) {
    super(`${method} failed: ${reason} (params: ${JSON.stringify(params)?.slice(0, 200)})`);
    this.name = 'CdpError';
  }
}

interface Pending {
  method: string;
  params: unknown;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** The inspector's answer to a call that a termination of the thread's JavaScript ended. */
const TERMINATED = 'Execution was terminated';
/** Node 20's answer to every evaluation while a termination is held pending (see handOnTermination). */
const INTERNAL_ERROR = 'Internal error';
/** Native code that calls into JavaScript (the reviver): it fails while a termination is pending. */
const PENDING_TERMINATION_PROBE = 'JSON.parse("0", (k, v) => v)';

export class CdpSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<(params: any) => void>>();
  private readonly closeListeners = new Set<(reason: string) => void>();
  closed = false;
  /** Our messages, held while a termination our call took is handed on (see `handOnTermination`). */
  private held: string[] | undefined;
  /** Terminations that a call of ours took and that were handed on to the code they were meant for. */
  handedOn = 0;
  /**
   * Hand every termination on without asking whether V8 still holds it (a worker's session): the probe costs
   * a worker a round trip (~40 ms, see WORKER_ROUND_TRIP in process_link.ts), and with it vm timeouts in a
   * worker hung 2 of 16 runs against 0 of 8 without (hangs.mjs, Node 24; cause not found).
   */
  handOnAlways = false;

  constructor(
    readonly label: string,
    private readonly post: (text: string) => void,
    private readonly timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {}

  send<M extends Method>(method: M, ...params: Params<M>): Promise<Result<M>> {
    return this.request(method, params[0], false);
  }

  /** Sends a request; `now`: ahead of the messages held (see `handOnTermination`). */
  private request<M extends Method>(method: M, params: Params<M>[0], now: boolean): Promise<Result<M>> {
    if (this.closed) return Promise.reject(new CdpError(method, params, undefined, `session ${this.label} is closed`));
    const id = this.nextId++;
    return new Promise<Result<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CdpError(method, params, undefined, `no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, { method, params, resolve: resolve as (v: unknown) => void, reject, timer });
      const text = JSON.stringify({ id, method, params: params ?? {} });
      if (this.held && !now) return void this.held.push(text);
      try {
        this.post(text);
      } catch (error) {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(new CdpError(method, params, undefined, (error as Error).message));
      }
    });
  }

  /**
   * A termination of the thread's JavaScript (a vm script's timeout, `breakOnSigint`, a worker's terminate(),
   * another client's Runtime.terminateExecution) that lands while one of our calls runs there ends our call
   * and, when our call had interrupted other JavaScript (the inspector runs our calls as interrupts), not
   * that code: V8 keeps the termination pending where plain JavaScript never looks, so a vm script's
   * `while (true) {}` ran on for ever (test/fixtures/terminations/hangs.mjs, 100 vm timeouts under syncs in a
   * loop: 5 of 10 runs hung on Node 20, 8 of 10 on Node 24, 9 of 10 on Node 26). Native code calling into
   * JavaScript finds it pending, so a call that does so (a JSON reviver) is sent first, ahead of anything of
   * ours: if it fails too ("Execution was terminated"; "Internal error" on Node 20), the thread is terminated
   * again, as whoever terminated it meant, and our other messages wait until that has run its course (its
   * answer: a message dispatched right behind it took it in the same way). If the probe runs, the termination
   * reached its code (or our call was all that ran): nothing is sent, for a Runtime.terminateExecution while
   * no JavaScript runs ends the next callback the thread runs (measured: Node 24 aborted with "async hook
   * stack has become corrupted", Node 20's timers stopped for good).
   */
  private async handOnTermination(): Promise<void> {
    if (this.held) return;
    this.held = [];
    try {
      if (this.handOnAlways || (await this.stillPending())) {
        this.handedOn++;
        await this.request('Runtime.terminateExecution', undefined, true).catch(() => undefined);
      }
    } finally {
      const held = this.held;
      this.held = undefined;
      for (const text of held) if (!this.closed) this.post(text);
    }
  }

  /** Whether V8 still holds a termination pending: the probe, sent ahead of our held messages, fails. */
  private stillPending(): Promise<boolean> {
    return this.request('Runtime.evaluate', { expression: PENDING_TERMINATION_PROBE, silent: true }, true).then(
      () => false,
      (error: CdpError) => error.reason === TERMINATED || error.reason === INTERNAL_ERROR,
    );
  }

  on<E extends EventName>(event: E, listener: (...params: Events[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const fn = listener as (params: unknown) => void;
    set.add(fn);
    return () => set.delete(fn);
  }

  /** How many listeners an event has (a session replaced after a reconnect should keep none). */
  listenerCount(event: EventName): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  onClose(listener: (reason: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Routes one incoming protocol message. */
  receive(text: string): void {
    let message: { id?: number; method?: string; params?: unknown; result?: unknown; error?: { code: number; message: string } };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.id !== undefined) {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error) {
        // Node 20's "Internal error" is taken for one only where the probe then asks V8 (not a worker's session).
        if (message.error.message === TERMINATED || (message.error.message === INTERNAL_ERROR && !this.handOnAlways)) void this.handOnTermination();
        pending.reject(new CdpError(pending.method, pending.params, message.error.code, message.error.message));
      } else pending.resolve(message.result);
    } else if (message.method) {
      const set = this.listeners.get(message.method);
      if (set) for (const fn of [...set]) fn(message.params);
    }
  }

  /** Rejects every pending request and tells close listeners. Idempotent. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new CdpError(p.method, p.params, undefined, `session ${this.label} closed: ${reason}`));
      this.pending.delete(id);
    }
    for (const fn of [...this.closeListeners]) fn(reason);
    this.closeListeners.clear();
    this.listeners.clear();
  }
}

/** A session over the inspector's WebSocket. */
export class WebSocketSession extends CdpSession {
  private constructor(
    label: string,
    private readonly ws: WebSocket,
  ) {
    super(label, (text) => ws.send(text));
    ws.on('message', (data) => this.receive(data.toString()));
    ws.on('close', (code) => this.close(`socket closed (${code})`));
    ws.on('error', (error) => this.close(error.message));
  }

  static connect(url: string, label: string, timeoutMs = 5_000): Promise<WebSocketSession> {
    return new Promise((resolve, reject) => {
      // maxPayload: a batch of events is at most a few MB; the default 100 MB is plenty.
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
      const fail = (error: Error) => reject(new Error(`cannot connect to the inspector at ${url}: ${error.message}`));
      ws.once('error', fail);
      ws.once('open', () => {
        ws.off('error', fail);
        resolve(new WebSocketSession(label, ws));
      });
    });
  }

  disconnect(): void {
    this.ws.close();
    this.close('disconnected');
  }
}
