// Durations of traced calls: per-function statistics of a module, and the slowest calls. A `call/return` or
// `call/throw` carries its call's module, fn and duration_ns (docs/events.md), so statistics read the
// completions alone; calls still running have no duration and are counted apart.
import { kindIs } from '../store/kinds.js';
import { TIMING_EXACT_CALLS, TIMING_SAMPLE_EVERY, timingBucketRange, type TimingSummary } from '../shared/protocol.js';
import type { Store } from '../store/store.js';
import { callRecords, completionOf, distinctPairs, moduleCondition, moduleNameMatch, moduleSites, type CallRecord, type Completion } from './calls.js';
import { parseJson } from './format.js';
import { ms, ROW_COLUMNS, type Row } from './rows.js';
import { WINDOW_SQL, windowParams, type TimeWindow } from './time.js';

export interface FunctionStats {
  module: string;
  fn: string;
  calls: number;
  errors: number;
  /** Calls with no completion recorded. */
  running: number;
  total_ms: number;
  mean_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  max_ms: number | null;
  /** From a timing-only trace's sums: no call was recorded one by one, p50 and p95 are estimates. */
  timing_only?: true;
  /**
   * Timing only, a hot function: the calls whose duration was measured, fewer than `calls`. Total, mean, p50
   * and p95 are estimated from them (scaled by calls / timed), max is the slowest of them.
   */
  timed?: number;
  /** p50 and p95 from the recorded calls' duration histogram (more than EXACT_PERCENTILES of them): within 25%. */
  estimated?: true;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

export function performanceAnalysis(store: Store, module: string, window: TimeWindow): FunctionStats[] {
  const whole = window.sinceMs === null && window.untilMs === null;
  const recorded = (whole && tallied(store, module)) || readStats(store, module, window);
  return [...recorded, ...functionTimings(store, module, window)].sort((a, b) => b.total_ms - a.total_ms || a.fn.localeCompare(b.fn));
}

/**
 * A function's p50 and p95 are read exactly from its completions (events_end_key, ordered by duration) up to
 * this many durations (at most half of them stepped over); past it they come from the histogram, within 25%.
 */
export const EXACT_PERCENTILES = 2_000;

/**
 * Every recorded call of a module, from the store's tallies: calls from call_counts, completions, throws,
 * summed durations and a histogram from call_durations, the max from the top of the function's range of
 * events_end_key. What it reads grows with the functions, not the calls (reading every completion: 1.7 s p95
 * for 100k completions in 1 M events). Undefined when the store has no tallies or a name is missing ('' as a
 * key: read from the payloads instead).
 */
function tallied(store: Store, module: string): FunctionStats[] | undefined {
  const tables = store.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('call_counts', 'call_durations')").get() as { n: number };
  if (tables.n < 2) return undefined;
  const mod = moduleCondition(module);
  const calls = store.db.prepare(`SELECT k_module AS module, k_fn AS fn, sum(n) AS n FROM call_counts WHERE ${mod.sql} GROUP BY 1, 2`).all(mod.params) as { module: string; fn: string; n: number }[];
  const buckets = store.db
    .prepare(`SELECT k_module AS module, k_fn AS fn, bucket, n, errors, total_ns FROM call_durations WHERE ${mod.sql}`)
    .all(mod.params) as { module: string; fn: string; bucket: number; n: number; errors: number; total_ns: number }[];
  if ([...calls, ...buckets].some((r) => r.module === '' || r.fn === '')) return undefined;
  type Sums = { module: string; fn: string; calls: number; completed: number; errors: number; timed: number; totalNs: number; hist: Map<number, number> };
  const sums = new Map<string, Sums>();
  const get = (m: string, f: string) => {
    const k = `${m}\0${f}`;
    if (!sums.has(k)) sums.set(k, { module: m, fn: f, calls: 0, completed: 0, errors: 0, timed: 0, totalNs: 0, hist: new Map() });
    return sums.get(k)!;
  };
  for (const c of calls) get(c.module, c.fn).calls += c.n;
  for (const b of buckets) {
    const s = get(b.module, b.fn);
    s.completed += b.n;
    s.errors += b.errors;
    if (b.bucket < 0) continue;
    s.timed += b.n;
    s.totalNs += b.total_ns;
    s.hist.set(b.bucket, b.n);
  }
  // Numeric durations only, slowest first: what percentile() would have sorted.
  const timed = `FROM events INDEXED BY events_end_key WHERE ${kindIs('call', ['return', 'throw'])} AND site = ? AND typeof(k_ns) IN ('integer', 'real') ORDER BY k_ns DESC`;
  const nthStatement = store.db.prepare(`SELECT k_ns AS ns ${timed} LIMIT 1 OFFSET ?`);
  const nth = (m: string, f: string, offset: number) => (nthStatement.get(store.siteCode(m, f), offset) as { ns: number } | undefined)?.ns;
  return [...sums.values()].map((s): FunctionStats => {
    const maxNs = s.timed ? nth(s.module, s.fn, 0) : undefined;
    const exact = s.timed <= EXACT_PERCENTILES;
    const at = (p: number) => {
      if (maxNs === undefined) return null;
      if (!exact) return histogramPercentile(s.hist, s.timed, p, maxNs);
      const ns = nth(s.module, s.fn, s.timed - Math.max(1, Math.ceil(p * s.timed)));
      return ns === undefined ? null : ns / 1e6;
    };
    return {
      ...counted(s),
      total_ms: s.totalNs / 1e6,
      mean_ms: maxNs !== undefined ? s.totalNs / s.timed / 1e6 : null,
      p50_ms: at(0.5),
      p95_ms: at(0.95),
      max_ms: maxNs !== undefined ? maxNs / 1e6 : null,
      ...(exact || maxNs === undefined ? {} : { estimated: true as const }),
    };
  });
}

/** A function's name and its counts: calls, errors, and calls started and not ended (still running). */
function counted(s: { module: string; fn: string; calls: number; errors: number; completed: number }): Pick<FunctionStats, 'module' | 'fn' | 'calls' | 'errors' | 'running'> {
  return { module: s.module, fn: s.fn, calls: s.calls, errors: s.errors, running: Math.max(0, s.calls - s.completed) };
}

/** The same from the module's calls and completions in a window (or from a file without the tallies). */
function readStats(store: Store, module: string, window: TimeWindow): FunctionStats[] {
  const mod = moduleSites(module);
  const params = { ...mod.params, ...windowParams(window) };
  type Count = { module: string | null; fn: string | null; n: number };
  const calls = store.db
    .prepare(
      `SELECT json_extract(payload, '$.module') AS module, json_extract(payload, '$.fn') AS fn, count(*) AS n FROM events INDEXED BY events_call_key
       WHERE ${kindIs('call', 'call')} AND ${WINDOW_SQL} AND ${mod.sql} GROUP BY 1, 2`,
    )
    .all(params) as Count[];
  // The module's completions from events_end_key, named by their key columns (a json_extract of each
  // payload's names cost half the time); a missing name ('' as a key) is read from the payloads as before.
  type End = { module: string | null; fn: string | null; subtype: string; ns: number | null };
  const readEnds = (names: string) =>
    store.db
      .prepare(
        `SELECT ${names}, subtype, k_ns AS ns FROM events INDEXED BY events_end_key
         WHERE ${kindIs('call', ['return', 'throw'])} AND ${WINDOW_SQL} AND ${mod.sql}`,
      )
      .all(params) as End[];
  let ends = readEnds("nullif(k_module, '') AS module, nullif(k_fn, '') AS fn");
  if (ends.some((e) => e.module === null || e.fn === null)) ends = readEnds("json_extract(payload, '$.module') AS module, json_extract(payload, '$.fn') AS fn");
  const key = (m: string | null, f: string | null) => `${m ?? '?'}\0${f ?? '?'}`;
  const stats = new Map<string, { module: string; fn: string; calls: number; errors: number; completed: number; durations: number[] }>();
  const get = (m: string | null, f: string | null) => {
    const k = key(m, f);
    if (!stats.has(k)) stats.set(k, { module: m ?? '?', fn: f ?? '?', calls: 0, errors: 0, completed: 0, durations: [] });
    return stats.get(k)!;
  };
  for (const c of calls) get(c.module, c.fn).calls += c.n;
  for (const e of ends) {
    const s = get(e.module, e.fn);
    s.completed++;
    if (e.subtype === 'throw') s.errors++;
    if (typeof e.ns === 'number') s.durations.push(e.ns / 1e6);
  }
  return [...stats.values()].map((s): FunctionStats => {
    const d = s.durations.sort((a, b) => a - b);
    const total = d.reduce((a, b) => a + b, 0);
    return {
      ...counted(s),
      total_ms: total,
      mean_ms: d.length ? total / d.length : null,
      p50_ms: percentile(d, 0.5),
      p95_ms: percentile(d, 0.95),
      max_ms: d.length ? d[d.length - 1]! : null,
    };
  });
}

/** `charge: 2 calls, 1 error, 1 running; total 1.5 ms, mean 1.5, p50 1.5, p95 1.5, max 1.5 ms` */
export function renderStats(s: FunctionStats): string {
  const counts = [`${s.calls} call${s.calls === 1 ? '' : 's'}`, `${s.errors} error${s.errors === 1 ? '' : 's'}`, ...(s.running ? [`${s.running} running`] : [])].join(', ');
  if (s.mean_ms === null) return `${s.fn}: ${counts}; no duration recorded`;
  const est = s.timing_only || s.estimated ? '~' : '';
  const sampled = s.timed === undefined ? '' : '~';
  const only = s.timing_only ? ` (timing only${s.timed === undefined ? '' : `, ${s.timed} calls timed`})` : '';
  return `${s.fn}: ${counts}; total ${sampled}${ms(s.total_ms)} ms, mean ${sampled}${ms(s.mean_ms)}, p50 ${est}${ms(s.p50_ms!)}, p95 ${est}${ms(s.p95_ms!)}, max ${maxOf(s)} ms${only}`;
}

/** A function's max in ms; `≥` when it is the slowest of a sample of the calls. */
export function maxOf(s: FunctionStats): string {
  return `${s.timed === undefined ? '' : '≥'}${ms(s.max_ms!)}`;
}

/** What estimated percentiles say, once per answer that shows them. */
export const ESTIMATED_NOTE = `~: p50/p95 from a histogram of the recorded durations, within 25% (exact up to ${EXACT_PERCENTILES.toLocaleString('en-US')} calls).`;

/** What a timing-only trace's functions say, once per answer that shows them. */
export const TIMING_ONLY_NOTE = 'Timing only (trace_module capture "timing"): calls, errors and durations were summed in the target; arguments, results and single calls were not recorded; p50/p95 are estimates (within 25%).';

/** What a sampled function's figures are, once per answer that shows one. */
export const SAMPLED_NOTE = `Calls and errors are exact. A function past ${TIMING_EXACT_CALLS} calls in a second has ~1 in ${TIMING_SAMPLE_EVERY} of the rest timed: its total and mean (~) are estimated from the calls timed, its max (≥) is the slowest of them.`;

/** The notes an answer showing these functions ends with. */
export function timingNotes(shown: readonly FunctionStats[]): string[] {
  return [...(shown.some((s) => s.timing_only) ? [TIMING_ONLY_NOTE] : []), ...(shown.some((s) => s.timed !== undefined) ? [SAMPLED_NOTE] : [])];
}

/**
 * Per-function sums of timing-only traces (the `agent/timing` summaries, one per module and thread each
 * second with calls): of every module or one, of every thread or the given actors, for summaries sent within
 * the window. A summary whose function was timed on a sample of its calls stands for all of them: its timed
 * calls' total and histogram are scaled by calls / timed (each summary by its own ratio: a function's rate,
 * and so its sample, changes from one second to the next).
 */
export function functionTimings(store: Store, module: string | undefined, window: TimeWindow, filter: { fn?: string; actors?: readonly string[] } = {}): FunctionStats[] {
  const mod = module === undefined ? { sql: '1', params: {} } : moduleNameMatch(module);
  const rows = store.db
    .prepare(
      `SELECT actor, payload FROM (SELECT actor, payload, json_extract(payload, '$.module') AS m FROM events WHERE ${kindIs('agent', 'timing')} AND ${WINDOW_SQL})
       WHERE ${mod.sql}`,
    )
    .all({ ...mod.params, ...windowParams(window) }) as { actor: string; payload: string | null }[];
  // covered: the calls of the summaries with a call timed (a summary can hold one call, begun before it and not timed).
  const sums = new Map<string, { module: string; fn: string; calls: number; errors: number; timed: number; covered: number; totalNs: number; maxNs: number; hist: Map<number, number> }>();
  for (const row of rows) {
    if (filter.actors && !filter.actors.includes(row.actor)) continue;
    const p = parseJson(row.payload) as TimingSummary | null;
    for (const f of p?.fns ?? []) {
      if (filter.fn && f.fn !== filter.fn && !f.fn.endsWith(`#${filter.fn}`) && !f.fn.endsWith(`.${filter.fn}`)) continue;
      const key = `${p!.module}\0${f.fn}`;
      const s = sums.get(key) ?? { module: p!.module, fn: f.fn, calls: 0, errors: 0, timed: 0, covered: 0, totalNs: 0, maxNs: 0, hist: new Map() };
      sums.set(key, s);
      const timed = f.timed ?? f.calls;
      s.calls += f.calls;
      s.errors += f.errors;
      s.timed += timed;
      if (timed === 0) continue;
      const scale = f.calls / timed;
      s.covered += f.calls;
      s.totalNs += f.total_ns * scale;
      s.maxNs = Math.max(s.maxNs, f.max_ns);
      for (const [b, n] of Object.entries(f.hist)) s.hist.set(Number(b), (s.hist.get(Number(b)) ?? 0) + n * scale);
    }
  }
  return [...sums.values()]
    .map((s): FunctionStats => ({
      module: s.module,
      fn: s.fn,
      calls: s.calls,
      errors: s.errors,
      running: 0,
      total_ms: s.covered ? (s.totalNs * (s.calls / s.covered)) / 1e6 : 0,
      mean_ms: s.covered ? s.totalNs / s.covered / 1e6 : null,
      p50_ms: histogramPercentile(s.hist, s.covered, 0.5, s.maxNs),
      p95_ms: histogramPercentile(s.hist, s.covered, 0.95, s.maxNs),
      max_ms: s.covered ? s.maxNs / 1e6 : null,
      timing_only: true,
      ...(s.timed < s.calls ? { timed: s.timed } : {}),
    }))
    .sort((a, b) => b.total_ms - a.total_ms || a.fn.localeCompare(b.fn));
}

/**
 * A percentile in ms from bucket counts (fractional when scaled from a sample): interpolated inside the
 * bucket that holds its rank, at most the max.
 */
function histogramPercentile(hist: Map<number, number>, n: number, p: number, maxNs: number): number | null {
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(p * n));
  let seen = 0;
  for (const b of [...hist.keys()].sort((x, y) => x - y)) {
    const c = hist.get(b)!;
    if (seen + c >= rank) {
      const [lo, hi] = timingBucketRange(b);
      return Math.min(maxNs, lo + ((hi - lo) * (rank - seen)) / c) / 1e6;
    }
    seen += c;
  }
  return maxNs / 1e6;
}

