// One inspected OS process: its WebSocket session, the agent in its main thread, and one nested session per
// worker thread (NodeWorker: Node 20 has no Target domain). Handles the process's end (the inspector holds
// an exiting process until its client disconnects: we drain and let go) and dropped sockets (reconnect and
// resume the agents where they stopped).
import { AGENT_REF, type AgentConfig, type AgentOwner } from '../shared/protocol.js';
import { CdpSession, WebSocketSession, type WorkerInfo } from './cdp.js';
import { processExists, processStart, sleep, within } from './discovery.js';
import { stillWaiting } from './relocate.js';
import type { Ingest } from './ingest.js';
import { ThreadLink } from './thread.js';

export interface LinkOptions {
  url: string;
  /** The pid we expect; verified against `process.pid` after connecting. */
  pid?: number;
  /** The agent runs before the first line (launch, announced children): resume the process after install. */
  fromStart: boolean;
  /** True when nodescope opened this inspector port (SIGUSR1, preload): detach closes it again. */
  openedByUs: boolean;
  /** Follow the process's worker threads (trace_all). */
  followWorkers: boolean;
  agent: Omit<AgentConfig, 'actor' | 'fromStart' | 'name' | 'parent' | 'url'>;
  ingest: Ingest;
  /** Who we are, as the agents record it (given the pid, once known). */
  owner: (pid: number) => AgentOwner;
  /** A thread's agent is in (before a waiting thread runs its first line): probes are set there. */
  onThread?: (thread: ThreadLink) => Promise<void>;
  /** Whether onThread has probes to set: without any, a new worker is let go as its agent goes in. */
  probing?: () => boolean;
}

/** How long a detach waits for the agents to uninstall before it disconnects all the same. */
const DETACH_MS = 5_000;

/** Why a worker's session closes when the worker is gone (not its parent's connection). */
const WORKER_ENDED = 'worker ended';

/** The process is traced by another nodescope, which stays undisturbed: the message says who and how to reach it. */
export class HeldError extends Error {
  constructor(
    readonly pid: number,
    readonly owner: AgentOwner | null,
  ) {
    const since = owner ? ` since ${new Date(owner.since).toISOString()}` : '';
    const host = owner?.hostPid !== undefined ? `the nodescope server with pid ${owner.hostPid}` : 'another nodescope';
    const reach = owner?.endpoint
      ? `ask it instead: it serves MCP over HTTP at ${owner.endpoint} (nodescope call <tool> --server ${owner.endpoint}).`
      : `it serves MCP over stdio only, so only its own client can ask it; to trace this process here, end that nodescope (or detach it) first.`;
    super(`pid ${pid} is already traced by ${host}${since}; nodescope leaves it alone: ${reach}`);
    this.name = 'HeldError';
  }
}

/** What a second nodescope reads of an agent already there, before touching anything. */
const HELD_BY = `(() => { const a = ${AGENT_REF}; return a ? { owner: a.config?.owner ?? null, openedByUs: a.config?.openedByUs === true } : null; })()`;

/** Whether the host that installed an agent still runs (same machine and pid namespace, same start time). */
export function ownerAlive(owner: AgentOwner | null): boolean {
  if (!owner || owner.hostPid === undefined) return true; // cannot tell: its agent's silence timer decides
  if (!processExists(owner.hostPid)) return false;
  const start = processStart(owner.hostPid);
  return start !== 'dead' && (owner.hostStart === undefined || start === undefined || start === owner.hostStart);
}

export type LinkState = 'connecting' | 'attached' | 'exited' | 'detached' | 'lost';

const RECONNECT_TRIES = 20;
const CLOSE_KEY = `Symbol.for('nodescope.closeInspector')`;
// The close is called off by taking its mark away (the timer finds it gone), not by clearTimeout: an evaluation
// runs as an interrupt, and may land inside Node's own walk of its timer lists (see SCHEDULE_CLOSE).
const CANCEL_CLOSE = `(() => { if (!globalThis[${CLOSE_KEY}]) return false; delete globalThis[${CLOSE_KEY}]; return true; })()`;
// The mark is set at once, the timer at the next microtask checkpoint: setting a timer from an interrupt
// adds to Node's timer lists while Node may be walking them (src/agent/index.ts, atCheckpoint).
const SCHEDULE_CLOSE = `(m => { globalThis[${CLOSE_KEY}] = m; (async () => { await undefined; if (globalThis[${CLOSE_KEY}] === m) setTimeout(() => { if (globalThis[${CLOSE_KEY}] !== m) return; delete globalThis[${CLOSE_KEY}]; try { process.getBuiltinModule('inspector').close(); } catch {} }, 200).unref(); })(); })({}), undefined`;

