// Argument fields several tools share, so that their names, types and docs stay the same everywhere, and the
// steps every list tool takes (window → page → query → empty answer → page check → footer) in one place.
// Every field lists one JSON type: times are strings (the server reads a number sent there as epoch ms).
import { z } from 'zod';
import { checkPage, footer, paging, type Page } from '../query/page.js';
import { describeWindow, parseDuration, parseWindow, type TimeWindow } from '../query/time.js';
import type { ActorRow } from '../store/store.js';
import type { ToolAnswer, ToolContext } from './define.js';

/** A field made optional, keeping its description where zod keeps it (on the outermost schema). */
export function optional<T extends z.ZodType>(schema: T) {
  return schema.optional().describe(schema.description ?? '');
}

/**
 * Rows per page when none is asked: an answer row is 30–60 tokens, and an answer should stay near 1,500
 * (get_function_calls with 200 rows was 18k tokens).
 */
export const ROWS = 20;

/** An actor as every tool prints it and accepts it back. */
export const actor = (what = 'The actor') => z.string().min(1).describe(`${what}: id (4242, 4242/w1), pid or name`);

export const objectRef = z.string().min(1).describe('Tracked object: id (4242/o3) or name');

export const since = z.string().optional().describe('From (ISO 8601, epoch ms, or -5m)');

export const until = z.string().optional().describe('To: same forms');

export const page = z.number().int().min(1).optional().describe('Page, from 1');

// More than MAX_LIMIT (200) is read as MAX_LIMIT.
export const limit = (rows = ROWS) => z.number().int().min(1).optional().describe(`Rows per page (default ${rows})`);

export const moduleName = z.string().min(1).describe('Module: package name, path (./src/pay.js, pay.js) or file URL');

export const requestId = z.string().min(1).optional().describe('Only while serving this HTTP request (4242:r1)');

export const format = z.enum(['text', 'mermaid']).optional().describe('text (default) or mermaid');

/** A time window and paging, as every list tool takes them. */
export const window = { since, until };
export const paged = (rows = ROWS) => ({ page, limit: limit(rows) });

/**
 * A duration: "2s", "500ms", "5m", or a bare number: of seconds (`s`), or (`auto`) seconds when that fits the
 * bounds and milliseconds otherwise — for a profile of 100 ms to 60 s no number means something in both
 * (cpu_profile took seconds before; models also send 2000 meaning ms).
 */
export const duration = (what: string, bare: 'auto' | 's') =>
  z
    .string()
    .min(1)
    .optional()
    .describe(`${what}: "2s", "500ms"; a bare number is ${bare === 's' ? 'seconds' : 'seconds up to 60, else ms'}`);

/** A duration argument → ms within bounds; the error says what to send. */
export function readDuration(name: string, value: string | undefined, bare: 'auto' | 's', bounds: { default: number; min: number; max: number }): number {
  if (value === undefined) return bounds.default;
  const show = (n: number) => (n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`);
  const within = (ms: number) => ms >= bounds.min && ms <= bounds.max;
  const range = `from ${show(bounds.min)} to ${show(bounds.max)}`;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) {
    const n = Number(text);
    if (within(n * 1000)) return n * 1000;
    if (bare === 'auto' && within(n)) return n;
    throw new Error(
      bare === 's' ? `${name} must be ${range}, got ${n} seconds` : `${name} must be ${range}; ${n} is out of range as seconds and as ms: send e.g. "2s" or "500ms"`,
    );
  }
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw new Error(`${name} "${value.slice(0, 40)}" is not a duration: send "2s", "500ms" or "1m"`);
  }
  if (!within(ms)) throw new Error(`${name} must be ${range}, got ${show(ms)}`);
  return ms;
}

/** since/until/page/limit → the window and the page a list tool asks for. */
export function listRequest(args: { since?: string; until?: string; page?: number; limit?: number }, rows = ROWS): { window: TimeWindow; page: Page } {
  return { window: parseWindow(args.since, args.until), page: paging(args.page, args.limit ?? rows) };
}

/**
 * A page of rows as an answer: `empty` when there are none at all (it may throw, to say what to do first),
 * else a heading, the rows' lines (one per row, or a diagram of them), and a footer saying how to get more;
 * `data` gets `total` and `page`.
 */
export function pagedAnswer(
  list: { page: Page; shown: number; total: number; more?: boolean },
  view: { head: string; lines: () => string[]; empty: () => string; data: Record<string, unknown>; after?: string[] },
): ToolAnswer {
  const data = { ...view.data, total: list.total, ...(list.more ? { more: true } : {}), page: list.page.page };
  if (list.total === 0) return { text: view.empty(), data };
  checkPage(list.page, list.total);
  return { text: [view.head, ...view.lines(), footer(list.page, list.total, list.shown, list.more), ...(view.after ?? [])].join('\n'), data };
}

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
