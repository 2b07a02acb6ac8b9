// Wall-clock windows as ts_ns ranges. Time arguments are wall-clock ms (time.ts), but the indexes are on
// (actor, ts_ns) and (type, ts_ns): with no index on wall_ms, a question about "every event between 16:00 and
// 16:05" would read the whole table. Both clocks are the host's (docs/events.md: ts_ns is CLOCK_MONOTONIC,
// shared by every process and thread of the family; wall_ms is Date.now()), so wall_ms − ts_ns/1e6 is one
// offset that only moves when the wall clock is stepped or slewed. We read it at the oldest and the newest
// row, widen the range by their difference plus a second, and filter on wall_ms exactly inside it (why, and
// the one case this misses: docs/queries.md).
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

/** The oldest or the newest row (by insertion), through the primary key. */
export function edgeRow(store: Store, which: 'min' | 'max'): { ts_ns: number; wall_ms: number } | undefined {
  return store.db.prepare(`SELECT ts_ns, wall_ms FROM events WHERE id = (SELECT ${which}(id) FROM events)`).get() as { ts_ns: number; wall_ms: number } | undefined;
}

/**
 * The distinct event types, one index seek each (a skip scan over (type, ts_ns)): `type IN (…)` with a ts_ns
 * range then reads only the window from each type's part of the index.
 */
export function eventTypes(store: Store): string[] {
  const rows = store.db
    .prepare(
      `WITH RECURSIVE t(type) AS (
         SELECT min(type) FROM events
         UNION ALL SELECT (SELECT min(type) FROM events WHERE type > t.type) FROM t WHERE t.type IS NOT NULL)
       SELECT type FROM t WHERE type IS NOT NULL`,
    )
    .all() as { type: string }[];
  return rows.map((r) => r.type);
}
