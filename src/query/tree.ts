// The supervision tree: OS processes → worker threads and child processes → tracked objects (kind
// 'object', parent = the owning thread), from the actors table.
import { kindIs } from '../store/kinds.js';
import type { ActorRow, Store } from '../store/store.js';
import { objectInfo } from './rows.js';

export interface TreeNode {
  id: string;
  kind: ActorRow['kind'];
  name: string | null;
  pid: number | null;
  /** 'unknown': a process with no agent of its own whose parent ended first, so no one could report its end. */
  status: ActorRow['status'] | 'unknown';
  started: string | null;
  ended: string | null;
  exit_code: number | null;
  exit_signal: string | null;
  /** For tracked objects: the class and the path it was found at (from the actor's `info`). */
  class?: string | null;
  path?: string | null;
  /** For a node:cluster worker process: its cluster.worker.id (its script and arguments are its primary's). */
  cluster_worker?: number;
  /** For a worker with no name: its script, as people know it (thread-stream/lib/worker.js). */
  script?: string;
  /** A process known only from its parent's spawn: no agent of its own reports on it. */
  untraced?: true;
  /** For status 'unknown': when the parent that would have reported its end ended. */
  parent_ended?: string;
  /** For status 'detached': when the tracer let go of its process, which may still run. */
  detached?: string;
  children: TreeNode[];
}

