// The supervision tree: OS processes → worker threads and child processes → tracked objects (kind
// 'object', parent = the owning thread), from the actors table.
import type { ActorRow, Store } from '../store/store.js';
import { objectInfo } from './rows.js';

export interface TreeNode {
  id: string;
  kind: ActorRow['kind'];
  name: string | null;
  pid: number | null;
  status: ActorRow['status'];
  started: string | null;
  ended: string | null;
  exit_code: number | null;
  exit_signal: string | null;
  /** For tracked objects: the class and the path it was found at (from the actor's `info`). */
  class?: string | null;
  path?: string | null;
  children: TreeNode[];
}

export function supervisionTree(store: Store): TreeNode[] {
  const actors = store.actors();
  const nodes = new Map<string, TreeNode>();
  for (const a of actors) {
    const info = a.kind === 'object' ? objectInfo(a) : undefined;
    nodes.set(a.id, {
      id: a.id,
      kind: a.kind,
      name: a.name,
      pid: a.pid,
      status: a.status,
      started: iso(a.started_ms),
      ended: iso(a.ended_ms),
      exit_code: a.exit_code,
      exit_signal: a.exit_signal,
      ...(info ? { class: info.class, path: info.path } : {}),
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
  return roots;
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
  const name = n.name ? ` "${n.name}"` : n.path ? ` ${n.path}` : '';
  const cls = n.class ? ` (${n.class})` : '';
  const kind = n.kind === 'worker' ? 'worker' : n.kind === 'object' ? 'object' : 'process';
  let status: string = n.status;
  if (n.status !== 'running') {
    const how = n.exit_signal ? `signal ${n.exit_signal}` : n.exit_code !== null ? `code ${n.exit_code}` : 'no exit code';
    status = `${n.status} (${how})${n.ended ? ` at ${n.ended}` : ''}`;
  } else if (n.started) {
    status = `running since ${n.started}`;
  }
  return `${n.id} ${kind}${name}${cls} — ${status}`;
}
