// Shapes of structuredContent several tools share. Rows are objects of ids, times and values, named as in
// each tool's text; the schema says only that they come as an array (their fields spelled out cost ~40
// tokens per tool in tools/list, which is sent on every turn).
import { z } from 'zod';
import type { Activity } from '../query/activity.js';
import type { TreeNode } from '../query/tree.js';

export const rows = z.array(z.unknown());
export const count = z.number().int();
export const text = z.string();
export const maybeText = z.string().nullable();
export const object = z.looseObject({});
/** A number that may have a fraction (durations in ms). */
export const number = z.number();

/** What a paged list answers: its rows, how many in all, and which page this is. */
export const pageOf = (name: string, extra: z.ZodRawShape = {}) => ({ [name]: rows, total: count, page: count, ...extra });

/** trace_process's and trace_named_process's counts of what one actor did. */
export const activityOutput = { actor: text, counts: z.record(z.string(), count) };

export function activityView(a: Activity): Record<string, unknown> {
  return { actor: a.actor.id, kind: a.actor.kind, status: a.actor.status, counts: a.counts, first: a.first, last: a.last, objects: a.objects };
}

/**
 * The supervision tree as structured data: each node's facts without the nulls (a running thread has no exit
 * code), the pid on processes only (a thread's or object's is its process's).
 */
export function treeView(nodes: readonly TreeNode[]): Record<string, unknown>[] {
  return nodes.map(({ children, pid, ...node }) => ({
    ...Object.fromEntries(Object.entries(node).filter(([, v]) => v !== null && v !== undefined)),
    ...(node.kind === 'process' ? { pid } : {}),
    children: treeView(children),
  }));
}
