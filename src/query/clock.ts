// Wall-clock windows as ts_ns ranges. Time arguments are wall-clock ms (time.ts), but the indexes are on
// (actor, ts_ns) and (type, ts_ns): with no index on wall_ms, a question about "every event between 16:00 and
// 16:05" would read the whole table. Both clocks are the host's (docs/events.md: ts_ns is CLOCK_MONOTONIC,
// shared by every process and thread of the family; wall_ms is Date.now()), so wall_ms − ts_ns/1e6 is one
// offset that only moves when the wall clock is stepped or slewed. We read it at the oldest and the newest
// row, widen the range by their difference plus a second, and filter on wall_ms exactly inside it (why, and
// the one case this misses: docs/queries.md).
import { typeName } from '../store/kinds.js';
import type { Store } from '../store/store.js';
import type { TimeWindow } from './time.js';

/** Slack around the mapped range, for NTP slewing between the two rows the offset is read from. */
const SLACK_MS = 1_000;

export interface TsRange {
  lo: number;
  hi: number;
}

/** The ts_ns range that holds every row of a wall-clock window (a superset: filter on wall_ms too). */
export function tsRange(store: Store, window: TimeWindow): TsRange {
  const first = edgeRow(store, 'min');
  const last = edgeRow(store, 'max');
  if (!first || !last) return { lo: Number.MIN_SAFE_INTEGER, hi: Number.MAX_SAFE_INTEGER };
  const offsets = [first.wall_ms - first.ts_ns / 1e6, last.wall_ms - last.ts_ns / 1e6];
  const lowOff = Math.min(...offsets) - SLACK_MS;
  const highOff = Math.max(...offsets) + SLACK_MS;
  return {
    lo: window.sinceMs === null ? Number.MIN_SAFE_INTEGER : Math.floor((window.sinceMs - highOff) * 1e6),
    hi: window.untilMs === null ? Number.MAX_SAFE_INTEGER : Math.ceil((window.untilMs - lowOff) * 1e6),
  };
}

/** How far the clock offset (wall − ts) of rows near a moment may differ from one of them: ms resolution and more. */
const NEAR_NS = 20e6;

/**
 * The ts_ns range that holds a wall-clock moment, 2·NEAR_NS wide when a row of `types` lies within a second
 * of it: tsRange's bounds hold for the whole trace (a second of slack each way, for clock slewing), so a read
 * from them reads a second of rows either side; rows near the moment share one offset, checked on the rows of
 * that type just outside the range (else: tsRange's).
 */
export function momentRange(store: Store, atMs: number, types: readonly string[]): TsRange {
  const wide = tsRange(store, { sinceMs: atMs, untilMs: atMs });
  type Near = { type: string; ts_ns: number; wall_ms: number };
  // Seeks within tsRange's bounds, where every row of the moment lies.
  const seek = (order: string, of: readonly string[], lo: number, hi: number) => {
    const st = store.db.prepare(`SELECT type, ts_ns, wall_ms FROM events WHERE type_code = ? AND ts_ns >= ? AND ts_ns <= ? ORDER BY ts_ns ${order} LIMIT 1`);
    let best: Near | undefined;
    for (const t of of) {
      const r = st.get(store.typeCode(t), lo, hi) as Near | undefined;
      if (r && (!best || (order === 'DESC' ? r.ts_ns > best.ts_ns : r.ts_ns < best.ts_ns))) best = r;
    }
    return best;
  };
  // The newest row at or before the moment as the newest row's offset places it (wide.hi lies a second past
  // it: the newest row there was often just over a second away in a dense store, and the range fell back to
  // wide, whose second of slack a page then read through).
  const last = edgeRow(store, 'max');
  const guess = last === undefined ? wide.hi : Math.min(wide.hi, Math.max(wide.lo, Math.ceil((atMs - (last.wall_ms - last.ts_ns / 1e6)) * 1e6)));
  const near = seek('DESC', types, wide.lo, guess) ?? seek('ASC', types, guess, wide.hi);
  if (near === undefined || Math.abs(atMs - near.wall_ms) > 1_000) return wide;
  const mid = near.ts_ns + (atMs - near.wall_ms) * 1e6;
  const range = { lo: Math.max(wide.lo, Math.floor(mid - NEAR_NS)), hi: Math.min(wide.hi, Math.ceil(mid + NEAR_NS)) };
  const below = seek('DESC', [near.type], wide.lo, range.lo - 1);
  const above = seek('ASC', [near.type], range.hi + 1, wide.hi);
  return (below === undefined || below.wall_ms < atMs) && (above === undefined || above.wall_ms > atMs) ? range : wide;
}

/**
 * The ts_ns range of a wall-clock window, each end mapped near it (momentRange): tsRange's second of slack
 * each way read 20 times the rows of a 100 ms window, and a page read in ts_ns order from its start read a
 * second of rows before the window's first.
 */
export function windowRange(store: Store, window: TimeWindow, types: readonly string[]): TsRange {
  const wide = tsRange(store, window);
  return {
    lo: window.sinceMs === null ? wide.lo : momentRange(store, window.sinceMs, types).lo,
    hi: window.untilMs === null ? wide.hi : momentRange(store, window.untilMs, types).hi,
  };
}

/** The oldest or the newest row (by insertion), through the primary key. */
export function edgeRow(store: Store, which: 'min' | 'max'): { ts_ns: number; wall_ms: number } | undefined {
  return store.db.prepare(`SELECT ts_ns, wall_ms FROM events WHERE id = (SELECT ${which}(id) FROM events)`).get() as { ts_ns: number; wall_ms: number } | undefined;
}

/**
 * The distinct event types, one index seek each (a skip scan over (type_code, ts_ns)): `type_code IN (…)` with
 * a ts_ns range then reads only the window from each type's part of the index.
 */
export function eventTypes(store: Store): string[] {
  const rows = store.db
    .prepare(
      `WITH RECURSIVE t(c) AS (
         SELECT min(type_code) FROM events
         UNION ALL SELECT (SELECT min(type_code) FROM events WHERE type_code > t.c) FROM t WHERE t.c IS NOT NULL)
       SELECT c FROM t WHERE c IS NOT NULL`,
    )
    .all() as { c: number | string }[];
  // In the order of their names, as when they were stored as text (the index orders codes).
  return rows.map((r) => typeName(r.c)).sort();
}
