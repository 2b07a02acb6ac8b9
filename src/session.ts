// The ToolContext behind the tools: one store and, once a target is launched or attached, one tracer.
// Tools reach the tracer and the query layer only through this object.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ModuleSpec } from './agent/modules.js';
import type { Config } from './config.js';
import type { Level } from './shared/protocol.js';
import { resolveActor } from './query/actors.js';
import { Query } from './query/index.js';
import { supervisionTree } from './query/tree.js';
import { Store } from './store/store.js';
import { privateTraceFile } from './store/private_dir.js';
import { IngestThread } from './trace/ingest_thread.js';
import { defaultExportDir, ExportDir } from './export_dir.js';
import type { Progress, TargetSummary, ToolContext } from './tools/define.js';
import type { ProcessLink } from './trace/process_link.js';
import type { ProbeRequest } from './trace/probes.js';
import { DEFAULT_TRACE_LIMITS, Tracer } from './trace/tracer.js';

export interface CurrentConfig {
  tracing_level: Level;
  sample_rate: number;
  max_events: number;
  retention: Record<string, number>;
  /** HTTP and WebSocket capture, in every traced thread. */
  web: boolean;
  events: number;
}

export interface SessionOptions {
  config: Config;
  /** Open an existing trace file read-only (post-mortem queries); no launch or attach. */
  db?: string;
  /** Tests only: a slow disk under the writer thread (src/trace/ingest_thread.ts). */
  slowWriterMsPerRow?: number;
}

/** How long configure waits for the writer thread to prune before answering the event count. */
const CONFIGURE_WAIT_MS = 2_000;

/** How long a tool call waits for an attach or launch begun at server start before saying it is still under way. */
const READY_WAIT_MS = 20_000;

export class Session implements ToolContext {
  /** The store as queries read it (this thread's connection); the writer thread writes it. */
  readonly store: Store;
  /** Writes the store while tracing (none for a trace file opened read-only). */
  private readonly writer: IngestThread | undefined;
  /** The private folder of a trace that is not persisted: removed at close. */
  private readonly privateDir: string | undefined;
  private tracer: Tracer | undefined;
  private readonly queries: Query;
  private exportDir: ExportDir | undefined;
  /** The attach or launch the server began at start (--attach, --launch): tool calls wait for it. */
  private starting: { what: string; done: Promise<void>; since: number } | undefined;
  private startError: string | undefined;
  /** How other nodescopes can reach this server (its MCP over HTTP URL): they are told when they find our processes. */
  endpoint: string | undefined;

  constructor(private readonly options: SessionOptions) {
    const { config } = options;
    if (options.db) this.store = new Store({ path: resolve(options.db), readonly: true });
    else {
      // Opened here first (schema, migrations), then by the writer thread; in memory is not shareable.
      const file = config.persist ? { path: resolve(config.persist_path), dir: undefined } : privateTraceFile();
      this.privateDir = file.dir;
      this.store = new Store({ path: file.path, maxEvents: config.max_events });
      this.store.retention = { ...config.retention };
      this.writer = new IngestThread({ path: file.path, maxEvents: config.max_events, retention: config.retention, slowMsPerRow: options.slowWriterMsPerRow });
    }
    this.queries = new Query(this.store);
  }

  /** The configure tool: level, sampling, size and retention, changed while tracing runs. */
  async configure(changes: { level?: Level; sampleRate?: number; maxEvents?: number; retention?: Record<string, number>; web?: boolean }): Promise<CurrentConfig> {
    if (this.options.db) throw new Error('this nodescope reads a trace file only: there is nothing to configure');
    const { config } = this.options;
    // The running tracer's policy follows below; a tracer made later starts from the config.
    if (changes.level !== undefined) config.tracing_level = changes.level;
    if (changes.sampleRate !== undefined) config.sample_rate = changes.sampleRate;
    if (changes.maxEvents !== undefined) config.max_events = this.store.maxEvents = changes.maxEvents;
    if (changes.retention !== undefined) config.retention = this.store.retention = { ...config.retention, ...changes.retention };
    if (changes.maxEvents !== undefined || changes.retention !== undefined) {
      // The writer prunes; the answer's event count is the one after it.
      this.writer!.configure({ maxEvents: changes.maxEvents, retention: changes.retention && config.retention });
      await this.writer!.settle(CONFIGURE_WAIT_MS);
    }
    if (changes.web !== undefined) config.web = changes.web;
    if (changes.level !== undefined || changes.sampleRate !== undefined || changes.web !== undefined) {
      await this.tracer?.configure({ level: changes.level, sampleRate: changes.sampleRate, web: changes.web });
    }
    return this.currentConfig();
  }

  currentConfig(): CurrentConfig {
    const { config } = this.options;
    return { tracing_level: config.tracing_level, sample_rate: config.sample_rate, max_events: config.max_events, retention: config.retention, web: config.web, events: this.eventCount() };
  }