export class ProcessLink {
  pid = 0;
  state: LinkState = 'connecting';
  /** Reconnects completed after a dropped socket: the agents resumed, their breakpoints set again. */
  reconnects = 0;
  url: string;
  main!: ThreadLink;
  readonly workers = new Map<string, ThreadLink>();
  private session!: WebSocketSession;
  private readonly endListeners = new Set<(link: ProcessLink) => void>();
  private detaching = false;
  /** Worker agents being installed: attach resolves once the workers that existed are all traced. */
  private readonly installing = new Set<Promise<void>>();

  constructor(private readonly options: LinkOptions) {
    this.url = options.url;
  }

  get actor(): string {
    return String(this.pid);
  }


  /** Problems met along the way (a worker whose agent could not be installed, …). */
  readonly warnings: string[] = [];
  private warn(text: string): void {
    if (this.warnings.length < 50) this.warnings.push(text);
  }

  onEnd(listener: (link: ProcessLink) => void): void {
    this.endListeners.add(listener);
  }

  async start(): Promise<void> {
    this.session = await WebSocketSession.connect(this.url, `inspector ${this.url}`);
    const pid = await evaluateValue(this.session, 'process.pid');
    if (typeof pid !== 'number') throw new Error(`the inspector at ${this.url} did not report a pid`);
    if (this.options.pid !== undefined && pid !== this.options.pid) {
      this.session.disconnect();
      throw new Error(`the inspector at ${this.url} belongs to pid ${pid}, not ${this.options.pid}`);
    }
    this.pid = pid;
    // Another nodescope's agent: left alone while its host lives (reading it changes nothing); an orphan, whose
    // host died without detaching, is released (patches undone, port kept for us) and replaced by ours.
    const held = (await evaluateValue(this.session, HELD_BY)) as { owner: AgentOwner | null; openedByUs: boolean } | null;
    const self = this.options.owner(pid);
    if (held && held.owner?.id !== self.id) {
      if (ownerAlive(held.owner)) {
        this.session.disconnect();
        throw new HeldError(pid, held.owner);
      }
      // Through the agent's host entry (Agent.host: never inside the agent's own code); an agent from before it had none.
      await evaluateValue(this.session, `(a => a && (a.config.openedByUs = false, a.host ? a.host(0, (b) => b.hostGone()) : a.hostGone()))(${AGENT_REF})`);
      if (held.openedByUs) this.options.openedByUs = true;
    }
    // A nodescope that just detached may have scheduled the close of this port: it is ours now.
    if (await evaluateValue(this.session, CANCEL_CLOSE)) this.options.openedByUs = true;
    // Per link, beside the agent config object that every link shares (configure() changes it for later threads).
    this.self = self;
    this.main = new ThreadLink(this.actor, this.session, this.threadConfig(this.actor, this.options.fromStart), this.options.ingest);
    await this.connectSession(this.session, false);
    if (!this.options.fromStart) await this.main.adoptExisting().catch(() => undefined);
    // NodeWorker.enable announces the existing workers before it answers, so they are all in this set.
    await Promise.all([...this.installing]);
    await this.options.onThread?.(this.main).catch(() => undefined);
    this.state = 'attached';
    if (this.options.fromStart) {
      await this.main.release();
      // Not waited for: a program that ends at once (a missing main module) must be attached when it does.
      void stillWaiting(this.session);
    }
  }

  private self: AgentOwner | undefined;

  get openedByUs(): boolean {
    return this.options.openedByUs;
  }

  private threadConfig(actor: string, fromStart: boolean, name?: string, parent?: string, url?: string): AgentConfig {
    return { ...this.options.agent, owner: this.self, openedByUs: this.options.openedByUs, actor, fromStart, ...(name ? { name } : {}), ...(parent ? { parent } : {}), ...(url ? { url } : {}) };
  }

