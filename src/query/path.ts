// The execution path of one actor: what it did, in order. Calls are nested under their callers (`parent`
// in the call payload) and shown once, with their outcome; the `call/return` and `call/throw` rows are
// folded into their call. A thread's path includes the tracked objects it owns, and the lifecycle events of
// the workers and children it started (recorded with from = the thread).
import { kindIs } from '../store/kinds.js';
import { shortCorr } from '../store/coded_columns.js';
import { CORR_IS, CORR_ROWS, corrParams, type Store } from '../store/store.js';
import { callRecords, renderCallOutcome, type CallRecord } from './calls.js';
import { iso, parseJson, renderTrigger, renderValue } from './format.js';
import { renderProbeLine } from './probes.js';
import type { Page } from './page.js';
import { tsRange } from './clock.js';
import { actorCodes, actorFamily, countedEvents, inList, objectInfo, ROW_COLUMNS, type Row } from './rows.js';
import { WINDOW_SQL, windowParams, type TimeWindow } from './time.js';

export type PathKind = 'call' | 'send' | 'receive' | 'state' | 'lifecycle' | 'error' | 'log' | 'other';

export interface PathEntry {
  wall_ms: number;
  actor: string;
  kind: PathKind;
  /** Nesting of calls: the number of callers shown in this path above this call. */
  depth: number;
  /** type/subtype exactly as stored. */
  event: string;
  text: string;
  /** Call id or message id, accepted where those are shown. */
  ref: string | null;
}

/** Ancestor lookups per call before giving up on nesting (recursion deeper than this is shown flat). */
const MAX_DEPTH = 32;
const LIFECYCLE = new Set(['process', 'worker', 'child', 'agent']);

export function executionPath(store: Store, actor: string, window: TimeWindow, page: Page, corr?: string): { entries: PathEntry[]; total: number; family: string[] } {
  const family = actorFamily(store, actor);
  const ids = inList('f', family);
  const codes = inList('fc', actorCodes(store, family));
  const windowed = window.sinceMs !== null || window.untilMs !== null;
  // A window is also a ts_ns range (clock.ts) of the indexes: on wall_ms alone, counting it read the whole
  // history of the thread (150 ms on 1 M events), and a page of it started from the oldest row.
  const inWindow = windowed ? ` AND ts_ns >= :lo AND ts_ns <= :hi AND ${WINDOW_SQL}` : '';
  const extra = `${inWindow}${corr ? ` AND ${CORR_IS}` : ''}`;
  const range = windowed ? tsRange(store, window) : undefined;
  const params = { ...ids.params, ...codes.params, self: actor, ...windowParams(window), ...(range ? { lo: range.lo, hi: range.hi } : {}), ...(corr ? corrParams(corr) : {}) };
  // Each actor of the family is read in ts_ns order from (actor, ts_ns), at most offset + limit rows, and so
  // are the workers and children it started (events_spawned_by); the streams are merged here. One query
  // over all of them sorted every matching row of the thread's history (226 ms p95 for a 250k-event thread).
  // With a request, its rows come from events_corr (the condition is that index's, word for word); an
  // actor's own rows hold the request's id one way (`:sc`, as the store codes it for that actor).
  const rows_ = corr ? CORR_ROWS : `NOT (${kindIs('call', ['return', 'throw'])})`;
  const own = `${rows_}${extra}`;
  const spawned = `from_actor = :self AND ${kindIs(['worker', 'child'])} AND actor NOT IN (${ids.sql})${extra}`;
  const readOwn = store.db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE actor_code = :a AND ${rows_}${inWindow}${corr ? ' AND short_corr = :sc AND corr = :corr' : ''} ORDER BY ts_ns, id LIMIT :n`);
  const n = page.offset + page.limit;
  const merged: Row[] = store.db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE ${spawned} ORDER BY ts_ns, id LIMIT :n`).all({ ...params, n }) as Row[];
  for (const a of family) merged.push(...(readOwn.all({ ...params, a: store.actorCode(a), ...(corr ? { sc: shortCorr(corr, a) } : {}), n }) as Row[]));
  merged.sort((x, y) => x.ts_ns - y.ts_ns || x.id - y.id);
  const rows = merged.slice(page.offset, n);
  let total = (store.db.prepare(`SELECT count(*) AS n FROM events WHERE ${spawned}`).get(params) as { n: number }).n;
  // Kept by the store as it writes and prunes: no need to read the history to count it.
  const counted = !windowed && !corr ? countedEvents(store, `actor IN (${ids.sql}) AND NOT (type = 'call' AND subtype IN ('return', 'throw'))`, ids.params) : undefined;
  total += counted ?? (store.db.prepare(`SELECT count(*) AS n FROM events WHERE actor_code IN (${codes.sql}) AND ${own}`).get(params) as { n: number }).n;
  const calls = new Map<number, CallRecord>();
  const callRows = rows.filter((r) => r.type === 'call' && r.subtype === 'call');
  callRecords(store, callRows).forEach((c, i) => calls.set(callRows[i]!.id, c));
  const depth = depthFinder(store, new Set(family), [...calls.values()]);
  const classes = new Map(family.map((id) => [id, objectInfo(store.actor(id)).class]));
  return { entries: rows.map((r) => entry(r, actor, calls, depth, classes)), total, family };
}

