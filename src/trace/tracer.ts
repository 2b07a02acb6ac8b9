// The tracer: the registry of inspected processes of one family, and the three ways in (launch, attach by
// pid, attach by inspector address). It follows the family: workers through each ProcessLink, child
// processes through announcements (launch) or spawn events and /proc (attach).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import type { ModuleReport, ModuleSpec } from '../agent/modules.js';
import type { TrackResult } from '../agent/objects.js';
import type { AgentConfig, AgentOwner, Level } from '../shared/protocol.js';
import type { ThreadLink } from './thread.js';
import type { Store } from '../store/store.js';
import type { IngestThread } from './ingest_thread.js';
import {
  announceDirOf,
  catchesSigusr1,
  connectedClients,
  flaggedInspectorPorts,
  DEFAULT_INSPECTOR_PORT,
  inspectorUrl,
  isNodeProcess,
  listenerOf,
  listeningPorts,
  nodeChildren,
  noteAlive,
  portInUse,
  processExists,
  within,
  processStart,
  zombieExit,
  readHeld,
  removeHeld,
  samePidNamespace,
  snapshotsOnSigusr1,
  sleep,
  waitFor,
  writeHeld,
} from './discovery.js';
import { Ingest } from './ingest.js';
import { resolveModuleName, type Loaded } from './module_names.js';
import { redactJson } from '../shared/redact.js';
import { announcePreloadPath, isOwnFile } from './paths.js';
import { ProcessLink } from './process_link.js';
import { cpuProfile, type ProfileSummary, type SaveProfile } from './profile.js';
import { releaseProcess, relocateInspector, withPortLock } from './relocate.js';
import { locateEvent, pathOf } from './sourcemaps.js';
import { RecordingPolicy } from './policy.js';
import { Probes, type ProbeInfo, type ProbeRequest } from './probes.js';

export interface TracerOptions {
  /** Where the recording policy starts (Tracer.policy; configure() changes it). */
  level: Level;
  sampleRate: number;
  /** Source of a case-insensitive RegExp for keys whose values are redacted; empty for the built-in secret words (src/shared/redact.ts). */
  redact: string;
  /** Record HTTP traffic with a correlation id per incoming request. */
  web?: boolean;
  /** Follow the whole family: worker threads and child processes (default true). */
  traceAll?: boolean;
}

/** Empty: the built-in secret words, matched as whole words in any case convention (src/shared/redact.ts). */
export const DEFAULT_REDACT = '';

export interface LaunchOptions {
  cwd?: string;
  env?: Record<string, string>;
}

/** Sane defaults for a trace: it stops itself when one trips, and says why. */
export const DEFAULT_TRACE_LIMITS = { maxCalls: 100_000, maxPerSecond: 10_000, durationMs: 30 * 60_000 };

/** How long a spawned child has to announce itself before we try SIGUSR1 (attach mode). */
const ANNOUNCE_GRACE_MS = 300;
/** An agent that hears nothing from its host for this long removes itself (host frozen, or not on our pid namespace). */
const SILENCE_MS = 60_000;
/**
 * How long a question waits for the writer thread to commit what arrived before it (issue 10: tools answer
 * within 50 ms under a flood, and asking the agents is a round trip of its own, ~20–40 ms to a busy target
 * on a loaded machine). Past it, the answer is given from what is committed and says so. Under a flood the
 * backlog (MAX_BACKLOG_EVENTS, ~100 ms of writing) is never caught up within any bound short enough: waiting
 * longer only leaves out fewer rows.
 */
const SYNC_WAIT_MS = 20;
/**
 * A remainder this small is waited for all the same: ~4 ms of writing (~8.5 µs an event), late only when the
 * writer thread is starved of CPU, and a question about what just happened must not miss it.
 */
const SMALL_REMAINDER = 500;
/**
 * Under a flood (more than FLOOD_PER_SECOND events a second arriving, more than SMALL_REMAINDER events
 * waiting, or a thread with more than TRAILING_BATCHES batches on their way), how long a question waits for
 * the agents to hand over what they hold: a thread busy with a flood answers the host's call late (0.3–0.9 s
 * measured in the flood test), and the backlog is never caught up: the question is answered from what is
 * written and names what it may lack. A thread that did not answer within this once is not waited for again
 * while the flood lasts (see Tracer.busy): in the flood test no flooding thread ever answered within it, so
 * every answer paid it for nothing. Without a flood the agents get QUIET_AGENT_WAIT_MS, so a question about
 * what just happened never misses it.
 */
const FLOOD_WAIT_MS = 5;
/**
 * How long a flood counts as going on after the last sign of it a question saw. While the writer thread
 * catches up after falling behind, the host has withheld its acks and receives little: the backlog and the
 * rate can both read 0 for a moment while the target floods on (up to 0.3 s in the flood test). Questions
 * asked then waited for the flooding threads as in a quiet moment: 56–218 ms each, every one over 50 ms.
 * After a flood, answers for this long say what they lack rather than wait for threads that were busy.
 */
const FLOOD_LINGER_MS = 1_000;
/**
 * Without a flood, how long a question waits for the agents: a round trip is a few ms, and a thread that has
 * not answered in this long is paused (another debugger's breakpoint) or starved, and would keep the question
 * until the inspector's own timeout (15 s); it is named in the answer instead.
 */
const QUIET_AGENT_WAIT_MS = 2_000;
/**
 * A thread with more batches than this still on their way when it answers a question's flush is in a flood
 * the rate above has not seen yet (its first second): 8 batches of 256 events are ~25 ms of the host's
 * decoding. The question does not wait for them and names the thread. Measured: the first question of a
 * flood waited 0.3–0.4 s for them.
 */
const TRAILING_BATCHES = 8;
const FLOOD_PER_SECOND = 10_000;

