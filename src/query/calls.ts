// Function calls of traced modules: each `call/call` row with its `call/return` or `call/throw` (same
// `ref`, same actor, later ts_ns).
import { kindIs } from '../store/kinds.js';
import { CORR_IS, CORR_ROWS, corrParams, type Store } from '../store/store.js';
import { iso, parseJson, renderArgs, renderValue } from './format.js';
import type { Page } from './page.js';
import { actorCodes, inList, likeEscape, ms, ROW_COLUMNS, type Row } from './rows.js';
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

/**
 * `arguments_only`: recorded by a breakpoint (trace_module where V8 offers no live edit, a call through a
 * reference taken before tracing), which sees a call start and never its end — not a call still running.
 */
export type CallOutcome = 'returned' | 'threw' | 'running' | 'arguments_only';

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

/**
 * The distinct (module, fn) pairs of recorded calls, from the store's call sites with a call in the
 * events_call_key index: one index probe per site (there are tens, not the hundreds of thousands of call rows). What a user typed (a path suffix, a
 * package name, a method name) is matched against these, and the rows are then read by their exact keys.
 */
const CALL_PAIRS = distinctPairs('pairs', 'events_call_key', kindIs('call', 'call'));

/**
 * The call sites (module m, function f, code s: src/store/names.ts) with a row in an index that starts with
 * the site, in (module, fn) order: one probe of the index per site the store has named.
 */
export function distinctPairs(name: string, index: string, rows: string): string {
  return `WITH ${name}(m, f, s) AS (
    SELECT module, fn, code FROM site_codes AS c WHERE EXISTS (SELECT 1 FROM events INDEXED BY ${index} WHERE ${rows} AND site = c.code) ORDER BY module, fn)`;
}

// The name a trace was started by (a call's module) against what is asked now: the same, one ending the
// other on a path segment ("payments.cjs" traced, "apps/shop/payments.cjs" asked, or the other way round),
// or a package's file. Tens of distinct names at most, walked from the index.
const MODULE_MATCH = `(m = :m_exact OR m LIKE :m_suffix ESCAPE '\\' OR m LIKE :m_pkg ESCAPE '\\' OR :m_tail = ltrim(m, './') OR substr(:m_tail, -length(ltrim(m, './')) - 1) = '/' || ltrim(m, './'))`;

