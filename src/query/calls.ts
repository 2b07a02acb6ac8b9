// Function calls of traced modules: each `call/call` row with its `call/return` or `call/throw` (same
// `ref`, same actor, later ts_ns).
import type { Store } from '../store/store.js';
import { iso, parseJson, renderArgs, renderValue } from './format.js';
import type { Page } from './page.js';
import { inList, likeEscape, ms, ROW_COLUMNS, type Row } from './rows.js';
import { WINDOW_SQL, windowParams, type TimeWindow } from './time.js';

export interface CallFilter {
  /** Exact `module` of the payload, a path suffix (`payments.js`, `./src/payments.js`), or a package name. */
  module: string;
  /** Exact `fn`, or the method part of `Class#method` / `obj.method`. */
  fn?: string;
  /** Calling actors (a thread and the objects it owns). */
  actors?: readonly string[];
  window: TimeWindow;
}

export type CallOutcome = 'returned' | 'threw' | 'running';

export interface CallRecord {
  ref: string;
  wall_ms: number;
  ts_ns: number;
  actor: string;
  module: string;
  fn: string;
  args: unknown[];
  parent: string | null;
  corr: string | null;
  outcome: CallOutcome;
  result?: unknown;
  error?: unknown;
  duration_ms: number | null;
  async: boolean | null;
}

export interface Completion {
  outcome: 'returned' | 'threw';
  value: unknown;
  duration_ms: number;
  async: boolean | null;
}

