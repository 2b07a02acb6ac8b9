// One JavaScript thread of a target (a main thread or a worker): installs the agent over a CDP session,
// receives its batches through the binding, acknowledges them, and resumes after a reconnect.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { AGENT_GLOBAL, AGENT_REF, AGENT_SOURCE_URL, batchHeader, type AgentConfig } from '../shared/protocol.js';
import type { CdpSession } from './cdp.js';
import type { TrackResult } from '../agent/objects.js';
import type { HostAnswer } from '../agent/index.js';
import type { ModuleReport, ModuleSpec } from '../agent/modules.js';
import { EsmTraces } from './esm.js';
import { LoadedScripts } from './scripts.js';
import { MAX_BACKLOG_EVENTS, type Ingest } from './ingest.js';
import { agentBundlePath } from './paths.js';

/** Ack after this many batches, or after ACK_DELAY_MS, whichever comes first: each ack is a round trip. */
const ACK_EVERY = 4;
const ACK_DELAY_MS = 20;
/** Batches kept while one before them is missing (each up to 256 events). */
const MAX_AHEAD = 64;
/** Keep-alive to the agent, whose watchdog removes it after `silenceMs` (60 s) without word from us. */
const PING_MS = 5_000;
/** How long a flush asked on the control socket may take before it is asked through the inspector. */
const CONTROL_WAIT_MS = 100;
/** Longest wait between two asks for the answer of a host call that waited (see ThreadLink.answer). */
const ANSWER_POLL_MAX_MS = 20;

let agentText: string | undefined;
function agentSource(): string {
  agentText ??= readFileSync(agentBundlePath(), 'utf8');
  return agentText;
}


export class ThreadLink {
  /** Highest batch sequence number received: the agent resends what follows it after a reconnect. */
  lastSeq = 0;
  private unacked = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  private offBinding: (() => void) | undefined;
  private resending = false;
  private pinger: NodeJS.Timeout | undefined;
  /** The last host call's id (Agent.host keeps answers by it): from a random start, so that no answer left by
   * an earlier link to the same agent is taken for one of ours. */
  private callId = Math.floor(Math.random() * 2 ** 40);
  /** How often a missing batch was asked for again. */
  resends = 0;
  /** The scripts this thread has loaded (the Debugger domain's list, for module traces and probes alike). */
  readonly scripts = new LoadedScripts(this);
  /** Breakpoint traces of ES modules in this thread. */
  readonly esm = new EsmTraces(this);
  /** A worker's actor is `<pid>/w<threadId>` (ProcessLink names it); the main thread's is the pid. */
  readonly isWorker: boolean;

  constructor(
    readonly actor: string,
    public session: CdpSession,
    private readonly config: AgentConfig,
    private readonly ingest: Ingest,
  ) {
    this.isWorker = actor.includes('/w');
    // Held before its first line until the link lets it go (see EsmTraces.release).
    if (config.fromStart) this.esm.hold();
  }

