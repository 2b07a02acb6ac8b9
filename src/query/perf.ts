// Durations of traced calls: per-function statistics of a module, and the slowest calls. A `call/return` or
// `call/throw` carries its call's module, fn and duration_ns (docs/events.md), so statistics read the
// completions alone; calls still running have no duration and are counted apart.
import type { Store } from '../store/store.js';
import { callRecords, moduleCondition, type CallRecord } from './calls.js';
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
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

export function performanceAnalysis(store: Store, module: string, window: TimeWindow): FunctionStats[] {
  const mod = moduleCondition(module);
  const params = { ...mod.params, ...windowParams(window) };
  const calls = store.db
    .prepare(
      `SELECT json_extract(payload, '$.module') AS module, json_extract(payload, '$.fn') AS fn, count(*) AS n FROM events INDEXED BY events_call_key
       WHERE type = 'call' AND subtype = 'call' AND ${WINDOW_SQL} AND ${mod.sql} GROUP BY 1, 2`,
    )
    .all(params) as { module: string | null; fn: string | null; n: number }[];
  const ends = store.db
    .prepare(
      `SELECT json_extract(payload, '$.module') AS module, json_extract(payload, '$.fn') AS fn, subtype, json_extract(payload, '$.duration_ns') AS ns FROM events
       WHERE type = 'call' AND subtype IN ('return', 'throw') AND ${WINDOW_SQL} AND ${mod.sql}`,
    )
    .all(params) as { module: string | null; fn: string | null; subtype: string; ns: number | null }[];
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
  return [...stats.values()]
    .map((s): FunctionStats => {
      const d = s.durations.sort((a, b) => a - b);
      const total = d.reduce((a, b) => a + b, 0);
      return {
        module: s.module,
        fn: s.fn,
        calls: s.calls,
        errors: s.errors,
        running: Math.max(0, s.calls - s.completed),
        total_ms: total,
        mean_ms: d.length ? total / d.length : null,
        p50_ms: percentile(d, 0.5),
        p95_ms: percentile(d, 0.95),
        max_ms: d.length ? d[d.length - 1]! : null,
      };
    })
    .sort((a, b) => b.total_ms - a.total_ms || a.fn.localeCompare(b.fn));
}

/** `charge: 2 calls, 1 error, 1 running; total 1.5 ms, mean 1.5, p50 1.5, p95 1.5, max 1.5 ms` */
export function renderStats(s: FunctionStats): string {
  const counts = [`${s.calls} call${s.calls === 1 ? '' : 's'}`, `${s.errors} error${s.errors === 1 ? '' : 's'}`, ...(s.running ? [`${s.running} running`] : [])].join(', ');
  if (s.mean_ms === null) return `${s.fn}: ${counts}; no duration recorded`;
  return `${s.fn}: ${counts}; total ${ms(s.total_ms)} ms, mean ${ms(s.mean_ms)}, p50 ${ms(s.p50_ms!)}, p95 ${ms(s.p95_ms!)}, max ${ms(s.max_ms!)} ms`;
}

/**
 * The slowest completed calls, slowest first, each joined back to its `call/call` row (arguments, parent):
 * the latest call with its id before the completion, read backwards over (actor, ts_ns).
 */
export function slowestCalls(store: Store, filter: { module?: string; window: TimeWindow }, limit: number): CallRecord[] {
  const mod = filter.module ? moduleCondition(filter.module) : { sql: '1', params: {} };
  const ends = store.db
    .prepare(
      `SELECT actor, ref, ts_ns FROM events
       WHERE type = 'call' AND subtype IN ('return', 'throw') AND ref IS NOT NULL AND ${WINDOW_SQL} AND ${mod.sql}
       ORDER BY json_extract(payload, '$.duration_ns') DESC, ts_ns, id LIMIT :limit`,
    )
    .all({ ...mod.params, ...windowParams(filter.window), limit }) as { actor: string; ref: string; ts_ns: number }[];
  const callOf = store.db.prepare(
    `SELECT ${ROW_COLUMNS} FROM events WHERE actor = ? AND ts_ns <= ? AND +type = 'call' AND subtype = 'call' AND ref = ? ORDER BY ts_ns DESC, id DESC LIMIT 1`,
  );
  const rows = ends.map((e) => callOf.get(e.actor, e.ts_ns, e.ref) as Row | undefined).filter((r): r is Row => r !== undefined);
  return callRecords(store, rows);
}
