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
  /** Only calls made while serving this request (their `corr`). */
  corr?: string;
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
    // With actors, `+type` keeps SQLite off the (type, ts_ns) index: one actor's rows are far fewer than
    // every call of every actor, but without ANALYZE statistics the planner cannot know that.
    sql: `${actors ? '+type' : 'type'} = 'call' AND subtype = 'call' AND ${WINDOW_SQL} AND ${mod.sql} AND ${fn.sql}${actors ? ` AND actor IN (${actors.sql})` : ''}${filter.corr ? ' AND corr = :corr' : ''}`,
    params: { ...windowParams(filter.window), ...mod.params, ...fn.params, ...actors?.params, ...(filter.corr ? { corr: filter.corr } : {}) },
  };
}

/**
 * The `call/return` or `call/throw` of each call, by the call's row id: one pass per calling actor for a whole
 * page over the (actor, ts_ns) index from its earliest call on (`+type` keeps the planner, which has no
 * statistics, off the type index), stopping once every call of the page is settled. Looked up one by one, a
 * call still running would scan its actor's whole later history each time (the same shape for messages
 * measured 960 ms one by one, 35 ms in one pass). Call ids restart when an agent is installed again, so a
 * completion belongs to the latest call with its id before it, not to the first.
 */
export function callCompletions(store: Store, calls: readonly Row[]): Map<number, Completion> {
  const out = new Map<number, Completion>();
  const byActor = new Map<string, Row[]>();
  for (const c of calls) {
    if (!c.ref) continue;
    if (!byActor.has(c.actor)) byActor.set(c.actor, []);
    byActor.get(c.actor)!.push(c);
  }
  for (const [actor, rows] of byActor) {
    const refs = inList('r', [...new Set(rows.map((r) => r.ref!))]);
    const waiting = new Set(rows.map((r) => r.id));
    const open = new Map<string, { id: number; ts_ns: number }>();
    const found = store.db
      .prepare(
        `SELECT id, subtype, ts_ns, ref, payload FROM events
         WHERE actor = :actor AND ts_ns >= :from AND +type = 'call' AND ref IN (${refs.sql})
         ORDER BY ts_ns, id`,
      )
      .iterate({ actor, from: Math.min(...rows.map((r) => r.ts_ns)), ...refs.params }) as IterableIterator<Row>;
    for (const row of found) {
      const ref = row.ref!;
      if (row.subtype === 'call') {
        open.set(ref, { id: row.id, ts_ns: row.ts_ns });
        continue;
      }
      if (row.subtype !== 'return' && row.subtype !== 'throw') continue;
      const call = open.get(ref);
      if (!call) continue;
      open.delete(ref);
      if (!waiting.delete(call.id)) continue;
      const p = (parseJson(row.payload) ?? {}) as Record<string, unknown>;
      const threw = row.subtype === 'throw';
      out.set(call.id, {
        outcome: threw ? 'threw' : 'returned',
        value: threw ? p.error : p.result,
        duration_ms: typeof p.duration_ns === 'number' ? p.duration_ns / 1e6 : (row.ts_ns - call.ts_ns) / 1e6,
        async: typeof p.async === 'boolean' ? p.async : null,
      });
      if (waiting.size === 0) break;
    }
  }
  return out;
}

/** `call/call` rows joined with their completions. */
export function callRecords(store: Store, rows: readonly Row[]): CallRecord[] {
  const done = callCompletions(store, rows);
  return rows.map((row) => {
    const p = (parseJson(row.payload) ?? {}) as Record<string, unknown>;
    const end = done.get(row.id);
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
      outcome: end?.outcome ?? 'running',
      duration_ms: end?.duration_ms ?? null,
      async: end?.async ?? null,
    };
    if (end?.outcome === 'returned') record.result = end.value;
    if (end?.outcome === 'threw') record.error = end.value;
    return record;
  });
}

/** Calls of a module, oldest first, one page of them, and how many match in all. */
export function functionCalls(store: Store, filter: CallFilter, page: Page): { calls: CallRecord[]; total: number } {
  const w = where(filter);
  const total = (store.db.prepare(`SELECT count(*) AS n FROM events WHERE ${w.sql}`).get(w.params) as { n: number }).n;
  const rows = store.db
    .prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE ${w.sql} ORDER BY ts_ns, id LIMIT :limit OFFSET :offset`)
    .all({ ...w.params, limit: page.limit, offset: page.offset }) as Row[];
  return { calls: callRecords(store, rows), total };
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
  const view: Record<string, unknown> = {
    ref: c.ref,
    time: iso(c.wall_ms),
    actor: c.actor,
    module: c.module,
    fn: c.fn,
    args: c.args.map((a) => renderValue(a)),
    outcome: c.outcome,
    ...(c.outcome === 'returned' ? { result: renderValue(c.result) } : {}),
    ...(c.outcome === 'threw' ? { error: renderValue(c.error) } : {}),
    // Three significant digits, as the text shows them: 12.913606 was noise to a reader.
    duration_ms: c.duration_ms === null ? null : Number(ms(c.duration_ms)),
    async: c.async,
    parent: c.parent,
    corr: c.corr,
  };
  // Absent means none: a structured row costs a model ~1.6× its text line, and nulls were much of that.
  for (const key of ['duration_ms', 'async', 'parent', 'corr']) if (view[key] === null) delete view[key];
  return view;
}
