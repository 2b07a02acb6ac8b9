// Argument fields several read tools share, so that their names and docs stay the same everywhere.
import { z } from 'zod';
import { describeWindow, type TimeWindow } from '../query/time.js';
import type { ActorRow } from '../store/store.js';
import type { ToolContext } from './define.js';

export const since = z
  .union([z.string(), z.number()])
  .optional()
  .describe('Only events at or after this time: ISO 8601 (2026-11-22T16:00:00Z), epoch ms, or a duration meaning that long before now (500ms, 30s, 5m, 2h, 1d)');

export const until = z
  .union([z.string(), z.number()])
  .optional()
  .describe('Only events at or before this time: ISO 8601, epoch ms, or a duration meaning that long before now (5m)');

export const page = z.number().int().min(1).optional().describe('Page of results, from 1 (default 1); answers say which page comes next');

export const limit = z.number().int().min(1).optional().describe('Rows per page (default 50, at most 200)');

export const objectRef = z.string().min(1).describe('The tracked object: an id such as 4242/o3, or its registered name');

/** The answer when an object has state, but none in the asked window. */
export function noStateInWindow(ctx: ToolContext, actor: string, window: TimeWindow): string {
  return `No state of ${ctx.query.actorLabel(actor)} recorded${describeWindow(window)}; ${ctx.query.snapshotCount(actor)} snapshots in all: widen the window.`;
}

/**
 * The actor a state question is about, refusing with what to do next when nothing was ever snapshotted for
 * it (state is recorded for tracked objects only).
 */
export function stateActor(ctx: ToolContext, ref: string): ActorRow {
  const actor = ctx.resolveActor(ref);
  if (ctx.query.snapshotCount(actor.id) > 0) return actor;
  if (actor.kind === 'object') {
    throw new Error(`no state recorded for ${actor.id} yet; call trace_process("${actor.id}") or trace_named_process first, then exercise the program`);
  }
  throw new Error(
    `${actor.id} is a ${actor.kind === 'worker' ? 'worker thread' : 'process'}, not a tracked object: state is recorded for tracked objects. ` +
      'Start tracking one with trace_named_process (a registered name, or a path such as globalThis.cart); get_supervision_tree lists tracked objects.',
  );
}