  /** Sets up a fresh WebSocket session: exit notice, close handling, agent, workers. */
  private async connectSession(session: WebSocketSession, reconnect: boolean): Promise<void> {
    session.on('NodeRuntime.waitingForDisconnect', () => this.onExiting());
    session.onClose(() => void this.onClose());
    await session.send('NodeRuntime.notifyWhenWaitingForDisconnect', { enabled: true });
    if (reconnect) {
      await this.main.reattach(session);
      // Breakpoints belong to the session that set them: the new one sets the probes again.
      await this.options.onThread?.(this.main).catch(() => undefined);
    } else await this.main.install();
    if (!this.options.followWorkers) return;
    this.followWorkers(session, this.actor);
    await session.send('NodeWorker.enable', { waitForDebuggerOnStart: true });
  }

  /**
   * Nested sessions for the workers of a thread (the process's main thread or a worker, for nested
   * workers). A new worker waits for us (waitForDebuggerOnStart) until its agent is in.
   *
   * WORKER_ROUND_TRIP: each message to a worker is a NodeWorker.sendMessageToWorker, which the target's
   * inspector answers at once ({id, result: {}}); the worker's own answer follows a few ms later, as a second
   * small write on a socket without TCP_NODELAY (Node's inspector sets none: accept4, then no setsockopt).
   * Nagle holds it until the first is acknowledged, and this end, answering in a request-answer rhythm,
   * delays its ACKs (Linux: 40 ms). Measured on a held worker: the envelope's answer at +1–4 ms, the worker's
   * at +42–48 ms, every time. So what a worker is sent goes in bursts, and only the last answer is awaited.
   */
  private followWorkers(parentSession: CdpSession, parentActor: string): void {
    const sessions = new Map<string, CdpSession>();
    parentSession.on('NodeWorker.attachedToWorker', ({ sessionId, workerInfo, waitingForDebugger }) => {
      const session = new CdpSession(`worker ${workerInfo.workerId} of ${this.pid}`, (message) => {
        parentSession.send('NodeWorker.sendMessageToWorker', { sessionId, message }).catch(() => undefined);
      });
      session.handOnAlways = true;
      sessions.set(sessionId, session);
      const started = this.startWorker(session, workerInfo, waitingForDebugger, parentActor);
      this.installing.add(started);
      void started.finally(() => this.installing.delete(started));
    });
    parentSession.on('NodeWorker.receivedMessageFromWorker', ({ sessionId, message }) => sessions.get(sessionId)?.receive(message));
    parentSession.on('NodeWorker.detachedFromWorker', ({ sessionId }) => {
      sessions.get(sessionId)?.close(WORKER_ENDED);
      sessions.delete(sessionId);
    });
    parentSession.onClose(() => {
      for (const s of sessions.values()) s.close('parent session closed');
      sessions.clear();
    });
  }

  private async startWorker(session: CdpSession, info: WorkerInfo, waiting: boolean, parentActor: string): Promise<void> {
    let actor: string | undefined;
    try {
      actor = `${this.pid}/w${workerThreadId(info.title) ?? (await evaluateValue(session, `process.getBuiltinModule('worker_threads').threadId`))}`;
      const existing = this.workers.get(actor);
      if (existing) {
        await existing.reattach(session);
        await this.options.onThread?.(existing).catch(() => undefined);
      } else {
        const config = this.threadConfig(actor, waiting, workerName(info.title), parentActor, info.url);
        const link = new ThreadLink(actor, session, config, this.options.ingest);
        this.workers.set(actor, link);
        // Nothing to do between its agent and its first line (no module to trace, no probe to set): the
        // worker is let go in the burst that installs its agent, and runs without waiting for any answer.
        // Node 20's inspector takes a worker's messages one by one (ThreadLink.install).
        await link.install({ release: waiting && !link.tracesModules && !this.options.probing?.(), oneByOne: this.main.node?.startsWith('20.') !== false });
        if (!waiting) await link.adoptExisting().catch(() => undefined);
        await this.options.onThread?.(link).catch(() => undefined);
      }
      // Node 20 offers no NodeWorker domain inside a worker: workers started by workers are not followed.
    } catch (error) {
      // The worker may have ended while we installed (its parent's agent still reports its exit).
      if (!session.closed) this.warn(`worker ${actor ?? info.workerId} of ${this.pid}: ${(error as Error).message}`);
    } finally {
      if (waiting) await (this.workers.get(actor ?? '')?.release() ?? session.send('Runtime.runIfWaitingForDebugger')).catch(() => undefined);
    }
    session.onClose((reason) => {
      const link = actor === undefined ? undefined : this.workers.get(actor);
      link?.stopAcks();
      if (reason === WORKER_ENDED) link?.ended();
    });
  }