export class Tracer {
  readonly ingest: Ingest;
  /** What is recorded: the one owner of the level and sampling rate (its agents get copies in their config). */
  readonly policy: RecordingPolicy;
  readonly links = new Map<number, ProcessLink>();
  private readonly connecting = new Set<number>();
  private readonly binding = `__nodescope_${randomBytes(6).toString('hex')}`;
  private announceDir: string | undefined;
  private watcher: FSWatcher | undefined;
  private readonly launched: ChildProcess[] = [];
  /** Which launch each announced process belongs to (inherited through the environment by its descendants). */
  private readonly launchOf = new Map<number, string>();
  /** trace_all off: the one process of each launch that is traced. */
  private readonly rootOfLaunch = new Map<string, number>();
  private readonly errors: string[] = [];
  /** This tracer, as its agents record it: another nodescope reads it and leaves our processes alone. */
  readonly ownerId = randomBytes(8).toString('hex');
  private readonly since = Date.now();
  /** How to reach the server this tracer runs in (its MCP over HTTP URL), told to other nodescopes. */
  endpoint: string | undefined;
  /** Links being set up: close() waits for them, so none is left installed behind it. */
  private readonly starting = new Set<Promise<void>>();
  private closed = false;

  /** `writer`: the thread that writes the store (the server's); without it, rows are written on this one. */
  constructor(
    readonly store: Store,
    private readonly options: TracerOptions,
    writer?: IngestThread,
  ) {
    this.policy = new RecordingPolicy(options.level, options.sampleRate);
    this.ingest = new Ingest(store, writer, this.policy);
    this.ingest.locate = (type, subtype, actor, payload) => {
      locateEvent(type, payload);
      if (type === 'probe') {
        if (subtype === 'error') this.probes.noteError(actor, payload);
        else this.probes.counted(subtype, payload);
      }
    };
    this.ingest.onLifecycle((row, payload) => {
      if (row.type === 'child' && row.subtype === 'spawn' && typeof payload?.pid === 'number' && this.options.traceAll !== false) void this.followChild(payload.pid);
      // A breakpoint trace whose limits tripped: its breakpoints would go on costing a hit each call.
      // A trace whose limits tripped: its edits and breakpoints go (an untrace call removes them itself).
      if (row.type === 'agent' && row.subtype === 'trace_stopped' && /^(reached|exceeded) /.test(String(payload?.reason))) void this.stopBreakpoints(row.actor, String(payload?.trace));
      if (row.type === 'agent' && row.subtype === 'trace_started' && payload?.required === true) void this.ownFunctionsInstead(row.actor, String(payload.module), String(payload.resolved));
      if (row.type === 'agent' && row.subtype === 'rebound') void (async () => this.thread(row.actor).esm.rebound(String(payload?.module), String(payload?.fn)))().catch(() => undefined);
    });
  }

  /** A module traced before it loaded, just wrapped as it was required: see ThreadLink.ownFunctionsInstead. */
  private async ownFunctionsInstead(actor: string, module: string, resolved: string): Promise<void> {
    const spec = this.modules.find((m) => m.module === module);
    try {
      if (spec) await this.thread(actor).ownFunctionsInstead(spec, resolved);
    } catch {
      // the thread ended meanwhile
    }
  }

  /** trace_line's probes, in every thread now and in threads that appear later. */
  readonly probes = new Probes(() => this.threads());

  /** Modules traced so far: threads and processes that appear later trace them from their first line. */
  private readonly modules: ModuleSpec[] = [];

  /** One object shared by every link, so configure() reaches threads and processes that appear later. */
  private agentShared: Omit<AgentConfig, 'actor' | 'fromStart' | 'name' | 'parent' | 'url'> | undefined;

  private agentConfig(): Omit<AgentConfig, 'actor' | 'fromStart' | 'name' | 'parent' | 'url'> {
    return (this.agentShared ??= {
      modules: this.modules,
      web: this.options.web ?? false,
      binding: this.binding,
      data: this.ingest.data()?.agentConfig(),
      level: this.policy.level,
      sampleRate: this.policy.sampleRate,
      redact: this.options.redact,
      batchSize: 256,
      maxQueue: 20_000,
      // Binding calls made after the WebSocket dropped (before the agent notices) are at most this many per
      // thread; heavy binding traffic during a drop crashed Node 20's inspector (issue 10). Acked every 4.
      maxInFlight: 16,
      flushMs: 10,
    });
  }

  /** Kept for the answers; bounded, since a program may start children without end. */
  private warn(text: string): void {
    if (this.errors.length < 50) this.errors.push(text);
  }

  /** Problems met while following the family (a child that could not be attached, …), for the answers. */
  warnings(): string[] {
    return [...this.errors, ...[...this.links.values()].flatMap((l) => l.warnings), ...this.threads().flatMap((t) => t.esm.problems)];
  }

  private owner(pid: number): AgentOwner {
    // The agent watches our pid only when it means the same process on its side (not across containers).
    const local = samePidNamespace(pid);
    return {
      id: this.ownerId,
      ...(local ? { hostPid: process.pid, hostStart: processStart('self') } : {}),
      ...(this.endpoint ? { endpoint: this.endpoint } : {}),
      since: this.since,
      silenceMs: SILENCE_MS,
    };
  }

  /** Keeps count of setups under way (close() waits for them). */
  private underway<T>(job: Promise<T>): Promise<T> {
    const settled = job.then(() => undefined, () => undefined);
    this.starting.add(settled);
    void settled.then(() => this.starting.delete(settled));
    return job;
  }

  private link(url: string, pid: number | undefined, fromStart: boolean, openedByUs: boolean): Promise<ProcessLink> {
    return this.underway(this.startLink(url, pid, fromStart, openedByUs));
  }