  private eventCount(): number {
    return this.writer ? this.writer.eventCount() : this.store.eventCount();
  }

  /** Runs the attach or launch asked for at server start; until it ends, `ready()` holds tool calls back. */
  begin(what: string, job: Promise<unknown>): Promise<void> {
    const done = job.then(
      () => undefined,
      (error: Error) => {
        this.startError = `${what} failed: ${error.message}`;
        throw error;
      },
    );
    const entry = { what, done: done.catch(() => undefined), since: Date.now() };
    this.starting = entry;
    void entry.done.then(() => {
      if (this.starting === entry) this.starting = undefined;
    });
    return done;
  }

  /** Waits for the attach or launch begun at start; past READY_WAIT_MS, says it is still in progress. */
  async ready(): Promise<void> {
    const starting = this.starting;
    if (!starting) return;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([starting.done.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), READY_WAIT_MS)))]);
    clearTimeout(timer);
    if (!finished) throw new Error(`${starting.what} is in progress (${Math.round((Date.now() - starting.since) / 1000)} s so far); call again in a moment`);
  }

  async sync(): Promise<number> {
    return (await this.tracer?.sync()) ?? 0;
  }

  async syncForQuestion(): Promise<string | undefined> {
    if (!this.tracer) return undefined;
    const { unwritten, late } = await this.tracer.syncForQuestion();
    const notes = [
      ...(late.length ? [`${late.join(', ')} busy: ${late.length === 1 ? 'its' : 'their'} latest events may be missing`] : []),
      ...(unwritten ? [`${unwritten.toLocaleString('en-US')} events still being written`] : []),
    ];
    return notes.length ? `(${notes.join('; ')})` : undefined;
  }

  busyThreads(): string[] {
    return this.tracer?.busyThreads() ?? [];
  }

  /** Queries read what is committed; a read-only tool's question was synced first (sync), within its bound. */
  get query(): Query {
    this.tracer?.ingest.post();
    return this.queries;
  }

  resolveActor(ref: string) {
    this.tracer?.ingest.post();
    return resolveActor(this.store, ref);
  }

  private tracerFor(action: string): Tracer {
    if (this.options.db) throw new Error(`cannot ${action}: this nodescope reads the trace file ${this.options.db} only`);
    this.tracer ??= new Tracer(
      this.store,
      {
        level: this.options.config.tracing_level,
        sampleRate: this.options.config.sample_rate,
        redact: this.options.config.redact,
        web: this.options.config.web,
        traceAll: this.options.config.trace_all,
      },
      this.writer,
    );
    this.tracer.endpoint ??= this.endpoint;
    return this.tracer;
  }

  private summary(link: ProcessLink): TargetSummary {
    this.tracer?.ingest.flush();
    return { pid: link.pid, actor: link.actor, url: link.url, tree: this.supervisionTree() };
  }

  async launch(command: string[], options: { cwd?: string; traceModules?: string[]; web?: boolean; progress?: Progress } = {}): Promise<TargetSummary> {
    const tracer = this.tracerFor('launch');
    if (options.web !== undefined) await this.configure({ web: options.web });
    // Registered before the program starts, so its agent wraps them as they are first required.
    for (const module of options.traceModules ?? []) await tracer.traceModule({ module, ...DEFAULT_TRACE_LIMITS }, { onlyLater: true });
    const link = await heartbeat(options.progress, `starting ${command.join(' ')}`, () => tracer.launch(command, options));
    return this.summary(link);
  }

  async traceModule(spec: ModuleSpec) {
    return this.attachedTracer('trace a module').traceModule(spec);
  }

  async untraceModule(name: string) {
    return this.attachedTracer('untrace a module').untraceModule(name);
  }

  async untrack(actor: string) {
    return this.attachedTracer('stop tracking an object').untrack(actor);
  }

  async traces() {
    return this.tracer ? this.tracer.traces() : [];
  }

  async traceLine(request: ProbeRequest) {
    return this.attachedTracer('set a probe').traceLine(request);
  }

  async untraceLine(id?: string) {
    return this.tracer ? this.tracer.untraceLine(id) : [];
  }

  probes() {
    return this.tracer?.probes.list() ?? [];
  }

  async findInstances(className: string) {
    return this.attachedTracer('find instances').findInstances(className);
  }

  async track(ref: string) {
    return this.attachedTracer('track an object').track(ref);
  }

  async attach(target: string, options: { web?: boolean; progress?: Progress } = {}): Promise<TargetSummary> {
    const tracer = this.tracerFor('attach');
    if (options.web !== undefined) await this.configure({ web: options.web });
    const link = await heartbeat(options.progress, `attaching to ${target}`, () => tracer.attach(target));
    return this.summary(link);
  }

  async detach(): Promise<{ detached: number[] }> {
    if (!this.tracer) return { detached: [] };
    const detached = [...this.tracer.links.keys()];
    await this.tracer.detach();
    return { detached };
  }

  private attachedTracer(action: string): Tracer {
    const tracer = this.tracerFor(action);
    if (tracer.links.size === 0) throw new Error(`cannot ${action}: nothing is attached; use launch or attach first`);
    return tracer;
  }

  async processInfo(actor: string) {
    return this.attachedTracer('read process info').processInfo(actor);
  }

  /** The .cpuprofile goes below the export folder, as exports do (kept after the session, to be opened). */
  async cpuProfile(actor: string, durationMs: number, progress?: Progress) {
    const name = `nodescope-${actor.replace(/\//g, '-')}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`;
    const save = (json: string) => this.writeExport(undefined, json, name);
    return this.attachedTracer('profile').cpuProfile(actor, durationMs, save, (elapsed) => progress?.(elapsed, durationMs, `profiling ${actor}`));
  }

  async evaluate(actor: string, expression: string) {
    if (!this.options.config.allow_evaluate) {
      throw new Error('evaluate is off: it runs code inside the target, so the server must be started with --allow-evaluate (or NODESCOPE_ALLOW_EVALUATE=true)');
    }
    return this.attachedTracer('evaluate').evaluate(actor, expression);
  }

  /** The stop tool: detach from everything and make a persisted trace file complete on its own. */
  async stop(): Promise<{ detached: number[]; events: number; file: string | null }> {
    const { detached } = await this.detach();
    const persisted = this.options.config.persist && !this.options.db;
    if (persisted) await this.writer?.checkpoint();
    return { detached, events: this.eventCount(), file: persisted ? (this.store.path ?? null) : null };
  }

  /** Writes an export below the export folder only (export_dir.ts); answers the path written. */
  writeExport(path: string | undefined, text: string, fallbackName: string): string {
    if (!this.exportDir) {
      const { config, db } = this.options;
      const auto = defaultExportDir({ persist: config.persist, persist_path: config.persist_path, db });
      this.exportDir = config.export_dir ? new ExportDir(resolve(config.export_dir)) : new ExportDir(auto.dir, auto.owned);
    }
    return this.exportDir.write(path, text, fallbackName);
  }

  supervisionTree() {
    this.tracer?.ingest.post();
    return supervisionTree(this.store);
  }

  warnings(): string[] {
    return [...(this.startError ? [this.startError] : []), ...(this.writer?.problem ? [this.writer.problem] : []), ...(this.tracer?.warnings() ?? [])];
  }

  /** Stops tracing (ending a launched program) and closes the store. An attach still under way is undone too. */
  async dispose(): Promise<void> {
    await this.tracer?.close();
    await this.writer?.close();
    this.store.close();
    if (this.privateDir) rmSync(this.privateDir, { recursive: true, force: true });
  }
}

