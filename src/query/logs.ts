// Output of the target (`log/<level>` rows, payload {text, stream}; rows of older versions have no stream):
// the latest lines first
// selected, then shown oldest first, like `tail`.
import type { Store } from '../store/store.js';
import { tsRange } from './clock.js';
import { iso, parseJson } from './format.js';
import { cap } from './page.js';
import { countedEvents, inList, likeEscape, type Row } from './rows.js';
import { WINDOW_SQL, windowParams, type TimeWindow } from './time.js';

export const DEFAULT_TAIL = 50;
export const MAX_TAIL = 500;

export interface LogFilter {
  actors?: readonly string[];
  /** The level: a console method, a JSON log line's level, or stdout/stderr when none is known. */
  level?: string;
  /** A substring of the text (case-insensitive for ASCII letters). */
  grep?: string;
  window: TimeWindow;
}

export interface LogLine {
  wall_ms: number;
  actor: string;
  level: string;
  /** stdout or stderr; null on rows recorded before output carried its stream. */
  stream: string | null;
  text: string;
  corr: string | null;
}

export function logs(store: Store, filter: LogFilter, tail: number): { lines: LogLine[]; total: number } {
  const range = tsRange(store, filter.window);
  const params: Record<string, string | number | null> = { lo: range.lo, hi: range.hi, ...windowParams(filter.window) };
  const conds = ['ts_ns >= :lo', 'ts_ns <= :hi', WINDOW_SQL];
  if (filter.actors?.length) {
    const a = inList('a', filter.actors);
    // `+type`: one thread's rows from (actor, ts_ns), not every log line of every thread.
    conds.unshift(`actor IN (${a.sql})`, "+type = 'log'");
    Object.assign(params, a.params);
  } else {
    conds.unshift("type = 'log'");
  }
  if (filter.level) {
    conds.push('subtype = :level');
    params.level = filter.level;
  }
  if (filter.grep) {
    conds.push("json_extract(payload, '$.text') LIKE :grep ESCAPE '\\'");
    params.grep = `%${likeEscape(filter.grep)}%`;
  }
  const where = conds.join(' AND ');
  // Without a window or a text, the store's counts answer: counting the lines read every one (82 ms for a
  // level on 1 M events, ten times that on 10 M).
  const plain = filter.window.sinceMs === null && filter.window.untilMs === null && !filter.grep;
  const actors = filter.actors?.length ? inList('a', filter.actors) : undefined;
  const counted = plain
    ? countedEvents(store, `type = 'log'${actors ? ` AND actor IN (${actors.sql})` : ''}${filter.level ? ' AND subtype = :level' : ''}`, { ...actors?.params, ...(filter.level ? { level: filter.level } : {}) })
    : undefined;
  const total = counted ?? (store.db.prepare(`SELECT count(*) AS n FROM events WHERE ${where}`).get(params) as { n: number }).n;
  const rows = store.db
    .prepare(`SELECT wall_ms, actor, subtype, corr, payload FROM events WHERE ${where} ORDER BY ts_ns DESC, id DESC LIMIT :tail`)
    .all({ ...params, tail: Math.min(tail, MAX_TAIL) }) as Pick<Row, 'wall_ms' | 'actor' | 'subtype' | 'corr' | 'payload'>[];
  const lines = rows.reverse().map((r): LogLine => {
    const p = parseJson(r.payload);
    const o = (p && typeof p === 'object' ? p : {}) as { text?: unknown; stream?: unknown };
    const text = typeof o.text === 'string' ? o.text : String(p ?? '');
    return { wall_ms: r.wall_ms, actor: r.actor, level: r.subtype, stream: typeof o.stream === 'string' ? o.stream : null, text: cap(text), corr: r.corr };
  });
  return { lines, total };
}

/** `2026-…Z 4242 [warn] slow request (request 4242:r3)` */
export function renderLog(l: LogLine): string {
  return `${iso(l.wall_ms)} ${l.actor} [${l.level}] ${l.text}${l.corr ? ` (request ${l.corr})` : ''}`;
}

export function logView(l: LogLine): Record<string, unknown> {
  return { time: iso(l.wall_ms), actor: l.actor, level: l.level, stream: l.stream, text: l.text, corr: l.corr };
}