/**
 * The distinct (module, fn) pairs of recorded completions, walked through events_end_key as CALL_PAIRS walks
 * the calls (completions are kept apart: a call pruned before its completion leaves only the latter).
 */
const END_PAIRS = distinctPairs('ends', 'events_end_key', kindIs('call', ['return', 'throw']));

type End = { id: number; actor: string; ref: string; ts_ns: number; k_ns: unknown; subtype: string; payload: string | null };

/** SQLite's order of values, descending (text, then numbers, then NULL), as ORDER BY k_ns DESC sorts. */
function byDurationDesc(a: End, b: End): number {
  const rank = (v: unknown) => (v === null || v === undefined ? 0 : typeof v === 'number' || typeof v === 'bigint' ? 1 : 2);
  const ra = rank(a.k_ns);
  const rb = rank(b.k_ns);
  if (ra !== rb) return rb - ra;
  if (ra === 1) return Number(b.k_ns) - Number(a.k_ns);
  if (ra === 2) return String(b.k_ns) < String(a.k_ns) ? -1 : String(b.k_ns) > String(a.k_ns) ? 1 : 0;
  return 0;
}

/**
 * The slowest completed calls, slowest first, each joined back to its `call/call` row (arguments, parent):
 * the latest call with its id before the completion, read backwards over (actor, ts_ns). Each (module, fn)
 * pair's slowest are the first rows of its range of events_end_key (k_module, k_fn, k_ns DESC, ts_ns), at
 * most `limit` of them, merged here: no completion is read beyond those (before: every completion, sorted).
 */