/** SQL matching the payload's module against what a user typed (named parameters :m_exact, :m_suffix, :m_pkg). */
export function moduleCondition(name: string): { sql: string; params: Record<string, string> } {
  const exact = name.trim();
  const tail = exact.replace(/^file:\/\//, '').replace(/^\.\//, '').replace(/^\/+/, '');
  return {
    sql: `(json_extract(payload, '$.module') = :m_exact
       OR json_extract(payload, '$.module') LIKE :m_suffix ESCAPE '\\'
       OR json_extract(payload, '$.module') LIKE :m_pkg ESCAPE '\\')`,
    params: { m_exact: exact, m_suffix: `%/${likeEscape(tail)}`, m_pkg: `%/node_modules/${likeEscape(exact)}/%` },
  };
}

function fnCondition(fn: string | undefined): { sql: string; params: Record<string, string> } {
  if (fn === undefined || fn === '') return { sql: '1', params: {} };
  return {
    sql: `(json_extract(payload, '$.fn') = :fn OR json_extract(payload, '$.fn') LIKE :fn_method ESCAPE '\\' OR json_extract(payload, '$.fn') LIKE :fn_prop ESCAPE '\\')`,
    params: { fn, fn_method: `%#${likeEscape(fn)}`, fn_prop: `%.${likeEscape(fn)}` },
  };
}

function where(filter: CallFilter): { sql: string; params: Record<string, string | number | null> } {
  const mod = moduleCondition(filter.module);
  const fn = fnCondition(filter.fn);
  const actors = filter.actors?.length ? inList('a', filter.actors) : undefined;
  return {
    sql: `type = 'call' AND subtype = 'call' AND ${WINDOW_SQL} AND ${mod.sql} AND ${fn.sql}${actors ? ` AND actor IN (${actors.sql})` : ''}`,
    params: { ...windowParams(filter.window), ...mod.params, ...fn.params, ...actors?.params },
  };
}

/** The `call/return` or `call/throw` of a call, if recorded. */
export function callCompletion(store: Store, actor: string, ref: string, tsNs: number): Completion | undefined {
  // Bounded by the (actor, ts_ns) index: the scan starts at the call and stops at its completion.
  const row = store.db
    .prepare(
      `SELECT subtype, ts_ns, payload FROM events
       WHERE actor = ? AND ts_ns >= ? AND type = 'call' AND ref = ? AND subtype IN ('return', 'throw')
       ORDER BY ts_ns, id LIMIT 1`,
    )
    .get(actor, tsNs, ref) as { subtype: string; ts_ns: number; payload: string | null } | undefined;
  if (!row) return undefined;
  const p = (parseJson(row.payload) ?? {}) as Record<string, unknown>;
  const threw = row.subtype === 'throw';
  return {
    outcome: threw ? 'threw' : 'returned',
    value: threw ? p.error : p.result,
    duration_ms: typeof p.duration_ns === 'number' ? p.duration_ns / 1e6 : (row.ts_ns - tsNs) / 1e6,
    async: typeof p.async === 'boolean' ? p.async : null,
  };
}

/** A `call/call` row joined with its completion. */
export function callRecord(store: Store, row: Row): CallRecord {
  const p = (parseJson(row.payload) ?? {}) as Record<string, unknown>;
  const done = row.ref ? callCompletion(store, row.actor, row.ref, row.ts_ns) : undefined;
  const record: CallRecord = {
    ref: row.ref ?? `#${row.id}`,
    wall_ms: row.wall_ms,
    ts_ns: row.ts_ns,
    actor: row.actor,
    module: typeof p.module === 'string' ? p.module : '?',
    fn: typeof p.fn === 'string' ? p.fn : '?',
    args: Array.isArray(p.args) ? p.args : [],
    parent: typeof p.parent === 'string' ? p.parent : null,
    corr: row.corr,
    outcome: done?.outcome ?? 'running',
    duration_ms: done?.duration_ms ?? null,
    async: done?.async ?? null,
  };
  if (done?.outcome === 'returned') record.result = done.value;
  if (done?.outcome === 'threw') record.error = done.value;
  return record;
}

/** Calls of a module, oldest first, one page of them, and how many match in all. */
export function functionCalls(store: Store, filter: CallFilter, page: Page): { calls: CallRecord[]; total: number } {
  const w = where(filter);
  const total = (store.db.prepare(`SELECT count(*) AS n FROM events WHERE ${w.sql}`).get(w.params) as { n: number }).n;
  const rows = store.db
    .prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE ${w.sql} ORDER BY ts_ns, id LIMIT :limit OFFSET :offset`)
    .all({ ...w.params, limit: page.limit, offset: page.offset }) as Row[];
  return { calls: rows.map((r) => callRecord(store, r)), total };
}

/** Modules with recorded calls (for an error that says what exists). */
export function modulesWithCalls(store: Store, max = 20): string[] {
  const rows = store.db
    .prepare(`SELECT DISTINCT json_extract(payload, '$.module') AS m FROM events WHERE type = 'call' AND subtype = 'call' LIMIT ?`)
    .all(max) as { m: string | null }[];
  return rows.map((r) => r.m ?? '?');
}

/** `charge(100, "EUR") → {ok: true} (1.2 ms)`, `charge(0) ✗ Error: declined (0.3 ms)`, `run() … still running`. */
export function renderCallOutcome(c: CallRecord): string {
  const head = `${c.fn}(${renderArgs(c.args)})`;
  const took = c.duration_ms === null ? '' : ` (${ms(c.duration_ms)} ms${c.async ? ', async' : ''})`;
  if (c.outcome === 'returned') return `${head} → ${renderValue(c.result)}${took}`;
  if (c.outcome === 'threw') return `${head} ✗ ${renderValue(c.error)}${took}`;
  return `${head} … no return recorded`;
}

/** One line per call: time, actor, call and outcome, call id. */
export function renderCall(c: CallRecord): string {
  return `${iso(c.wall_ms)} ${c.actor} ${renderCallOutcome(c)} [${c.ref}]`;
}

/** What goes into structuredContent: the same facts, values rendered and capped. */
export function callView(c: CallRecord): Record<string, unknown> {
  return {
    ref: c.ref,
    time: iso(c.wall_ms),
    actor: c.actor,
    module: c.module,
    fn: c.fn,
    args: c.args.map((a) => renderValue(a)),
    outcome: c.outcome,
    ...(c.outcome === 'returned' ? { result: renderValue(c.result) } : {}),
    ...(c.outcome === 'threw' ? { error: renderValue(c.error) } : {}),
    duration_ms: c.duration_ms,
    async: c.async,
    parent: c.parent,
    corr: c.corr,
  };
}