function moduleParams(name: string): Record<string, string> {
  const exact = name.trim();
  const tail = exact.replace(/^file:\/\//, '').replace(/^\.\//, '').replace(/^\/+/, '');
  return { m_exact: exact, m_suffix: `%/${likeEscape(tail)}`, m_pkg: `%/node_modules/${likeEscape(exact)}/%`, m_tail: tail };
}

/** SQL true when `m` (a module name as traced) is what a user typed: the same rules as the call keys'. */
export function moduleNameMatch(name: string): { sql: string; params: Record<string, string> } {
  return { sql: MODULE_MATCH, params: moduleParams(name) };
}

/**
 * SQL matching a module name against what a user typed, among the modules with recorded calls (named
 * parameters :m_exact, :m_suffix, :m_pkg, :m_tail): on `k_module` of the store's tallies.
 */
export function moduleCondition(name: string): { sql: string; params: Record<string, string> } {
  return {
    sql: `k_module IN (${CALL_PAIRS} SELECT DISTINCT m FROM pairs WHERE ${MODULE_MATCH})`,
    params: moduleParams(name),
  };
}

/** The same on events: their sites (`site`) of those modules. */
export function moduleSites(name: string): { sql: string; params: Record<string, string> } {
  return {
    sql: `site IN (SELECT code FROM site_codes WHERE module IN (${CALL_PAIRS} SELECT DISTINCT m FROM pairs WHERE ${MODULE_MATCH}))`,
    params: moduleParams(name),
  };
}

/** The recorded (module, fn) pairs that a filter's module and function match: tens at most, from the index. */
function matchingPairs(store: Store, module: string, fn: string | undefined): { m: string; f: string; s: number }[] {
  const byFn = fn !== undefined && fn !== '';
  return store.db
    .prepare(
      `${CALL_PAIRS} SELECT m, f, s FROM pairs WHERE ${MODULE_MATCH}${byFn ? ` AND (f = :fn OR f LIKE :fn_method ESCAPE '\\' OR f LIKE :fn_prop ESCAPE '\\')` : ''}`,
    )
    .all({ ...moduleParams(module), ...(byFn ? { fn, fn_method: `%#${likeEscape(fn)}`, fn_prop: `%.${likeEscape(fn)}` } : {}) }) as { m: string; f: string; s: number }[];
}

/**
 * The call rows of one (module, fn) pair (its site) that a filter selects, in ts_ns order straight from
 * events_call_key (site, ts_ns). The planner has no statistics, so the index is named. Conditions that need the row
 * (window, actor, request) are only written when given: without them, counting reads the index alone.
 */
function pairWhere(store: Store, filter: CallFilter): { sql: string; params: Record<string, string | number | bigint | null> } {
  const actors = filter.actors?.length ? inList('a', actorCodes(store, filter.actors)) : undefined;
  const conds = [kindIs('call', 'call'), 'site = :site'];
  if (filter.window.sinceMs !== null || filter.window.untilMs !== null) conds.push(WINDOW_SQL);
  if (actors) conds.push(`actor_code IN (${actors.sql})`);
  // A request's calls are a few of its rows, from events_corr (whose condition is written as it is there).
  if (filter.corr) conds.push(CORR_IS, CORR_ROWS);
  return {
    sql: `events INDEXED BY ${filter.corr ? 'events_corr' : 'events_call_key'} WHERE ${conds.join(' AND ')}`,
    params: { ...windowParams(filter.window), ...actors?.params, ...(filter.corr ? corrParams(filter.corr) : {}) },
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
         WHERE actor_code = :actor AND ts_ns >= :from AND +${kindIs('call')} AND ref IN (${refs.sql})
         ORDER BY ts_ns, id`,
      )
      .iterate({ actor: store.actorCode(actor), from: Math.min(...rows.map((r) => r.ts_ns)), ...refs.params }) as IterableIterator<Row>;
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
      out.set(call.id, completionOf(row, call.ts_ns));
      if (waiting.size === 0) break;
    }
  }
  return out;
}

/** `call/call` rows joined with their completions (found here, unless the caller already has them by call id). */
/** What a call/return or call/throw row says of its call (started at `startNs`). */
export function completionOf(end: Pick<Row, 'subtype' | 'payload' | 'ts_ns'>, startNs: number): Completion {
  const p = (parseJson(end.payload) ?? {}) as Record<string, unknown>;
  const threw = end.subtype === 'throw';
  return {
    outcome: threw ? 'threw' : 'returned',
    value: threw ? p.error : p.result,
    duration_ms: typeof p.duration_ns === 'number' ? p.duration_ns / 1e6 : (end.ts_ns - startNs) / 1e6,
    async: typeof p.async === 'boolean' ? p.async : null,
  };
}

export function callRecords(store: Store, rows: readonly Row[], known?: Map<number, Completion>): CallRecord[] {
  const done = known ?? callCompletions(store, rows);
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
      // A breakpoint's call row says so (`via`) and has no call id, so nothing can complete it.
      outcome: end?.outcome ?? (p.via === 'breakpoint' ? 'arguments_only' : 'running'),
      duration_ms: end?.duration_ms ?? null,
      async: end?.async ?? null,
    };
    if (end?.outcome === 'returned') record.result = end.value;
    if (end?.outcome === 'threw') record.error = end.value;
    return record;
  });
}

/**
 * Calls of a module, oldest first, one page of them, and how many match in all. Each matching (module, fn)
 * pair is read in ts_ns order from the index, at most offset + limit rows of it, and the pairs are merged
 * here: one sort of every matching call (100k for a busy module) cost more than the rest of the answer.
 */
export function functionCalls(store: Store, filter: CallFilter, page: Page): { calls: CallRecord[]; total: number } {
  const w = pairWhere(store, filter);
  // Without a window or a request, the store's call_counts has the count: no row is read for it.
  const actors = filter.actors?.length ? inList('ta', filter.actors) : undefined;
  const counted = filter.window.sinceMs === null && filter.window.untilMs === null && !filter.corr && store.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'call_counts'").get() !== undefined;
  const count = counted
    ? store.db.prepare(`SELECT coalesce(sum(n), 0) AS n FROM call_counts WHERE k_module = :pm AND k_fn = :pf${actors ? ` AND actor IN (${actors.sql})` : ''}`)
    : store.db.prepare(`SELECT count(*) AS n FROM ${w.sql}`);
  const read = store.db.prepare(`SELECT ${ROW_COLUMNS} FROM ${w.sql} ORDER BY ts_ns, id LIMIT :n`);
  let total = 0;
  const merged: Row[] = [];
  for (const { m, f, s } of matchingPairs(store, filter.module, filter.fn)) {
    const n = (count.get({ ...w.params, ...actors?.params, pm: m, pf: f, site: s }) as { n: number }).n;
    total += n;
    // A pair with none of these calls is not read: with an actor filter that would walk all of its calls.
    if (n > 0) merged.push(...(read.all({ ...w.params, site: s, n: page.offset + page.limit }) as Row[]));
  }
  merged.sort((a, b) => a.ts_ns - b.ts_ns || a.id - b.id);
  return { calls: callRecords(store, merged.slice(page.offset, page.offset + page.limit)), total };
}

/** Modules with recorded calls (for an error that says what exists). */
export function modulesWithCalls(store: Store, max = 20): string[] {
  const rows = store.db
    .prepare(`${CALL_PAIRS} SELECT DISTINCT m FROM pairs LIMIT ?`)
    .all(max) as { m: string | null }[];
  return rows.map((r) => r.m ?? '?');
}

/**
 * `charge(100, "EUR") → {ok: true} (1.2 ms)`, `charge(0) ✗ Error: declined (0.3 ms)`, `run() … no return recorded`
 * (still running, or ended unseen), `quote(2) — arguments only (…)` (a breakpoint's call: it never has a return).
 */
export function renderCallOutcome(c: CallRecord): string {
  const head = `${c.fn}(${renderArgs(c.args)})`;
  const took = c.duration_ms === null ? '' : ` (${ms(c.duration_ms)} ms${c.async ? ', async' : ''})`;
  if (c.outcome === 'returned') return `${head} → ${renderValue(c.result)}${took}`;
  if (c.outcome === 'threw') return `${head} ✗ ${renderValue(c.error)}${took}`;
  if (c.outcome === 'arguments_only') return `${head} — arguments only (recorded by a breakpoint, which sees no return)`;
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
