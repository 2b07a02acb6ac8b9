// The query layer: read-only questions over the store. Knows nothing of CDP or MCP. Each method is a pure
// function of the store (one file per concern); the tools, the CLI and scripts call the same methods.
import type { ActorRow, Store } from '../store/store.js';
import { actorActivity } from './activity.js';
import { threadsRunning } from './actors.js';
import { stateAt, stateChange, systemSnapshot } from './at.js';
import { functionCalls, modulesWithCalls, type CallFilter } from './calls.js';
import { eventsBetween, type EventFilter } from './events.js';
import { exportTrace } from './export.js';
import { httpRequests, type RequestFilter } from './http.js';
import { logs, type LogFilter } from './logs.js';
import { messageFlow } from './messages.js';
import type { Page } from './page.js';
import { executionPath } from './path.js';
import { probeHits, type ProbeHitFilter } from './probes.js';
import { functionTimings, performanceAnalysis, slowestCalls } from './perf.js';
import { inFlight, mailboxStats } from './queues.js';
import { relationships } from './relations.js';
import { actorFamily, actorLabel } from './rows.js';
import { lastSnapshotBytes, snapshotCount, stateChanges, stateTimeline } from './states.js';
import type { TimeWindow } from './time.js';
import { tracedModules } from './tree.js';

export class Query {
  constructor(readonly store: Store) {}

  /** An actor and the tracked objects it owns. */
  actorFamily(actor: string) {
    return actorFamily(this.store, actor);
  }

  /** `4242/o1 "cart" (Cart)`: the id, with its name and class when known. */
  actorLabel(actor: string) {
    return actorLabel(this.store, actor);
  }

  functionCalls(filter: CallFilter, page: Page) {
    return functionCalls(this.store, filter, page);
  }

  /** Per-function sums of timing-only traces (no single calls recorded). */
  functionTimings(module: string | undefined, window: TimeWindow, filter?: { fn?: string; actors?: readonly string[] }) {
    return functionTimings(this.store, module, window, filter);
  }

  modulesWithCalls(max?: number) {
    return modulesWithCalls(this.store, max);
  }

  messageFlow(a: string, b: string, window: TimeWindow, page: Page) {
    return messageFlow(this.store, a, b, window, page);
  }

  snapshotCount(actor: string) {
    return snapshotCount(this.store, actor);
  }

  stateTimeline(actor: string, window: TimeWindow, page: Page) {
    return stateTimeline(this.store, actor, window, page);
  }

  stateChanges(actor: string, window: TimeWindow, page: Page) {
    return stateChanges(this.store, actor, window, page);
  }

  /** With `corr`: only the events caused while serving that request. */
  executionPath(actor: string, window: TimeWindow, page: Page, corr?: string) {
    return executionPath(this.store, actor, window, page, corr);
  }

  stateAt(actor: string, atMs: number) {
    return stateAt(this.store, actor, atMs);
  }

  eventsBetween(filter: EventFilter, page: Page) {
    return eventsBetween(this.store, filter, page);
  }

  systemSnapshot(atMs: number) {
    return systemSnapshot(this.store, atMs);
  }

  stateChange(actor: string, beforeMs: number, afterMs: number, page: Page) {
    return stateChange(this.store, actor, beforeMs, afterMs, page);
  }

  performanceAnalysis(module: string, window: TimeWindow) {
    return performanceAnalysis(this.store, module, window);
  }

  slowestCalls(filter: { module?: string; window: TimeWindow }, limit: number) {
    return slowestCalls(this.store, filter, limit);
  }

  /** Messages sent and not received at a moment (null: now). */
  inFlight(atMs: number | null) {
    return inFlight(this.store, atMs);
  }

  mailboxStats() {
    return mailboxStats(this.store);
  }

  relationships(actor: ActorRow) {
    return relationships(this.store, actor);
  }

  httpRequests(filter: RequestFilter, page: Page) {
    return httpRequests(this.store, filter, page);
  }

  logs(filter: LogFilter, tail: number) {
    return logs(this.store, filter, tail);
  }

  /** What one actor did, counted by type/subtype, with the objects it owns. */
  activity(actor: ActorRow) {
    return actorActivity(this.store, actor);
  }

  /** Modules under trace_module, per thread, and how each is traced. */
  tracedModules() {
    return tracedModules(this.store);
  }

  /** The processes and worker threads running a script. */
  threadsRunning(module: string) {
    return threadsRunning(this.store, module);
  }

  lastSnapshotBytes(actor: string) {
    return lastSnapshotBytes(this.store, actor);
  }

  /** A window of the trace as Chrome Trace Event JSON. */
  exportTrace(window: TimeWindow) {
    return exportTrace(this.store, window);
  }

  /** trace_line's hits, oldest first. */
  probeHits(filter: ProbeHitFilter, page: Page) {
    return probeHits(this.store, filter, page);
  }
}
