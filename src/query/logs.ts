// Output of the target (`log/<level>` rows, payload {text, stream}; rows of older versions have no stream):
// the latest lines first
// selected, then shown oldest first, like `tail`.
import { kindIs } from '../store/kinds.js';
import type { Store } from '../store/store.js';
import { tsRange } from './clock.js';
import { iso, parseJson } from './format.js';
import { cap, COUNT_BOUND, VALUE_CAP } from './page.js';
import { actorCodes, countedEvents, inList, likeEscape, type Row } from './rows.js';
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

export interface Logs {
  lines: LogLine[];
  /** Matching lines; a lower bound when `more`. */
  total: number;
  /** More than `total` match (counting stopped there). */
  more: boolean;
}

export function logs(store: Store, filter: LogFilter, tail: number): Logs {
  const range = tsRange(store, filter.window);
  const params: Record<string, unknown> = { lo: range.lo, hi: range.hi, ...windowParams(filter.window) };
  const conds = ['ts_ns >= :lo', 'ts_ns <= :hi', WINDOW_SQL];
  if (filter.actors?.length) {
    const a = inList('a', actorCodes(store, filter.actors));
    // `+type`: one thread's rows from (actor, ts_ns), not every log line of every thread.
    conds.unshift(`actor_code IN (${a.sql})`, `+${kindIs('log')}`);
    Object.assign(params, a.params);
  } else {
    conds.unshift(kindIs('log'));
  }
  if (filter.level) {
    conds.push('subtype_code = :level');
    params.level = store.subtypeCode(filter.level);
  }
  if (filter.grep) {
    // A text JSON writes as it is is looked for in the whole payload first: most lines are passed over
    // without parsing them (the page of get_logs(grep) on 1 M events: 3.7 → 2.0 ms CPU).
    const plain = JSON.stringify(filter.grep) === `"${filter.grep}"`;
    conds.push(`${plain ? "payload LIKE :grep ESCAPE '\\' AND " : ''}json_extract(payload, '$.text') LIKE :grep ESCAPE '\\'`);
    params.grep = `%${likeEscape(filter.grep)}%`;
  }
  const where = conds.join(' AND ');
  const shown = Math.min(tail, MAX_TAIL);
  // A text is matched line by line, latest first: the page reads until it has its lines, and one more says
  // whether earlier lines match too (counting them read every line: 259 ms p95 on 1 M events, 873 on 10 M).
  const rows = store.db
    .prepare(`SELECT wall_ms, actor, subtype, corr, payload FROM events WHERE ${where} ORDER BY ts_ns DESC, id DESC LIMIT :tail`)
    .all({ ...params, tail: filter.grep ? shown + 1 : shown }) as Pick<Row, 'wall_ms' | 'actor' | 'subtype' | 'corr' | 'payload'>[];
  let total: number;
  let more = false;
  if (filter.grep) {
    more = rows.length > shown;
    if (more) rows.pop();
    total = rows.length;
  } else {
    // Without a window, the store's counts answer (counting a level read every line of it: 82 ms on 1 M
    // events); with one, the lines are counted up to COUNT_BOUND.
    const actors = filter.actors?.length ? inList('a', filter.actors) : undefined;
    const plain = filter.window.sinceMs === null && filter.window.untilMs === null;
    const counted = plain
      ? countedEvents(store, `type = 'log'${actors ? ` AND actor IN (${actors.sql})` : ''}${filter.level ? ' AND subtype = :level' : ''}`, { ...actors?.params, ...(filter.level ? { level: filter.level } : {}) })
      : undefined;
    const bound = Math.max(COUNT_BOUND, shown);
    const n = counted ?? (store.db.prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE ${where} LIMIT :bound)`).get({ ...params, bound: bound + 1 }) as { n: number }).n;
    more = counted === undefined && n > bound;
    total = more ? bound : n;
  }
  const lines = rows.reverse().map((r): LogLine => {
    const p = parseJson(r.payload);
    const o = (p && typeof p === 'object' ? p : {}) as { text?: unknown; stream?: unknown };
    const text = typeof o.text === 'string' ? o.text : String(p ?? '');
    return { wall_ms: r.wall_ms, actor: r.actor, level: r.subtype, stream: typeof o.stream === 'string' ? o.stream : null, text: asShown(text), corr: r.corr };
  });
  return { lines, total, more };
}

/**
 * A line as shown, capped. A JSON log line (pino, bunyan, winston) cut at the cap would lose its message,
 * which loggers write after the request and error they carry (pino's error line of a failed request: the
 * cap falls in `"req":{…}`): its message, and its error's when that says more, are put in front.
 */
function asShown(text: string): string {
  if (text.length <= VALUE_CAP || text[0] !== '{') return cap(text);
  const line = parseJson(text) as { msg?: unknown; message?: unknown; err?: { message?: unknown } } | undefined;
  if (!line || typeof line !== 'object') return cap(text);
  const message = typeof line.msg === 'string' ? line.msg : typeof line.message === 'string' ? line.message : '';
  const error = typeof line.err?.message === 'string' && line.err.message !== message ? line.err.message : '';
  const lead = [message, error].filter(Boolean).join(': ');
  return cap(lead ? `${lead} — ${text}` : text);
}

/** `2026-…Z 4242 [warn] slow request (request 4242:r3)` */
export function renderLog(l: LogLine): string {
  return `${iso(l.wall_ms)} ${l.actor} [${l.level}] ${l.text}${l.corr ? ` (request ${l.corr})` : ''}`;
}

export function logView(l: LogLine): Record<string, unknown> {
  return { time: iso(l.wall_ms), actor: l.actor, level: l.level, stream: l.stream, text: l.text, corr: l.corr };
}