  /** The process is exiting and the inspector waits for us to leave: everything it sent is in. */
  private onExiting(): void {
    this.options.ingest.flush();
    this.state = 'exited';
    this.session.disconnect();
  }

  private async onClose(): Promise<void> {
    if (this.state === 'exited') this.main.ended();
    this.options.ingest.flush();
    if (this.detaching || this.state === 'exited') return this.end();
    // A dropped socket while the process lives: reconnect and resume the agents from their last sequence.
    for (let i = 0; i < RECONNECT_TRIES && processExists(this.pid); i++) {
      await sleep(Math.min(50 * 2 ** i, 1000));
      try {
        const session = await WebSocketSession.connect(this.url, `inspector ${this.url}`);
        this.session = session;
        await this.connectSession(session, true);
        this.reconnects++;
        return;
      } catch {
        // try again
      }
    }
    this.state = this.state === 'attached' ? 'lost' : this.state;
    this.end();
  }

  private end(): void {
    for (const fn of this.endListeners) fn(this);
    this.endListeners.clear();
  }

  private async uninstallAgents(): Promise<void> {
    for (const w of this.workers.values()) await w.uninstall().catch(() => undefined);
    await this.session.send('NodeWorker.disable').catch(() => undefined);
    await this.main.uninstall().catch(() => undefined);
  }

  /** Drops the connection without telling the target: a test hook for reconnects. */
  dropSocket(): void {
    this.session.disconnect();
  }

  /** Removes every agent and patch, closes the inspector port we opened, and disconnects. */
  async detach(): Promise<void> {
    if (this.state !== 'attached') return;
    this.detaching = true;
    this.state = 'detached';
    // Bounded: a thread that does not answer (paused, or busy in native code) would hold the detach for the
    // inspector's 15 s per call (a test's close ran out its 30 s so, twice). An agent left installed removes
    // itself once nodescope has been silent for its owner's silenceMs (src/agent/index.ts, watch).
    await within(this.uninstallAgents(), DETACH_MS);
    // Nothing more will be heard of it: the supervision tree says since when (src/query/tree.ts).
    this.options.ingest.record({ type: 'process', subtype: 'detached', actor: this.actor, from_actor: null, to_actor: null, corr: null, ref: null, payload: null });
    this.options.ingest.flush();
    if (this.options.openedByUs) {
      // inspector.close() waits until no session is connected, and the end of a session is itself handled
      // on the main thread: closing while ours is still being torn down can hang the target. So the close
      // runs a moment after we are gone, from a timer that does not keep the process alive.
      await this.session
        .send('Runtime.evaluate', {
          expression: SCHEDULE_CLOSE,
          silent: true,
        })
        .catch(() => undefined);
    }
    this.session.disconnect();
  }
}

/**
 * The thread id in a worker's title, "[worker <threadId>]" (the inspector's own workerId is a count of its
 * sessions): asking the worker itself is a round trip, and every round trip to a worker costs ~40 ms
 * (WORKER_ROUND_TRIP). The agent's install checks it (ThreadLink.install).
 */
function workerThreadId(title: string): number | undefined {
  const m = /^\[worker (\d+)\]/.exec(title);
  return m ? Number(m[1]) : undefined;
}

/** Node titles workers "[worker 1] pricing" when named, "[worker 1]" otherwise. */
function workerName(title: string): string | undefined {
  const m = /^\[worker \d+\]\s*(.*)$/.exec(title);
  const name = (m ? m[1] : title)?.trim();
  return name ? name : undefined;
}

export async function evaluateValue(session: CdpSession, expression: string): Promise<unknown> {
  const { result, exceptionDetails } = await session.send('Runtime.evaluate', { expression, returnByValue: true, silent: true });
  if (exceptionDetails) throw new Error(`evaluation of ${expression} failed: ${exceptionDetails.text}`);
  return result.value;
}