/**
 * Reports `what` with the seconds elapsed, at once and then every second until `work` settles, and a last
 * report with the total when it is done: launch and attach wait on the target (its start, SIGUSR1, the port
 * lock, worker agents) for up to 15 s, and each report also tells a client that resets its timeout on
 * progress that the call is alive. MCP wants the progress value to grow with every notification.
 */
async function heartbeat<T extends { pid: number }>(progress: Progress | undefined, what: string, work: () => Promise<T>): Promise<T> {
  if (!progress) return work();
  const started = Date.now();
  let step = 0;
  progress(step, undefined, what);
  const timer = setInterval(() => progress(++step, undefined, `${what} (${Math.round((Date.now() - started) / 1000)} s)`), 1_000);
  let result: T;
  try {
    result = await work();
  } finally {
    clearInterval(timer);
  }
  progress(step + 1, step + 1, `pid ${result.pid}: agent installed`);
  return result;
}

/**
 * Cleans up however the server ends: SIGINT, SIGTERM, SIGHUP, stdin closed (the stdio client is gone), or an
 * exception in the server. `cleanup` gets `deadlineMs` and then the process exits regardless; whatever it
 * could not undo, the agents undo themselves once they see the host gone (SIGKILL leaves no other choice).
 */
export function cleanUpOnEnd(cleanup: () => Promise<unknown>, options: { stdin?: boolean; deadlineMs?: number } = {}): (code: number) => Promise<void> {
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(code), options.deadlineMs ?? 8_000).unref();
    await cleanup().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(130));
  process.on('SIGTERM', () => void shutdown(143));
  process.on('SIGHUP', () => void shutdown(129));
  if (options.stdin) {
    process.stdin.on('close', () => void shutdown(0));
    process.stdin.on('end', () => void shutdown(0));
  }
  const crash = (error: unknown) => {
    process.stderr.write(`nodescope: ${(error as Error)?.stack ?? String(error)}\n`);
    void shutdown(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  return shutdown;
}