export function supervisionTree(store: Store): TreeNode[] {
  const actors = store.actors();
  const nodes = new Map<string, TreeNode>();
  for (const a of actors) {
    const info = a.kind === 'object' ? objectInfo(a) : undefined;
    // Node names a worker given no name "WorkerThread": its script says more.
    // Only a traced thread's own start sets its thread id.
    const untraced = a.kind === 'process' && a.thread_id === null;
    const script = a.kind === 'worker' && (!a.name || a.name === 'WorkerThread') ? workerScript(a.info) : undefined;
    const cluster = a.kind === 'process' ? clusterWorker(a.info) : undefined;
    nodes.set(a.id, {
      id: a.id,
      kind: a.kind,
      name: script ? null : a.name,
      pid: a.pid,
      status: a.status,
      started: iso(a.started_ms),
      ended: iso(a.ended_ms),
      exit_code: a.exit_code,
      exit_signal: a.exit_signal,
      ...(info ? { class: info.class, path: info.path } : {}),
      ...(script ? { script } : {}),
      ...(cluster !== undefined ? { cluster_worker: cluster } : {}),
      ...(untraced ? { untraced } : {}),
      children: [],
    });
  }
  const roots: TreeNode[] = [];
  for (const a of actors) {
    const node = nodes.get(a.id)!;
    const parent = a.parent ? nodes.get(a.parent) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const detached = detachedProcesses(store);
  for (const r of roots) endWithProcess(r, null, detached);
  return roots;
}

/** When the tracer let go of each process it no longer traces: its last detach not followed by an attach. */
function detachedProcesses(store: Store): Map<string, string> {
  const rows = store.db
    .prepare(`SELECT actor, subtype, wall_ms FROM events WHERE ${kindIs('process', ['start', 'detached'])} ORDER BY ts_ns, id`)
    .all() as { actor: string; subtype: string; wall_ms: number }[];
  const at = new Map<string, string>();
  for (const r of rows) {
    if (r.subtype === 'detached') at.set(r.actor, iso(r.wall_ms)!);
    else at.delete(r.actor);
  }
  return at;
}

/**
 * A thread or object cannot outlive its process: one still 'running' when the process ended (a thread whose
 * end was never reported, such as Node's module hooks thread) is shown gone at the process's end. A child
 * process can outlive its parent (esbuild's service does): one with no agent, whose end its parent's agent
 * could not see, is not known to be running: its status is 'unknown'. A process still 'running' when the
 * tracer let go of it, and its threads and objects, are 'detached' since then: nothing more was heard.
 */
function endWithProcess(node: TreeNode, processEnded: string | null, detached: Map<string, string>, processDetached?: string): void {
  if (node.status === 'running' && processEnded) {
    if (node.kind !== 'process') Object.assign(node, { status: 'gone', ended: processEnded });
    else if (node.untraced) Object.assign(node, { status: 'unknown', parent_ended: processEnded });
  }
  // A child with no agent of its own was followed by its parent's, which is gone with the parent's detach.
  const since = node.kind === 'process' ? (detached.get(node.id) ?? (node.untraced ? processDetached : undefined)) : processDetached;
  if (node.status === 'running' && since) Object.assign(node, { status: 'detached', detached: since });
  const ended = node.kind === 'process' ? (node.status === 'running' || node.status === 'detached' ? null : node.ended) : processEnded;
  for (const c of node.children) endWithProcess(c, ended, detached, node.kind === 'process' ? since : processDetached);
}

/** A worker's script from its start event's URL: from the package on for a dependency's, else the file name; Node's own as its URL. */
function workerScript(info: string | null): string | undefined {
  try {
    const url = info ? (JSON.parse(info) as { url?: unknown }).url : undefined;
    if (typeof url !== 'string') return undefined;
    // Node's own, such as the thread of module.register() hooks (node:internal/modules/esm/worker).
    if (url.startsWith('node:')) return url;
    if (!url.startsWith('file:')) return undefined;
    const path = decodeURIComponent(new URL(url).pathname);
    const at = path.lastIndexOf('/node_modules/');
    return at >= 0 ? path.slice(at + '/node_modules/'.length) : path.slice(path.lastIndexOf('/') + 1);
  } catch {
    return undefined;
  }
}

/** The cluster worker id its own start reported (src/agent/lifecycle.ts). */
function clusterWorker(info: string | null): number | undefined {
  const id = info ? (JSON.parse(info) as { clusterWorker?: unknown }).clusterWorker : undefined;
  return typeof id === 'number' ? id : undefined;
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** One line per actor, drawn as a tree. */
export function renderTree(roots: TreeNode[]): string {
  const lines: string[] = [];
  const walk = (node: TreeNode, prefix: string, last: boolean, top: boolean) => {
    lines.push(`${top ? '' : prefix + (last ? '└─ ' : '├─ ')}${describe(node)}`);
    const childPrefix = top ? '' : prefix + (last ? '   ' : '│  ');
    node.children.forEach((c, i) => walk(c, childPrefix, i === node.children.length - 1, false));
  };
  for (const r of roots) walk(r, '', true, true);
  return lines.join('\n');
}

function describe(n: TreeNode): string {
  // An object without a name is known by the path it was found at.
  const name = n.name ? ` "${n.name}"` : n.path ? ` ${n.path}` : n.script ? ` ${n.script}` : '';
  const cls = n.class ? ` (${n.class})` : '';
  const status = n.status !== 'running' ? `${ending(n)}${n.ended ? ` at ${n.ended}` : ''}` : n.started ? `running since ${n.started}` : n.status;
  return `${n.id} ${kindOf(n)}${name}${cls} — ${status}`;
}

/** "process", "worker", "object", or "cluster worker 2" for a node:cluster worker process. */
function kindOf(n: TreeNode): string {
  return n.cluster_worker !== undefined ? `cluster worker ${n.cluster_worker}` : n.kind;
}

/** How an actor ended, in the same words wherever it is shown: "killed by SIGTERM", "exited (code 3)". */
function ending(n: TreeNode): string {
  if (n.status === 'detached') return `detached since ${n.detached}`;
  if (n.status === 'unknown') return `untraced; parent ended at ${n.parent_ended}`;
  return endedAs(n);
}

/** How a process or thread that ended did: "killed by SIGTERM", "exited (code 3)". */
export function endedAs(a: { status: string; exit_code: number | null; exit_signal: string | null }): string {
  if (a.exit_signal) return `${a.status === 'crashed' ? 'crashed' : 'killed'} by ${a.exit_signal}`;
  return `${a.status} (${a.exit_code !== null ? `code ${a.exit_code}` : 'no exit code'})`;
}

export interface TracedModule {
  module: string;
  actor: string;
  via: string;
  functions: string[];
  stopped: string | null;
}

/**
 * Modules under trace_module, per thread and mechanism, from the agents' trace_started / trace_stopped
 * reports: the latest report of each stands (a module instrumented one function at a time is reported again
 * as each joins; functions V8 would not edit go on to breakpoints, reported on their own).
 */
export function tracedModules(store: Store): TracedModule[] {
  const rows = store.db
    .prepare(`SELECT actor, subtype, payload FROM events WHERE ${kindIs('agent', ['trace_started', 'trace_stopped'])} ORDER BY ts_ns`)
    .all() as { actor: string; subtype: string; payload: string }[];
  const byKey = new Map<string, TracedModule>();
  for (const r of rows) {
    const p = JSON.parse(r.payload);
    if (r.subtype === 'trace_started') {
      const via = p.via ?? 'wrappers';
      byKey.set(`${r.actor}\0${p.module}\0${via}`, { module: p.module, actor: r.actor, via, functions: [...(p.functions ?? []), ...(p.methods ?? [])], stopped: null });
    } else for (const m of byKey.values()) if (m.actor === r.actor && m.module === p.trace) m.stopped = p.reason;
  }
  // A module whose every edit V8 refused is left with an empty report in place: its functions are listed
  // under their other mechanism.
  return [...byKey.values()].filter((m) => m.via !== 'live-edit' || m.functions.length > 0);
}

/** The tree as a Mermaid flowchart, which many MCP clients draw. */
export function renderTreeMermaid(roots: TreeNode[]): string {
  const lines = ['graph TD'];
  const nodeId = (id: string) => `a${id.replace(/[^A-Za-z0-9]/g, '_')}`;
  const walk = (n: TreeNode) => {
    const how = n.status === 'running' ? 'running' : ending(n);
    const label = `${n.id} ${kindOf(n)}${n.name || n.script ? ` ${n.name || n.script}` : ''}<br/>${how}`.replace(/"/g, "'");
    lines.push(`  ${nodeId(n.id)}["${label}"]`);
    for (const c of n.children) {
      walk(c);
      lines.push(`  ${nodeId(n.id)} --> ${nodeId(c.id)}`);
    }
  };
  roots.forEach(walk);
  return lines.join('\n');
}