export function slowestCalls(store: Store, filter: { module?: string; window: TimeWindow }, limit: number): CallRecord[] {
  const mod = filter.module ? moduleCondition(filter.module) : { sql: '1', params: {} };
  const pairs = store.db
    .prepare(`SELECT s FROM (${END_PAIRS} SELECT m AS k_module, s FROM ends) WHERE ${mod.sql}`)
    .all(mod.params) as { s: number }[];
  const slowest = store.db.prepare(
    `SELECT id, actor, ref, ts_ns, k_ns, subtype, payload FROM events INDEXED BY events_end_key
     WHERE ${kindIs('call', ['return', 'throw'])} AND site = :site AND ref IS NOT NULL AND ${WINDOW_SQL}
     ORDER BY k_ns DESC, ts_ns, id LIMIT :limit`,
  );
  const merged: End[] = [];
  for (const { s } of pairs) merged.push(...(slowest.all({ site: s, ...windowParams(filter.window), limit }) as End[]));
  const ends = merged.sort((a, b) => byDurationDesc(a, b) || a.ts_ns - b.ts_ns || a.id - b.id).slice(0, limit);
  const callOf = store.db.prepare(
    `SELECT ${ROW_COLUMNS} FROM events WHERE actor_code = ? AND ts_ns <= ? AND +${kindIs('call', 'call')} AND ref = ? ORDER BY ts_ns DESC, id DESC LIMIT 1`,
  );
  // Each call's completion is the one in hand (call ids are unique per thread): looking it up again read
  // every event of the thread between the slowest calls (500 ms on 1 M events).
  const rows: Row[] = [];
  const done = new Map<number, Completion>();
  for (const e of ends) {
    const call = callOf.get(store.actorCode(e.actor), e.ts_ns, e.ref) as Row | undefined;
    if (call === undefined) continue;
    rows.push(call);
    done.set(call.id, completionOf(e, call.ts_ns));
  }
  return callRecords(store, rows, done);
}