  private async startLink(url: string, pid: number | undefined, fromStart: boolean, openedByUs: boolean): Promise<ProcessLink> {
    // Started even when closing: start + detach is what closes a port we already opened (SIGUSR1, preload).
    const link = new ProcessLink({ url, pid, fromStart, openedByUs, followWorkers: this.options.traceAll !== false, agent: this.agentConfig(), ingest: this.ingest, owner: (p) => this.owner(p), onThread: (t) => this.probes.onThread(t), probing: () => this.probes.list().some((p) => p.state === 'active') });
    const port = Number(new URL(url).port);
    const note = (p: number, opened: boolean) => writeHeld({ pid: p, start: processStart(p) ?? '', port, ownerId: this.ownerId, hostPid: process.pid, hostStart: processStart('self') ?? '', ...(this.endpoint ? { endpoint: this.endpoint } : {}), openedByUs: opened });
    // Noted before the agents install as well: a nodescope killed while attaching leaves its port findable
    // (a next one would otherwise signal a process whose inspector is open, which opens nothing).
    // Not over the note of a live nodescope that holds it: this attach is about to be refused.
    const other = pid === undefined ? undefined : readHeld(pid);
    if (port && pid !== undefined && (other === undefined || !noteAlive(other))) note(pid, openedByUs);
    try {
      await link.start();
    } catch (error) {
      if (pid !== undefined) removeHeld(pid, this.ownerId);
      throw error;
    }
    if (this.closed) {
      // Closed while this attach was under way (a client that left at once): undone, not left behind.
      await link.detach().catch(() => undefined);
      removeHeld(link.pid, this.ownerId);
      throw new Error('nodescope is closing');
    }
    this.links.set(link.pid, link);
    if (port) note(link.pid, link.openedByUs);
    link.onEnd((l) => this.onLinkEnd(l));
    return link;
  }

  private onLinkEnd(link: ProcessLink): void {
    removeHeld(link.pid, this.ownerId);
    this.ingest.flush();
    // An exiting process (the inspector waits for us to leave) takes its workers with it.
    if (link.state === 'exited') this.endWorkers(link);
    if (link.state === 'lost' || link.state === 'exited') void this.recordGone(link);
  }

  /**
   * Workers end with their process, and no 'exit' of theirs runs then (process.exit, a signal): without a
   * word here they were listed as running for ever.
   */
  private endWorkers(link: ProcessLink): void {
    for (const worker of link.workers.keys()) {
      if (this.store.actor(worker)?.ended_ms !== null) continue;
      this.ingest.record({ type: 'worker', subtype: 'exit', actor: worker, from_actor: null, to_actor: null, corr: null, ref: null, payload: JSON.stringify({ code: null, gone: true }) });
    }
    this.ingest.flush();
  }

  /**
   * A process gone without an exit event (a signal, or a crash of the runtime): what we know is recorded,
   * which is how it ended while it is a zombie (a detached process whose parent left, under a pid 1 that
   * does not reap). Its inspector closes while it is still tearing down: it is given 3 s to be gone.
   */
  private async recordGone(link: ProcessLink): Promise<void> {
    const ended = () => this.store.actor(link.actor)?.ended_ms !== null;
    if (ended() || !(await waitFor(() => (processExists(link.pid) ? undefined : true), 3_000, 50))) return;
    if (!this.store.db.open) return;
    this.ingest.flush();
    if (ended()) return;
    const how = zombieExit(link.pid);
    this.ingest.record({ type: 'process', subtype: 'exit', actor: link.actor, from_actor: null, to_actor: null, corr: null, ref: null, payload: JSON.stringify(how ? { ...how, source: 'os' } : { code: null, signal: null, gone: true }) });
    this.endWorkers(link);
  }

  // ---------------------------------------------------------------- launch

