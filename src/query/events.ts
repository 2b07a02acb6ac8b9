// Every event of a window, one line each, filterable by type, actor and module: the raw timeline, for when
// the question does not fit a narrower tool.
import type { Store } from '../store/store.js';
import { moduleSites } from './calls.js';
import { eventTypes, windowRange } from './clock.js';
import { iso, parseJson, renderValue } from './format.js';
import { COUNT_BOUND, type Page } from './page.js';
import { actorCodes, inList, ROW_COLUMNS, type Row } from './rows.js';
import { WINDOW_SQL, windowParams, type TimeWindow } from './time.js';

export interface EventFilter {
  window: TimeWindow;
  /** `call`, or `call/throw`. */
  type?: string;
  /** Only events recorded by these actors (a thread and the objects it owns). */
  actors?: readonly string[];
  /** Only events whose payload names this module (calls, trace start). */
  module?: string;
}

export interface EventLine {
  id: number;
  wall_ms: number;
  actor: string;
  event: string;
  from: string | null;
  to: string | null;
  ref: string | null;
  corr: string | null;
  payload: unknown;
}

/** Characters of payload per line: enough to recognize an event, short enough for 50 of them. */
const PAYLOAD_CAP = 120;

/**
 * A page of the events in a window, oldest first, and how many there are: counted up to COUNT_BOUND past the
 * page's end, then `more` (a second of a burst holds ~90k events: counting them all took 63–85 ms).
 * The page is read per type (or per actor) from its (type, ts_ns) or (actor, ts_ns) range in order, at most
 * offset + limit rows each, and merged here: sorting the window's rows across types was 81–95 ms p99 for a
 * burst's second.
 */
export function eventsBetween(store: Store, filter: EventFilter, page: Page): { events: EventLine[]; total: number; more: boolean; types: string[] } {
  const types = eventTypes(store);
  const [type, subtype] = filter.type ? filter.type.split('/', 2) : [];
  const range = windowRange(store, filter.window, types);
  const params: Record<string, unknown> = { lo: range.lo, hi: range.hi, ...windowParams(filter.window) };
  const conds = ['ts_ns >= :lo', 'ts_ns <= :hi', WINDOW_SQL];
  // The actor is the selective column when given: `+type_code` keeps the planner on (actor, ts_ns).
  const [column, keys]: [string, readonly unknown[]] = filter.actors?.length ? ['actor_code', actorCodes(store, filter.actors)] : ['type_code', (type ? [type] : types).map((t) => store.typeCode(t))];
  if (type && column === 'actor_code') {
    conds.push('+type_code = :type');
    params.type = store.typeCode(type);
  }
  if (subtype) {
    conds.push('subtype_code = :subtype');
    params.subtype = store.subtypeCode(subtype);
  }
  if (filter.module) {
    const m = moduleSites(filter.module);
    conds.push(m.sql);
    Object.assign(params, m.params);
  }
  const where = conds.join(' AND ');
  const bound = page.offset + page.limit + COUNT_BOUND;
  const all = inList('k', keys);
  const n = (store.db.prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE ${column} IN (${all.sql}) AND ${where} LIMIT :bound)`).get({ ...params, ...all.params, bound: bound + 1 }) as { n: number }).n;
  // Only (ts_ns, id) until the page is known: its rows are then read by id (a whole row, payload made from
  // its stored body, costs several times more; page 3 of 200 in a burst: 19.7 ms of CPU with whole rows).
  const keysOf = store.db.prepare(`SELECT ts_ns, id FROM events WHERE ${column} = :key AND ${where} ORDER BY ts_ns, id LIMIT :n`);
  const merged: { ts_ns: number; id: number }[] = [];
  for (const key of keys) for (const k of keysOf.all({ ...params, key, n: page.offset + page.limit }) as { ts_ns: number; id: number }[]) merged.push(k);
  merged.sort((x, y) => x.ts_ns - y.ts_ns || x.id - y.id);
  const byId = store.db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE id = ?`);
  const rows = merged.slice(page.offset, page.offset + page.limit).map(({ id }) => byId.get(id) as Row);
  return { events: rows.map(eventLine), total: Math.min(n, bound), more: n > bound, types };
}

export function eventLine(r: Row): EventLine {
  return {
    id: r.id,
    wall_ms: r.wall_ms,
    actor: r.actor,
    event: `${r.type}/${r.subtype}`,
    from: r.from_actor,
    to: r.to_actor,
    ref: r.ref,
    corr: r.corr,
    payload: parseJson(r.payload),
  };
}

/** Who else the event names: `→ 4242/w1` for a send, `← 4242` for a receipt, `from 4242` for lifecycle. */
function others(e: EventLine): string {
  if (e.to && e.to !== e.actor) return ` → ${e.to}`;
  if (e.from && e.from !== e.actor) return ` ${e.to === e.actor ? '←' : 'from'} ${e.from}`;
  return '';
}

/** `2026-…Z 4242 message/send → 4242/w1 {channel: "worker", …} [m1] (request 4242:r1)` */
export function renderEvent(e: EventLine): string {
  const payload = e.payload === null || (typeof e.payload === 'object' && Object.keys(e.payload as object).length === 0) ? '' : ` ${renderValue(e.payload, PAYLOAD_CAP)}`;
  const corr = e.corr && e.corr !== e.ref ? ` (request ${e.corr})` : '';
  return `${iso(e.wall_ms)} ${e.actor} ${e.event}${others(e)}${payload}${e.ref ? ` [${e.ref}]` : ''}${corr}`;
}

export function eventView(e: EventLine): Record<string, unknown> {
  return {
    id: e.id,
    time: iso(e.wall_ms),
    actor: e.actor,
    event: e.event,
    from: e.from,
    to: e.to,
    ref: e.ref,
    corr: e.corr,
    payload: renderValue(e.payload, PAYLOAD_CAP),
  };
}