/** The shown depth of a call: its ancestors (by `parent`) that belong to the path's actors. */
function depthFinder(store: Store, shown: Set<string>, onPage: CallRecord[]): (parent: string | null, tsNs: number) => number {
  const parentOf = store.db.prepare(
    `SELECT actor, json_extract(payload, '$.parent') AS parent FROM events
     WHERE ${kindIs('call', 'call')} AND ts_ns <= ? AND ref = ? ORDER BY ts_ns DESC, id DESC LIMIT 1`,
  );
  // Callers on the same page need no lookup; others are found scanning calls backwards from the callee.
  const known = new Map<string, { actor: string; parent: string | null } | null>(onPage.map((c) => [c.ref, { actor: c.actor, parent: c.parent }]));
  return (parent, tsNs) => {
    let depth = 0;
    for (let ref = parent, i = 0; ref && i < MAX_DEPTH; i++) {
      if (!known.has(ref)) known.set(ref, (parentOf.get(tsNs, ref) as { actor: string; parent: string | null } | undefined) ?? null);
      const call = known.get(ref);
      if (!call) break;
      if (shown.has(call.actor)) depth++;
      ref = call.parent;
    }
    return depth;
  };
}

// The payload fields worth a line in a path (docs/events.md), in reading order; the rest stays in the store.
const FACTS = [
  'name', 'module', 'trace', 'pid', 'threadId', 'file', 'args', 'argv', 'status', 'functions', 'methods',
  'code', 'signal', 'gone', 'count', 'calls', 'fatal', 'handled', 'error', 'reason', 'note',
];

function facts(p: Record<string, unknown>): string {
  return FACTS.filter((k) => p[k] !== undefined && p[k] !== null)
    .map((k) => `${k}=${renderValue(p[k], 120)}`)
    .join(' ');
}

function entry(
  r: Row,
  self: string,
  calls: Map<number, CallRecord>,
  depthOf: (parent: string | null, tsNs: number) => number,
  classes: Map<string, string | null>,
): PathEntry {
  const p = (parseJson(r.payload) ?? {}) as Record<string, unknown>;
  const base = { wall_ms: r.wall_ms, actor: r.actor, depth: 0, event: `${r.type}/${r.subtype}`, ref: r.ref };
  if (r.type === 'call' && r.subtype === 'call') {
    const call = calls.get(r.id)!;
    return { ...base, kind: 'call', depth: depthOf(call.parent, r.ts_ns), text: renderCallOutcome(call) };
  }
  if (r.type === 'message' && (r.subtype === 'send' || r.subtype === 'receive')) {
    const sent = r.subtype === 'send';
    const other = sent ? r.to_actor : r.from_actor;
    return { ...base, kind: sent ? 'send' : 'receive', text: `${sent ? '→' : '←'} ${other ?? '?'} [${p.channel ?? '?'}] ${renderValue(p.message)}` };
  }
  if (r.type === 'state' && r.subtype === 'snapshot') {
    return { ...base, kind: 'state', text: `state after ${renderTrigger(p.trigger ?? null, classes.get(r.actor) ?? null)}: ${renderValue(p.state)}` };
  }
  if (r.type === 'object' && r.subtype === 'track') {
    const what = [p.name ? `"${p.name}"` : null, p.class ? `(${p.class})` : null, p.path !== p.name ? p.path : null].filter(Boolean).join(' ');
    return { ...base, kind: 'lifecycle', text: `tracking began ${what}`.trim() };
  }
  if (r.type === 'probe') return { ...base, kind: 'other', text: r.subtype === 'hit' ? renderProbeLine(p) : `probe/${r.subtype} ${p.probe}: ${p.expression} failed: ${p.error}` };
  if (r.type === 'log') {
    // Output rows name their stream (stdout, stderr) and a level when one is known; older rows only a console method.
    const where = typeof p.stream !== 'string' ? `console.${r.subtype}` : p.stream === r.subtype ? p.stream : `${p.stream} [${r.subtype}]`;
    return { ...base, kind: 'log', text: `${where}: ${renderValue(p.text)}` };
  }
  if (r.type === 'error') return { ...base, kind: 'error', text: `${r.type}/${r.subtype} ${facts(p)}`.trim() };
  const who = r.actor === self ? '' : ` ${r.actor}`;
  if (LIFECYCLE.has(r.type)) return { ...base, kind: 'lifecycle', text: `${r.type}/${r.subtype}${who} ${facts(p)}`.trim() };
  return { ...base, kind: 'other', text: `${r.type}/${r.subtype}${who} ${renderValue(p)}` };
}

/** `2026-…Z 4242   ├ text [ref]`: two spaces of indentation per nesting level. */
export function renderPathEntry(e: PathEntry): string {
  return `${iso(e.wall_ms)} ${e.actor} ${'  '.repeat(e.depth)}${e.text}${e.ref ? ` [${e.ref}]` : ''}`;
}

export function pathEntryView(e: PathEntry): Record<string, unknown> {
  return { time: iso(e.wall_ms), actor: e.actor, kind: e.kind, event: e.event, depth: e.depth, text: e.text, ref: e.ref };
}