  /**
   * Starts a command line that runs node, with a preload (through NODE_OPTIONS) that opens the inspector on
   * a random loopback port in every Node process of the family and waits for the agent. Resolves when the
   * first process is attached and running.
   */
  async launch(command: string[], options: LaunchOptions = {}): Promise<ProcessLink> {
    if (command.length === 0) throw new Error('launch needs a command, for example ["node", "app.js"]');
    this.ensureAnnounceDir();
    const env = { ...process.env, ...options.env };
    const preload = announcePreloadPath();
    env.NODE_OPTIONS = [env.NODE_OPTIONS, `--require ${JSON.stringify(preload)}`, '--inspect-publish-uid=http'].filter(Boolean).join(' ');
    env.NODESCOPE_ANNOUNCE_DIR = this.announceDir!;
    const launchId = randomBytes(6).toString('hex');
    env.NODESCOPE_LAUNCH = launchId;
    const child = spawn(command[0]!, command.slice(1), { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.launched.push(child);
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 50) output.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('exit', (code, signal) => this.onLaunchedExit(child, code, signal));
    const spawned = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', (error) => reject(new Error(`cannot start ${command[0]}: ${error.message}`)));
    });
    // The process this launch started: the spawned pid itself, or (a wrapper such as `sh -c` or npx) the
    // first Node process of this launch to announce itself.
    const link = await waitFor(() => {
      const links = [...this.links.values()];
      const found = links.find((l) => l.pid === spawned) ?? links.find((l) => this.launchOf.get(l.pid) === launchId);
      // Attached, then ended at once (a missing main module): launched all the same, and its crash recorded.
      if (found) return found;
      return child.exitCode !== null || child.signalCode !== null ? null : undefined;
    }, 15_000);
    if (!link) {
      // --inspect-brk (or -wait) holds the process before anything runs, the preload included.
      const held = child.exitCode === null && /--inspect-(?:brk|wait)\b/.test(`${command.join(' ')} ${env.NODE_OPTIONS}`);
      const ports = held ? listeningPorts(spawned) : [];
      const why =
        child.exitCode !== null
          ? `it exited with code ${child.exitCode}`
          : held
            ? `it waits for a debugger before running anything (--inspect-brk), nodescope's preload included${ports.length ? `, at 127.0.0.1:${ports.join(', 127.0.0.1:')}` : ''}: let it go from your debugger, or launch without that flag`
            : 'no Node process announced itself within 15 s';
      throw new Error(`launch of pid ${spawned} failed: ${why}. Its output ended with: ${output.join('').slice(-500) || '(nothing)'}`);
    }
    return link;
  }

  private ensureAnnounceDir(): void {
    if (this.announceDir) return;
    this.announceDir = mkdtempSync(join(tmpdir(), 'nodescope-'));
    const dir = this.announceDir;
    this.watcher = watch(dir, (_event, file) => {
      if (file && /^\d+\.json$/.test(file)) void this.onAnnounce(join(dir, file));
    });
    // fs.watch can miss an event under load, and a process that announced itself waits for us for ever:
    // the folder is also looked at twice a second.
    const sweep = setInterval(() => {
      if (this.announceDir !== dir) return clearInterval(sweep);
      try {
        for (const file of readdirSync(dir)) if (/^\d+\.json$/.test(file)) void this.onAnnounce(join(dir, file));
      } catch {
        clearInterval(sweep);
      }
    }, 500).unref();
  }

  private async onAnnounce(file: string): Promise<void> {
    let note: { pid: number; url?: string; opened?: boolean; launch?: string; untraced?: { argv: string[]; why: string } };
    try {
      note = JSON.parse(readFileSync(file, 'utf8'));
      rmSync(file, { force: true });
    } catch {
      return; // already handled, or not complete yet (fs.watch fires more than once)
    }
    if (!note.url) return this.warn(`pid ${note.pid} (node ${note.untraced?.argv.join(' ')}) is not traced: ${note.untraced?.why}; the processes it starts are`);
    if (this.links.has(note.pid) || this.connecting.has(note.pid)) return;
    if (note.launch) this.launchOf.set(note.pid, note.launch);
    // Without trace_all only the launched process is traced — the first of its launch to announce itself
    // (a parent announces before it can fork): a descendant is let go at once (it waits for us), and the
    // inspector its preload opened is closed.
    if (this.options.traceAll === false) {
      const root = note.launch === undefined ? undefined : this.rootOfLaunch.get(note.launch);
      if (root !== undefined ? root !== note.pid : this.links.size > 0) return void releaseProcess(note.url, note.opened !== false).catch(() => undefined);
      if (note.launch !== undefined) this.rootOfLaunch.set(note.launch, note.pid);
    }
    this.connecting.add(note.pid);
    try {
      await this.link(note.url, note.pid, true, note.opened !== false);
    } catch (error) {
      // A process that ended while it was being linked (killed as it started) has nothing to warn about.
      if (!(await this.endedWithin(note.pid))) this.warn(`pid ${note.pid}: ${(error as Error).message}`);
    } finally {
      this.connecting.delete(note.pid);
    }
  }

  /** The OS's word on a process we started (waitpid): recorded unless the agent already reported the same. */
  private onLaunchedExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.store.db.open) return; // ended after nodescope closed: nothing to record it in
    this.ingest.flush();
    const actor = this.store.actor(String(child.pid));
    if (actor && (actor.ended_ms === null || actor.exit_code !== code || (actor.exit_signal ?? null) !== signal)) {
      this.ingest.record({ type: 'process', subtype: 'exit', actor: String(child.pid), from_actor: null, to_actor: null, corr: null, ref: null, payload: JSON.stringify({ code, signal, source: 'os' }) });
      this.ingest.flush();
    }
  }

  // ---------------------------------------------------------------- attach

  /** Attaches to a running process: an OS pid, `host:port` of an open inspector, or its ws:// URL. */
  async attach(target: string | number): Promise<ProcessLink> {
    const spec = String(target).trim();
    if (/^\d+$/.test(spec)) return this.attachPid(Number(spec));
    if (/^wss?:\/\//.test(spec)) return this.follow(await this.link(spec, undefined, false, false));
    const m = /^(?:([\w.-]+|\[[\d:]+\]):)?(\d+)$/.exec(spec);
    if (m) {
      const host = m[1] ?? '127.0.0.1';
      return this.follow(await this.link(await inspectorUrl(host, Number(m[2])), undefined, false, false));
    }
    throw new Error(`cannot attach to "${spec}": give an OS pid (4242), an inspector address (127.0.0.1:9229) or a ws:// URL`);
  }

  /** Opens the inspector of a process that was started with no flags (SIGUSR1) and attaches to it. */
  attachPid(pid: number): Promise<ProcessLink> {
    return this.underway(this.attachPidNow(pid));
  }

  private async attachPidNow(pid: number): Promise<ProcessLink> {
    const known = this.links.get(pid);
    if (known) return known;
    if (!processExists(pid)) throw new Error(`no process with pid ${pid}`);
    if (!isNodeProcess(pid)) throw new Error(`pid ${pid} is not a Node.js process`);
    this.connecting.add(pid);
    try {
      const { url, openedByUs } = await this.openInspector(pid);
      return this.follow(await this.link(url, pid, false, openedByUs));
    } finally {
      this.connecting.delete(pid);
    }
  }

  /**
   * Finds or opens the inspector of a process. Only ports known to be inspectors are asked (the one another
   * nodescope noted, the ones its flags name, the one that appears after SIGUSR1): never the application's
   * own ports, which would see our requests.
   */
  private async openInspector(pid: number): Promise<{ url: string; openedByUs: boolean }> {
    const held = readHeld(pid);
    if (held && held.ownerId !== this.ownerId && listeningPorts(pid).includes(held.port)) {
      if (noteAlive(held)) {
        const url = await inspectorUrl('127.0.0.1', held.port, 1_000).catch(() => undefined);
        if (url) return { url, openedByUs: held.openedByUs };
      } else {
        // Its host died (SIGKILL leaves its notes behind): its agent's watchdog (1 s) is about to close a port
        // nodescope opened; SIGUSR1 then opens ours.
        removeHeld(pid, held.ownerId);
        if (held.openedByUs && !(await waitFor(() => (listeningPorts(pid).includes(held.port) ? undefined : true), 3_000))) {
          // Still open (its watchdog late on a busy machine: SIGUSR1 would do nothing): the orphan's port is
          // taken over instead, its agent released as the link starts (ProcessLink.start).
          const url = await inspectorUrl('127.0.0.1', held.port, 1_000).catch(() => undefined);
          if (url) return { url, openedByUs: true };
        }
      }
    }
    const flagged = flaggedInspectorPorts(pid);
    for (const port of listeningPorts(pid).filter((p) => flagged.includes(p))) {
      const url = await inspectorUrl('127.0.0.1', port, 500).catch(() => undefined);
      if (url) return { url, openedByUs: false };
    }
    if (!(await waitFor(() => catchesSigusr1(pid) || undefined, 2_000))) {
      throw new Error(`pid ${pid} does not handle SIGUSR1 (still starting, or run with --disable-sigusr1): not signalled, as it would die`);
    }
    if (snapshotsOnSigusr1(pid)) {
      throw new Error(`pid ${pid} writes a heap snapshot on SIGUSR1 (--heapsnapshot-signal=SIGUSR1): not signalled, as that pauses it and opens no inspector; start it with --inspect=127.0.0.1:<port> and attach by address`);
    }
    // SIGUSR1 opens the process's configured port, 9229 unless --inspect-port said otherwise. Every
    // nodescope on this machine wants that port for a moment, so they take turns through a lock file.
    return withPortLock(async () => {
      let moved: { pid: number; url: string } | undefined;
      // Other nodescopes only move inspectors while holding the lock: whoever holds 9229 now stays there.
      const holder = portInUse(DEFAULT_INSPECTOR_PORT) ? listenerOf(DEFAULT_INSPECTOR_PORT) : undefined;
      if (holder !== undefined) {
        // A foreign inspector sits on 9229: move it aside for the moment and put it back after.
        const debuggers = connectedClients(holder, DEFAULT_INSPECTOR_PORT); // counted before our own request
        const url = await inspectorUrl('127.0.0.1', DEFAULT_INSPECTOR_PORT, 500).catch(() => undefined);
        if (!url) throw new Error(`port ${DEFAULT_INSPECTOR_PORT} is held by pid ${holder}, which is not a Node inspector: SIGUSR1 cannot open one for pid ${pid}`);
        // Moving it would cut the session of the nodescope that traces it.
        const note = readHeld(holder);
        if (note && note.ownerId !== this.ownerId && noteAlive(note)) {
          throw new Error(`port ${DEFAULT_INSPECTOR_PORT} is held by the inspector of pid ${holder}, which the nodescope with pid ${note.hostPid} traces: SIGUSR1 cannot open one for pid ${pid} until it lets go`);
        }
        // Or disconnect the debugger someone has connected to it.
        if (debuggers > 0 && note?.ownerId !== this.ownerId) {
          throw new Error(`port ${DEFAULT_INSPECTOR_PORT} is held by the inspector of pid ${holder}, which a debugger is connected to: nodescope does not disconnect it, so SIGUSR1 cannot open one for pid ${pid}; attach by address to a process started with --inspect=127.0.0.1:<port>, or once that debugger has gone`);
        }
        const dir = announceDirOf(holder);
        if (dir !== undefined && !existsSync(dir)) {
          // A launched process that announced itself to a nodescope that is gone: it waits in the preload for
          // ever (no timer runs there, so it cannot be moved) and holds 9229 for every attach on this machine.
          // Let go: it runs on untraced and closes the port the preload opened.
          await releaseProcess(url).catch(() => undefined);
          if (!(await waitFor(() => (portInUse(DEFAULT_INSPECTOR_PORT) ? undefined : true), 3_000))) {
            throw new Error(`port ${DEFAULT_INSPECTOR_PORT} is held by pid ${holder}, left waiting by a nodescope that is gone, and it did not let go`);
          }
        } else {
          moved = { pid: holder, url: await relocateInspector(url, holder, 0) };
        }
      }
      // The app may listen on ports of its own: the inspector's is the one that appears after the signal.
      // Another try covers an inspector that was closing as we signalled (a nodescope that just detached
      // closes the port it opened a moment later: SIGUSR1 does nothing while it is still open, and a port
      // it opened in between can be the one that close then takes).
      let port: number | undefined;
      let url: string | undefined;
      for (let attempt = 0; url === undefined && attempt < 3; attempt++) {
        if (attempt > 0) await sleep(300);
        const before = listeningPorts(pid);
        process.kill(pid, 'SIGUSR1');
        port = await waitFor(() => listeningPorts(pid).find((p) => !before.includes(p)), attempt === 0 ? 1_500 : 3_000);
        if (port !== undefined) url = await this.openedInspector(pid, port);
      }
      if (port === undefined) {
        // SIGUSR1 does nothing when the inspector is already open on a port no flag names (opened from inside
        // the app, or by a nodescope that left no note). Its other ports may be the app's own: not asked.
        const ports = listeningPorts(pid);
        throw new Error(
          `pid ${pid} opened no inspector port after SIGUSR1` +
            (ports.length > 0 ? `: its inspector is probably open already on one of its ports (${ports.join(', ')}), which nodescope does not probe since they may be the application's own; attach with 127.0.0.1:<port> if you know which` : ''),
        );
      }
      if (url === undefined) throw new Error(`pid ${pid} closed the inspector port SIGUSR1 opened, three times: is another debugger or nodescope opening and closing it? Attach again`);
      if (moved) await relocateInspector(moved.url, moved.pid, DEFAULT_INSPECTOR_PORT).catch(() => undefined);
      return { url, openedByUs: true };
    });
  }

  /**
   * The address of the inspector SIGUSR1 opened on `port`, moved off 9229 (each SIGUSR1 of the family wants
   * it); undefined when the port closed under us: a close a detaching nodescope scheduled ran after it opened.
   */
  private async openedInspector(pid: number, port: number): Promise<string | undefined> {
    const url = await inspectorUrl('127.0.0.1', port).catch(() => undefined);
    if (url === undefined || port !== DEFAULT_INSPECTOR_PORT) return url;
    return relocateInspector(url, pid, 0).catch(() => (listeningPorts(pid).includes(port) ? url : undefined));
  }

  /** After attaching to a running process: its existing Node children are attached too, before the attach
   * answers, so a trace asked right after reaches them (a test runner's workers). */
  private async follow(link: ProcessLink): Promise<ProcessLink> {
    if (this.options.traceAll === false) return link;
    await Promise.all(nodeChildren(link.pid).map((child) => this.followChild(child, 0)));
    return link;
  }

  /** A child process appeared: attach unless it announces itself (launch mode) or is already known. */
  private async followChild(pid: number, graceMs = ANNOUNCE_GRACE_MS): Promise<void> {
    if (graceMs > 0) await new Promise((r) => setTimeout(r, graceMs).unref());
    if (this.links.has(pid) || this.connecting.has(pid) || !processExists(pid) || !isNodeProcess(pid)) return;
    // Started through our preload, it announces itself and then waits for us: a signal would race that
    // announcement (which is dropped while the pid is connecting), leaving the child waiting for ever.
    // Its note is read here in case fs.watch missed it.
    if (this.announceDir && announceDirOf(pid) === this.announceDir) {
      const note = join(this.announceDir, `${pid}.json`);
      for (let i = 0; i < 50 && !existsSync(note) && processExists(pid) && !this.links.has(pid); i++) await sleep(100);
      if (existsSync(note)) await this.onAnnounce(note);
      return;
    }
    try {
      await this.attachPid(pid);
    } catch (error) {
      if (!(await this.endedWithin(pid))) this.warn(`child ${pid}: ${(error as Error).message}`);
    }
  }

  /** Whether a process is gone, or goes within 500 ms: killed while it was being linked, its inspector
   * connection closed a moment before it was gone. */
  private async endedWithin(pid: number): Promise<boolean> {
    return (await waitFor(() => (processExists(pid) ? undefined : true), 500, 20)) === true;
  }

  private threads(): ThreadLink[] {
    return [...this.links.values()].filter((l) => l.state === 'attached').flatMap((l) => [l.main, ...l.workers.values()]);
  }

  /** Asks every thread of the family; threads that fail (ended meanwhile) are left out. */
  private async everyThread<T>(method: string): Promise<{ actor: string; value: T }[]> {
    const answers = await Promise.all(
      this.threads().map(async (t) => {
        try {
          return { actor: t.actor, value: (await t.call(method)) as T };
        } catch {
          return undefined;
        }
      }),
    );
    return answers.filter((a): a is { actor: string; value: T } => a !== undefined && a.value !== undefined && a.value !== null);
  }

  /** Changes level, sampling and web capture in every thread now and for threads that appear later. */
  async configure(changes: { level?: Level; sampleRate?: number; web?: boolean }): Promise<void> {
    const agent = this.agentConfig();
    if (changes.level !== undefined) this.policy.level = agent.level = changes.level;
    if (changes.sampleRate !== undefined) this.policy.sampleRate = agent.sampleRate = changes.sampleRate;
    if (changes.web !== undefined) this.options.web = agent.web = changes.web;
    await this.everyThread(`configure(${JSON.stringify(changes)})`);
  }

  /**
   * Brings the store up to this moment: every agent sends what it holds, and since a binding's events travel
   * on the same session ahead of the evaluation's answer, all of it has arrived when the answers have.
   * Waits at most SYNC_WAIT_MS for the writer thread (longer for a small remainder); answers the events
   * still being written then (0: none).
   */
  async sync(): Promise<number> {
    await this.flushAgents(Infinity);
    return this.ingest.settle(SYNC_WAIT_MS, SMALL_REMAINDER);
  }

  /** When a question last saw a flood (FLOOD_LINGER_MS). */
  private floodSeen = -Infinity;
  /** Per thread, its flush still unanswered: under a flood a question waits on it rather than queueing another. */
  private readonly flushing = new Map<ThreadLink, Promise<void>>();
  /**
   * Threads that did not answer a flush within FLOOD_WAIT_MS: while the flood lasts, not waited for by the
   * questions that follow, only asked to send (one call at a time), until an answer comes within it again.
   */
  private readonly busy = new Set<ThreadLink>();

  /**
   * sync() for a question. Under a flood (or within FLOOD_LINGER_MS of one) the agents get FLOOD_WAIT_MS to hand
   * over what they hold, none for a thread known busy, and the writer thread none: the answer is what is
   * written, with what it lacks. Answers the rows still being written and the threads that did not hand theirs
   * over in time.
   */
  async syncForQuestion(): Promise<{ unwritten: number; late: string[] }> {
    if (this.ingest.perSecond() > FLOOD_PER_SECOND || this.ingest.backlog() > SMALL_REMAINDER) this.floodSeen = performance.now();
    if (performance.now() - this.floodSeen > FLOOD_LINGER_MS) {
      this.busy.clear();
      const late = await this.flushAgents(QUIET_AGENT_WAIT_MS, { maxTrailing: TRAILING_BATCHES });
      return { unwritten: await this.ingest.settle(SYNC_WAIT_MS, SMALL_REMAINDER), late };
    }
    const late = await this.flushAgents(FLOOD_WAIT_MS, { maxTrailing: TRAILING_BATCHES, flood: true });
    return { unwritten: await this.ingest.settle(0), late };
  }

  /** The threads questions do not wait for while a flood lasts (Tracer.busy). */
  busyThreads(): string[] {
    return performance.now() - this.floodSeen > FLOOD_LINGER_MS ? [] : [...this.busy].map((t) => t.actor);
  }

  /**
   * Every agent sends what it holds; waits for its last batch to arrive, up to `withinMs`, and not at all for
   * a thread with more than `maxTrailing` batches still on their way (a flood the question cannot wait out).
   * Under a `flood`, a thread known busy is not waited for, and one whose last flush is still unanswered is
   * not sent another (a busy target would queue them). Answers the threads not waited for or still waited for.
   */
  private async flushAgents(withinMs: number, { maxTrailing = Infinity, flood = false } = {}): Promise<string[]> {
    const threads = this.threads();
    const waiting = new Set(threads.map((t) => t.actor));
    const waited = threads
      .map((t) => ({ t, flushed: (flood && this.flushing.get(t)) || this.flush(t, maxTrailing) }))
      .filter(({ t }) => !(flood && this.busy.has(t)));
    if (waited.length === 0) return [...waiting];
    const all = Promise.all(waited.map(({ t, flushed }) => flushed.then(() => waiting.delete(t.actor))));
    if (withinMs === Infinity) await all;
    else await within(all, withinMs);
    if (flood) for (const { t } of waited) if (waiting.has(t.actor)) this.busy.add(t);
    return [...waiting];
  }

  /**
   * One thread sends what it holds: resolves once its last batch has arrived, it ended, or it answered with
   * more than `maxTrailing` batches on their way (a flood: seen here first). How late it answered decides
   * whether questions under a flood wait for it (Tracer.busy).
   */
  private flush(t: ThreadLink, maxTrailing: number): Promise<void> {
    const asked = performance.now();
    const flushed = (async () => {
      try {
        const sent = (await t.flushNow()) as number | null | undefined;
        if (performance.now() - asked > FLOOD_WAIT_MS) this.busy.add(t);
        else this.busy.delete(t);
        // What went through the data socket may trail the answer: wait for the thread's last batch.
        if (typeof sent !== 'number') return;
        if (sent - t.lastSeq > maxTrailing) this.floodSeen = performance.now();
        else await t.arrived(sent);
      } catch {
        // a thread that ended meanwhile has nothing more to send
      }
    })();
    this.flushing.set(t, flushed);
    void flushed.then(() => this.flushing.get(t) === flushed && this.flushing.delete(t));
    return flushed;
  }

  private async stopBreakpoints(actor: string, module: string): Promise<void> {
    try {
      await this.thread(actor).esm.stop(module);
    } catch {
      // the thread is gone, and its breakpoints with it
    }
  }

  /**
   * Traces a module in every thread now and in every thread that appears later. The name is resolved
   * against what the family has loaded (src/trace/module_names.ts); an ambiguous or unknown name is refused
   * with the candidates.
   */
  async traceModule(spec: ModuleSpec, options: { onlyLater?: boolean } = {}): Promise<{ actor: string; value: ModuleReport }[]> {
    if (options.onlyLater) {
      // A program about to be launched: the name is its own, resolved by its agent from its first line,
      // whatever the processes already traced have loaded.
      this.remember(spec);
      return [];
    }
    const found = this.threads().length > 0 ? await this.resolveModule(spec.module) : undefined;
    // Its calls are recorded under one name whatever spelling started the trace: the file from the target's
    // working directory (or the TypeScript source named), so any other spelling of it finds them too.
    const full: ModuleSpec = found ? { ...spec, module: found.label, resolved: found.file } : spec;
    this.remember(full, spec.module);
    // A thread that ends meanwhile (its session closed) is left out, not the whole trace.
    const reports = (await Promise.all(this.threads().map(async (t) => ({ actor: t.actor, value: await t.traceModule(full).catch(() => undefined) })))).filter(
      (r): r is { actor: string; value: ModuleReport } => r.value !== undefined,
    );
    for (const r of reports) {
      if (r.value.status === 'esm') r.value = await this.thread(r.actor).esm.trace(full, r.value).catch((e: Error) => ({ ...r.value, status: 'unsupported' as const, note: `could not be instrumented: ${e.message}` }));
    }
    this.ingest.post();
    return reports;
  }

  /** Keeps a trace for the threads to come, in place of one asked under the same name. */
  private remember(spec: ModuleSpec, asked = spec.module): void {
    const at = this.modules.findIndex((m) => m.module === asked);
    if (at >= 0) this.modules[at] = spec;
    else this.modules.push(spec);
  }

  /** What the family has loaded, from every thread: CommonJS files from the agents, ES modules from V8. */
  async loadedModules(): Promise<Loaded> {
    const files: string[] = [];
    const roots: string[] = [];
    await Promise.all(
      this.threads().map(async (t) => {
        const cjs = (await t.call('loaded()').catch(() => undefined)) as { files: string[]; cwd: string; main: string | null } | undefined;
        if (cjs) {
          files.push(...cjs.files);
          roots.push(cjs.cwd, ...(cjs.main ? [dirname(cjs.main)] : []));
        }
        for (const url of await t.esm.loadedUrls().catch(() => [])) {
          const path = pathOf(url);
          if (path) files.push(path);
        }
      }),
    );
    return { files: [...new Set(files)].filter((f) => !isOwnFile(f)), roots: [...new Set(roots)] };
  }

  private async resolveModule(name: string): Promise<{ file: string; label: string } | undefined> {
    const loaded = await this.loadedModules();
    const resolution = resolveModuleName(name, loaded);
    if (resolution.kind === 'found') {
      const shown = resolution.source ?? resolution.file;
      const fromCwd = loaded.roots[0] === undefined ? shown : relative(loaded.roots[0], shown);
      return { file: resolution.file, label: fromCwd.startsWith('..') || isAbsolute(fromCwd) ? shown : fromCwd };
    }
    if (resolution.kind === 'package') return undefined;
    if (resolution.kind === 'ambiguous') {
      throw new Error(`"${name}" names ${resolution.candidates.length} loaded modules: ${resolution.candidates.slice(0, 10).join(', ')}. Call again with a longer part of the path.`);
    }
    throw new Error(`no loaded module is named "${name}"${resolution.closest.length ? `; closest loaded: ${resolution.closest.join(', ')}` : ''}. Give a path relative to the target's working directory, an absolute path, or a package name.`);
  }

  /** Stops a module trace everywhere: wrappers removed, edits undone, breakpoints gone; also for threads to come. */
  async untraceModule(name: string): Promise<{ actor: string; value: ModuleReport }[]> {
    const traced = await this.traces();
    const files = [...new Set(traced.map((t) => t.value.resolved).filter((f): f is string => !!f))];
    const byName = traced.filter((t) => t.value.module === name);
    let module: string | undefined = byName[0]?.value.module;
    if (!module) {
      const resolution = resolveModuleName(name, { files, roots: (await this.loadedModules()).roots });
      if (resolution.kind === 'found') module = traced.find((t) => t.value.resolved === resolution.file)?.value.module;
      else if (resolution.kind === 'ambiguous') throw new Error(`"${name}" names ${resolution.candidates.length} traced modules: ${resolution.candidates.join(', ')}`);
    }
    if (!module) module = this.modules.find((m) => m.module === name)?.module;
    if (!module) {
      const active = [...new Set(traced.map((t) => t.value.module))];
      throw new Error(`"${name}" is not traced${active.length ? `; traced now: ${active.join(', ')}` : ' (nothing is)'}`);
    }
    const name_: string = module;
    const at = this.modules.findIndex((m) => m.module === name_);
    if (at >= 0) this.modules.splice(at, 1);
    const stopped = await this.everyThread<ModuleReport[]>(`untraceModule(${JSON.stringify(name_)})`);
    const problems = await Promise.all(this.threads().map((t) => t.esm.stop(name_).catch(() => [] as string[])));
    for (const p of problems.flat()) this.warn(p);
    this.ingest.post();
    return stopped.flatMap(({ actor, value }) => value.map((v) => ({ actor, value: v })));
  }

  /** Every active module trace of the family: where, by which mechanism, its limits, calls so far. */
  async traces(): Promise<{ actor: string; value: ModuleReport }[]> {
    const all = await this.everyThread<ModuleReport[]>('traces()');
    return all.flatMap(({ actor, value }) => value.map((v) => ({ actor, value: v })));
  }

  /** Finds an object by registered name or path in every thread and tracks it. */
  async track(ref: string, name?: string): Promise<{ actor: string; value: TrackResult }[]> {
    const tracked = await this.everyThread<TrackResult>(`track(${JSON.stringify(ref)}${name ? `, ${JSON.stringify(name)}` : ''})`);
    this.ingest.post();
    return tracked;
  }

  /** Stops tracking an object (its actor id); false when it was not tracked (or is gone). */
  async untrack(actor: string): Promise<boolean> {
    const done = (await this.thread(actor).call(`untrack(${JSON.stringify(actor)})`)) === true;
    this.ingest.post();
    return done;
  }

  /** Live instances of a class in every thread, tracked (each gets an actor id). */
  async findInstances(className: string, max = 50): Promise<{ actor: string; value: TrackResult }[]> {
    const found = await Promise.all(this.threads().map(async (t) => (await t.trackInstances(className, max).catch(() => [])).map((value) => ({ actor: t.actor, value }))));
    this.ingest.post();
    return found.flat();
  }

  /** The thread behind an actor id: a process's main thread, a worker, or the owner of a tracked object. */
  thread(actor: string): ThreadLink {
    const thread = actor.replace(/\/o\d+$/, '');
    const link = this.links.get(Number(thread.split('/')[0]));
    const found = link?.state === 'attached' ? (thread.includes('/w') ? link.workers.get(thread) : link.main) : undefined;
    if (!found || found.session.closed) throw new Error(`${actor} is not attached (ended, or never attached); get_supervision_tree lists what is`);
    return found;
  }

  async processInfo(actor: string): Promise<Record<string, unknown>> {
    // argv and execArgv may carry secrets (`--password x`, `--token=…`): answers get what the store would.
    return redactJson(await this.thread(actor).call('info()')) as Record<string, unknown>;
  }

  async cpuProfile(actor: string, durationMs: number, save: SaveProfile, onProgress?: (elapsedMs: number) => void): Promise<ProfileSummary> {
    const thread = this.thread(actor);
    // Code transformed in memory (tsx) has its map only in the inspector: learn it before summarizing.
    const announced = (profile: { nodes: { callFrame: { url: string } }[] }) =>
      profile.nodes.some((n) => /\.[cm]?tsx?$/.test(n.callFrame.url)) ? this.probes.scriptsOf(thread) : Promise.resolve();
    return cpuProfile(thread.session, durationMs, save, onProgress, announced);
  }

  /** trace_line: a probe at a source line in every thread of the family. */
  async traceLine(request: ProbeRequest): Promise<ProbeInfo> {
    const probe = await this.probes.add(request);
    this.ingest.post();
    return probe;
  }

  /** Removes one probe, or all of them. */
  async untraceLine(id?: string): Promise<ProbeInfo[]> {
    await this.sync().catch(() => undefined);
    return this.probes.remove(id);
  }

  /** Runs an expression in the thread; the result goes through the agent's bounded serializer. */
  async evaluate(actor: string, expression: string): Promise<{ value: unknown; error?: string }> {
    const session = this.thread(actor).session;
    const group = 'nodescope-evaluate';
    try {
      const { result, exceptionDetails } = await session.send('Runtime.evaluate', { expression, objectGroup: group, includeCommandLineAPI: true, awaitPromise: true, silent: true, timeout: 10_000 });
      if (exceptionDetails) return { value: null, error: exceptionDetails.exception?.description ?? exceptionDetails.text };
      if (!result.objectId) return { value: redactJson(result.value ?? result.unserializableValue ?? null) };
      const text = await session.send('Runtime.callFunctionOn', {
        objectId: result.objectId,
        functionDeclaration: `function () { return globalThis[Symbol.for(${JSON.stringify('nodescope.agent')})]?.captureText(this) ?? null; }`,
        returnByValue: true,
        silent: true,
      });
      return { value: typeof text.result.value === 'string' ? redactJson(JSON.parse(text.result.value)) : null };
    } finally {
      await session.send('Runtime.releaseObjectGroup', { objectGroup: group }).catch(() => undefined);
    }
  }

  /** Removes agents and patches from every process, closes ports we opened, stops following. */
  async detach(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.announceDir) {
      // Children that announced themselves and were never attached wait for a debugger: let them run.
      for (const file of readdirSync(this.announceDir).filter((f) => /^\d+\.json$/.test(f))) {
        try {
          const waiting = JSON.parse(readFileSync(join(this.announceDir, file), 'utf8'));
          await releaseProcess(waiting.url, waiting.opened !== false);
        } catch {
          // gone meanwhile
        }
      }
      rmSync(this.announceDir, { recursive: true, force: true });
    }
    this.announceDir = undefined;
    await this.probes.detach().catch(() => undefined);
    await Promise.all([...this.links.values()].map((l) => l.detach().catch(() => undefined)));
    for (const pid of this.links.keys()) removeHeld(pid, this.ownerId);
    this.ingest.flush();
    this.ingest.closeData();
    this.links.clear();
  }

  /** Stops tracing and, in launch mode, ends the launched programs. */
  async close(): Promise<void> {
    this.closed = true;
    await this.detach();
    await within(Promise.all([...this.starting]), 5_000);
    // Their exits are recorded before the store closes; one still running 2 s after SIGTERM is not waited for.
    const running = this.launched.filter((child) => child.exitCode === null && child.signalCode === null);
    for (const child of running) child.kill();
    await within(Promise.all(running.map((child) => new Promise((r) => child.once('exit', r)))), 2_000);
  }
}