  /**
   * Installs the agent (or finds it and resumes it, after a reconnect). The binding, the agent and its install
   * go in one burst and only the install's answer is awaited: a thread handles its inspector messages in
   * order, and each answer awaited from a worker costs ~40 ms (see WORKER_ROUND_TRIP). With `release`, a
   * thread held before its first line is let go in the same burst (nothing is left to do before it runs).
   * `oneByOne`: each message waits for the answer to the one before (Node 20, whose inspector crashed the
   * target with SIGSEGV in 4 of 10 runs when a connection dropped as workers started with their messages in
   * bursts, and in 0 of 12 one by one; Node 22 and 24: 0 of 10 in bursts).
   */
  async install({ release = false, oneByOne = false } = {}): Promise<void> {
    this.listen();
    const burst: Promise<unknown>[] = [];
    const send = async (message: Promise<unknown>) => {
      if (oneByOne) await message;
      else burst.push(message);
    };
    // No Runtime.enable: bindings work without it, and it would make V8 build previews of every console call.
    await send(this.session.send('Runtime.addBinding', { name: this.config.binding }));
    // Named, so the agent's frames in a stack (a traced function's own error passes through them) can be
    // told apart and left out of what is shown. A worker's answer says its thread id, which its actor names.
    const worker = this.isWorker;
    const install = `.install(${JSON.stringify(this.config)}, typeof require === 'function' ? require : undefined); return { seq: a.stats().seq, owner: a.config.owner?.id ?? null, node: process.versions.node${worker ? `, thread: process.getBuiltinModule?.('worker_threads').threadId` : ''} };})()`;
    const expression = worker
      ? `(function(){const a = ${await this.sendInPieces(`(function(){${agentSource()}\nreturn __nodescopeAgentModule;})()\n//# sourceURL=${AGENT_SOURCE_URL}`, send)}${install}`
      : `(function(){${agentSource()}\nconst a = __nodescopeAgentModule${install}\n//# sourceURL=${AGENT_SOURCE_URL}`;
    const installed = this.session.send('Runtime.evaluate', { expression, includeCommandLineAPI: true, returnByValue: true, silent: true });
    if (release && !oneByOne) burst.push(this.release());
    const [{ result, exceptionDetails }] = await Promise.all([installed, ...burst]);
    if (exceptionDetails) throw new Error(`agent failed to install in ${this.actor}: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    const { seq, owner, thread, node } = (result.value ?? {}) as { seq?: number; owner?: string | null; thread?: number; node?: string };
    this.node = node;
    // Another nodescope installed first (between our look and our install): its agent is not ours to resume.
    if (owner !== (this.config.owner?.id ?? null)) {
      this.stopAcks();
      throw new Error(`${this.actor} is already traced by another nodescope (owner ${owner}); left alone`);
    }
    // The actor was named from the worker's title before its agent went in (process_link.ts, workerThreadId).
    if (worker && thread !== undefined && !this.actor.endsWith(`/w${thread}`)) throw new Error(`${this.actor} is thread ${thread}: its events carry the wrong actor id`);
    if (typeof seq === 'number' && seq > this.lastSeq) await this.call(`resume(${this.lastSeq})`);
    this.pinger ??= setInterval(() => this.ingest.data()?.request(this.actor, 'F0') || void this.tell('flushNow()').catch(() => undefined), PING_MS).unref();
    if (release && oneByOne) await this.release();
    await this.traceEsmModules();
  }

  /** The thread's Node version (process.versions.node), once its agent is in. */
  node: string | undefined;

  /** Modules to trace as the agent installs: work for a held thread between its agent and its first line. */
  get tracesModules(): boolean {
    return (this.config.modules?.length ?? 0) > 0;
  }

  /** Lets a thread held before its first line (launch, a new worker) run, its waiting traces armed first; once per session. */
  async release(): Promise<void> {
    if (this.releasedOn === this.session) return;
    const session = (this.releasedOn = this.session);
    await this.esm.release().catch(() => undefined);
    await session.send('Runtime.runIfWaitingForDebugger');
  }

  private releasedOn: CdpSession | undefined;

  /** The agent traced the configured modules as it installed, but for loaded ones and ES modules: those are
   * the tracer's to do. */
  private async traceEsmModules(): Promise<void> {
    // Every question to the agent first: once a trace waits for its module, each script pauses before it
    // runs, an evaluation of ours too, and a thread still held for its agent (launch) then never ran.
    const reports: [ModuleSpec, ModuleReport | undefined][] = [];
    for (const spec of this.config.modules ?? []) reports.push([spec, await this.traceModule(spec, true).catch(() => undefined)]);
    // A name given at launch, as the first thread resolved it: a worker held before its bootstrap resolves none.
    for (const [spec, report] of reports) spec.resolved ??= report?.resolved ?? undefined;
    for (const [spec, report] of reports) if (report?.status === 'esm') await this.esm.trace(spec, report).catch(() => undefined);
  }

  /**
   * Traces a module in this thread, but for an ES module's own trace, which is the caller's to start once
   * every question to the agent is asked (status `esm`). A loaded CommonJS module is the tracer's (esm.ts
   * traceCommonJs): in place where V8 live-edits, so calls through references taken before the trace (a
   * pool's task function, a route handler) are recorded; its own functions where its exports are not;
   * wrappers otherwise.
   */
  async traceModule(spec: ModuleSpec, atInstall = false): Promise<ModuleReport | undefined> {
    const ask = async (s: ModuleSpec) => (await this.call(`traceModule(${JSON.stringify(s)})`)) as ModuleReport | undefined;
    let report = await ask({ ...spec, inPlace: true });
    if (report?.status === 'in_place') {
      // canEdit also sizes this thread's edits; asked once a module is loaded (a thread held before its first
      // line has no script of its own to try an edit on).
      await this.esm.canEdit().catch(() => false);
      report = await this.esm.traceCommonJs(spec, report.resolved!).catch(() => ask({ ...spec, inPlace: false }));
    }
    // At install the checks below are not made: they enable the Debugger domain, and a worker with it enabled
    // that is terminated right after its last message lost its last batches (test/capture/worker_end.test.ts).
    if (atInstall) return report;
    // What V8 loaded as an ES module is one, whatever its name says (a loader may have made it one).
    if (report?.status === 'pending' && report.resolved && (await this.esm.isLoadedModule(report.resolved))) report.status = 'esm';
    // Compiled by the program itself, not required: jest runs each test file's modules in a vm context of
    // its own, with exports no wrapper reaches (its calls went unrecorded while the answer said "pending").
    else if (report?.status === 'pending' && report.resolved && this.scripts.get(pathToFileURL(report.resolved).href)) {
      report.note = 'loaded, but not by require or import (a runner\'s own module registry, as jest\'s vm contexts): not traced; traced if required later';
    }
    return report;
  }

  /**
   * A CommonJS module traced before it loaded was wrapped at its first require. Where nothing it exports is
   * its own (an entry file; a routes file exporting the router Express made), those wrappers record a
   * library's function or nothing: its own functions are traced in place instead, as a trace of the loaded
   * module would (a call in between is recorded by neither).
   */
  async ownFunctionsInstead(spec: ModuleSpec, resolved: string): Promise<ModuleReport | undefined> {
    if (await this.esm.exportsOwnFunction(resolved)) return undefined;
    await this.call(`untraceModule(${JSON.stringify(spec.module)}, ${JSON.stringify('its exports are not its own functions: those are traced instead')})`);
    return this.traceModule(spec);
  }

  /**
   * Hands a long script to the thread in pieces and answers an expression that runs it: Node 20 drops a
   * message to a worker's inspector of 64 KiB or more without an answer, and the agent is over that. Pieces
   * of 44 KiB make messages of ~47 KB (JSON escaping adds ~7 % to the agent's text). Their answers go into
   * `burst`, not awaited here: the thread runs the pieces in order, before the expression that follows them.
   */
  private async sendInPieces(script: string, send: (message: Promise<unknown>) => Promise<void>): Promise<string> {
    const PIECE = 44 * 1024;
    const slot = `globalThis[Symbol.for(${JSON.stringify(`${AGENT_GLOBAL}.source`)})]`;
    for (let at = 0; at < script.length; at += PIECE) {
      const piece = JSON.stringify(script.slice(at, at + PIECE));
      const sent = this.session.send('Runtime.evaluate', { expression: at === 0 ? `${slot} = ${piece}, 0` : `${slot} += ${piece}, 0`, returnByValue: true, silent: true });
      await send(
        sent.then(({ exceptionDetails }) => {
          if (exceptionDetails) throw new Error(`agent failed to reach ${this.actor}: ${exceptionDetails.text}`);
        }),
      );
    }
    // Indirect eval: the script is a function expression, so it declares nothing global; the slot goes.
    return `(() => { const s = ${slot}; delete ${slot}; return (0, eval)(s); })()`;
  }

  /** Points the link at a new session (after a reconnect) and resumes the agent where it was. */
  async reattach(session: CdpSession): Promise<void> {
    this.session = session;
    this.resending = false;
    await this.install(); // finds the agent alive and asks it to resend what followed lastSeq
    await this.esm.resume();
  }

  private listen(): void {
    this.offBinding?.();
    const offBinding = this.session.on('Runtime.bindingCalled', ({ name, payload }) => {
      if (name === this.config.binding) this.receive(payload);
    });
    // The data channel delivers into the same receive(): one stream, whichever path a batch took.
    const offData = this.ingest.data()?.register(this.actor, { receive: (text) => this.receive(text), answered: (line) => this.answered(line), lastSeq: () => this.lastSeq });
    this.offBinding = () => {
      offBinding();
      offData?.();
    };
  }

  /** Resolves once every batch up to `seq` has arrived (the data socket may trail the inspector's answer). */
  async arrived(seq: number, timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lastSeq < seq && Date.now() < deadline && !this.session.closed) await new Promise((r) => setTimeout(r, 2));
  }

  private receive(text: string): void {
    // The header only: the events are decoded where they are written (src/trace/ingest.ts).
    let batch: ReturnType<typeof batchHeader>;
    try {
      batch = batchHeader(text);
    } catch {
      return;
    }
    const { seq } = batch.header;
    if (seq <= this.lastSeq) {
      // A batch the thread's end stepped over (ended), trailing on the data socket: stored now. Else resent
      // after a reconnect, and already stored.
      if (this.skipped.delete(seq)) this.ingest.accept(text, batch.events);
      return;
    }
    if (seq > this.lastSeq + 1) {
      // A batch is missing: sent while no session listened, or still on the other path (a batch handed to
      // the binding at a handover can trail the next one on the data socket). Accepting this one would ack
      // the missing one away: it waits here, and the agent is asked to resend everything after the last
      // batch we have, in order (a thread already ended cannot: see keepAhead).
      if (this.ahead.size < MAX_AHEAD) this.ahead.set(seq, { text, events: batch.events });
      if (!this.resending) {
        this.resending = true;
        this.resends++;
        this.tell(`resume(${this.lastSeq})`).catch(() => (this.resending = false));
      }
      return;
    }
    this.accept(seq, text, batch.events);
    for (let next = this.ahead.get(this.lastSeq + 1); next !== undefined; next = this.ahead.get(this.lastSeq + 1)) {
      this.ahead.delete(this.lastSeq + 1);
      this.accept(this.lastSeq + 1, next.text, next.events);
    }
    for (const waiting of this.ahead.keys()) if (waiting <= this.lastSeq) this.ahead.delete(waiting);
  }

  /** Batches that came after a missing one, by sequence number, until it comes. */
  private readonly ahead = new Map<number, { text: string; events: number }>();

  private accept(seq: number, text: string, events: number): void {
    this.resending = false;
    this.lastSeq = seq;
    this.ingest.accept(text, events);
    if (++this.unacked >= ACK_EVERY) this.ack();
    else this.ackTimer ??= setTimeout(() => this.ack(), ACK_DELAY_MS).unref();
  }

  /**
   * The thread ended with batches still waiting behind a missing one, which no resend will bring now: they
   * are stored, in order, rather than lost with it.
   */
  ended(): void {
    for (const seq of [...this.ahead.keys()].sort((a, b) => a - b)) {
      for (let missing = this.lastSeq + 1; missing < seq; missing++) this.skipped.add(missing);
      this.accept(seq, this.ahead.get(seq)!.text, this.ahead.get(seq)!.events);
    }
    this.ahead.clear();
  }

  /** Batches the thread's end stepped over: stored if they still come (the data socket may trail its end). */
  private readonly skipped = new Set<number>();

  private ack(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    // Acks are the agents' only signal to send more: while the host is behind on writing, holding them back
    // makes the agents queue (and then count drops) instead of the host buffering without bound.
    if (this.ingest.backlog() > MAX_BACKLOG_EVENTS) {
      this.ackTimer = setTimeout(() => this.ack(), ACK_DELAY_MS).unref();
      return;
    }
    this.unacked = 0;
    // Not on a worker's data socket: a write to it just after terminate() ended the worker fails (EPIPE), and
    // Node then closes our end with the worker's last batches still unread in it (they were written at its
    // handover, before the message its parent ended it on: worker_end's probe test lost them about one run
    // in ten, a log line and five sends, everything after the last batch read before the ack). The host
    // never writes to a worker's socket after its hello, so it is always read to its end.
    // A worker's acks go on its control socket, which the host may write to (Channel.openControl).
    const data = this.ingest.data();
    if (this.isWorker ? data?.request(this.actor, `A${this.lastSeq}`) : data?.ack(this.actor, this.lastSeq)) return;
    // A lost ack only delays the window; the next one covers it.
    this.tell(`ack(${this.lastSeq})`).catch(() => undefined);
  }

  /**
   * Calls a method of the agent in the thread (`method` is an expression on the agent: `flushNow()`,
   * `probes.gates`) and answers its value. Through the agent's `host`, which runs it once no agent code of
   * its own is on the stack (an evaluation is an interrupt: src/agent/index.ts, Agent.host).
   */
  async call(method: string): Promise<unknown> {
    const id = ++this.callId;
    // A worker's agent writes the answer on its data socket as well, when it has one: through the inspector it
    // comes ~40 ms late (src/agent/channel.ts, Channel.answer). Whichever comes first is taken.
    const bySocket = new Promise<HostAnswer>((resolve) => this.socketAnswers.set(id, resolve));
    const byInspector = this.evaluate(`${AGENT_REF}?.host(${id}, (a) => a.${method})`, method).then((first) => this.answer(id, method, first));
    byInspector.catch(() => undefined); // when the socket's answer came first
    try {
      return await Promise.race([byInspector, bySocket.then((answer) => valueOf(answer, method, this.actor))]);
    } finally {
      this.socketAnswers.delete(id);
    }
  }

  /**
   * The agent sends what it holds (its flushNow) and answers the sequence number of the batch that carries
   * the last of it. Asked on the thread's control socket, so that the thread's own event loop runs it: through
   * the inspector (an interrupt of whatever JavaScript runs) only when it has none, or when the thread gives no
   * answer within CONTROL_WAIT_MS (busy in JavaScript that long).
   */
  async flushNow(): Promise<unknown> {
    const id = ++this.callId;
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<HostAnswer | undefined>((resolve) => {
      this.socketAnswers.set(id, resolve);
      timer = setTimeout(() => resolve(undefined), CONTROL_WAIT_MS);
    });
    try {
      const answer = this.ingest.data()?.request(this.actor, `F${id}`) ? await answered : undefined;
      if (answer) return valueOf(answer, 'flushNow()', this.actor);
    } finally {
      clearTimeout(timer);
      this.socketAnswers.delete(id);
    }
    return this.call('flushNow()');
  }

  /** Host calls waiting for an answer, by id: the data socket resolves them (answered). */
  private readonly socketAnswers = new Map<number, (answer: HostAnswer) => void>();

  private answered(line: string): void {
    const space = line.indexOf(' ');
    try {
      this.socketAnswers.get(Number(line.slice(1, space)))?.(JSON.parse(line.slice(space + 1)) as HostAnswer);
    } catch {
      // not an answer we can read: the inspector's comes
    }
  }

  /** As `call`, for a method whose answer nobody needs (an ack, the keep-alive flush): it runs when it can. */
  async tell(method: string): Promise<void> {
    await this.evaluate(`${AGENT_REF}?.host(0, (a) => void a.${method})`, method);
  }

  private async evaluate(expression: string, method: string): Promise<HostAnswer | undefined> {
    const { result, exceptionDetails } = await this.session.send('Runtime.evaluate', { expression, returnByValue: true, silent: true });
    if (exceptionDetails) throw new Error(`agent call ${method} failed in ${this.actor}: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value as HostAnswer | undefined;
  }

  /**
   * The value of host call `id`, asking again while it waits for the agent code it interrupted: that code
   * returns within microseconds, so the first ask again (one round trip later) nearly always has it.
   */
  private async answer(id: number, method: string, first: HostAnswer | undefined): Promise<unknown> {
    let answer = first;
    // Asked again until answered, here or by the data socket (then the call is no longer waiting).
    for (let wait = 0; answer?.later === true && this.socketAnswers.has(id); wait = Math.min(2 * wait || 1, ANSWER_POLL_MAX_MS)) {
      if (this.session.closed) throw new Error(`agent call ${method} got no answer in ${this.actor}: the session closed`);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      answer = await this.evaluate(`${AGENT_REF}?.answer(${id})`, method);
    }
    return valueOf(answer, method, this.actor);
  }

  /**
   * Hands the agent the child processes that existed before it, found among the thread's active handles.
   * (Not Runtime.queryObjects: a heap walk measurably slowed a warm target for many seconds after attach —
   * bench/README.md. Workers that existed before report their own exit instead.)
   */
  async adoptExisting(): Promise<void> {
    await this.call('adoptHandles()');
  }

  /** Live instances of a class in this thread (Runtime.queryObjects), tracked so that they get actor ids. */
  async trackInstances(className: string, max: number): Promise<TrackResult[]> {
    const group = 'nodescope-instances';
    try {
      const proto = await this.session.send('Runtime.evaluate', { expression: `${AGENT_REF}?.classPrototype(${JSON.stringify(className)})`, objectGroup: group, silent: true });
      if (!proto.result.objectId) return [];
      const { objects } = await this.session.send('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId, objectGroup: group });
      const id = ++this.callId;
      const { result } = await this.session.send('Runtime.callFunctionOn', {
        objectId: objects.objectId!,
        functionDeclaration: `function (id, cls, max) { return ${AGENT_REF}?.host(id, (a) => a.trackAll(this, cls, max)); }`,
        arguments: [{ value: id }, { value: className }, { value: max }],
        returnByValue: true,
        silent: true,
      });
      return ((await this.answer(id, 'trackAll', result.value as HostAnswer | undefined)) as TrackResult[] | undefined) ?? [];
    } finally {
      await this.session.send('Runtime.releaseObjectGroup', { objectGroup: group }).catch(() => undefined);
    }
  }

  /** Removes the agent and the binding: the thread is as it was before attach. */
  async uninstall(): Promise<void> {
    this.stopAcks();
    await this.esm.removeAll();
    await this.call('uninstall()').catch(() => undefined);
    // removeBinding only unsubscribes this session; the global function the binding created stays unless deleted.
    await this.session
      .send('Runtime.evaluate', { expression: `delete globalThis[${JSON.stringify(this.config.binding)}]`, silent: true })
      .catch(() => undefined);
    await this.session.send('Runtime.removeBinding', { name: this.config.binding }).catch(() => undefined);
  }

  stopAcks(): void {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = undefined;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.offBinding?.();
  }
}

/** A host call's value, or what it threw, as an error that names the call and the thread. */
function valueOf(answer: HostAnswer | undefined, method: string, actor: string): unknown {
  if (answer?.e !== undefined) throw new Error(`agent call ${method} failed in ${actor}: ${answer.e}`);
  return answer?.v;
}
