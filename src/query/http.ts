// Incoming HTTP requests (the `web` option): each `http/request` with its `http/response` (same ref, the
// request id, which every event caused while serving it carries as `corr`).
import { kindIs } from '../store/kinds.js';
import { requestRefsIn, type Store } from '../store/store.js';
import { tsRange } from './clock.js';
import { iso, parseJson } from './format.js';
import { endedAs } from './tree.js';
import { cap, COUNT_BOUND, type Page } from './page.js';
import { countedEvents, likeEscape, ms } from './rows.js';
import { WINDOW_SQL, windowParams, type TimeWindow } from './time.js';

export interface RequestFilter {
  window: TimeWindow;
  statusMin?: number;
  slowMs?: number;
  /** An Express route pattern (/users/:id), or the start of a URL path (/users/). */
  route?: string;
  method?: string;
}

export interface HttpRequest {
  /** The request id: `corr` of everything done while serving it. */
  id: string;
  actor: string;
  wall_ms: number;
  method: string;
  url: string;
  route: string | null;
  status: number | null;
  duration_ms: number | null;
  pending: boolean;
  /** For a request left pending: how the thread serving it ended afterwards ("exited (code 1)"), if it did. */
  ended?: string;
}

// The response of a request: the first `http/response` with its id after it, read from the (type, ts_ns)
// index (`+actor` keeps the planner off the thread's whole history). A request still pending reads the later
// http rows to the end: these are few next to all events, and pending requests are few.
const JOINED = `SELECT q.id AS row_id, q.actor, q.ref, q.wall_ms, q.payload AS req,
    (SELECT r.payload FROM events AS r
      WHERE ${kindIs('http', 'response', 'r')} AND r.ts_ns >= q.ts_ns AND r.ref = q.ref AND +r.actor_code = q.actor_code
      ORDER BY r.ts_ns, r.id LIMIT 1) AS res, q.ts_ns
  FROM events AS q`;

type Joined = { row_id: number; actor: string; ref: string | null; wall_ms: number; req: string | null; res: string | null; ts_ns: number };

function request(r: Joined): HttpRequest {
  const q = (parseJson(r.req) ?? {}) as Record<string, unknown>;
  const s = r.res === null ? null : ((parseJson(r.res) ?? {}) as Record<string, unknown>);
  return {
    id: r.ref ?? `#${r.row_id}`,
    actor: r.actor,
    wall_ms: r.wall_ms,
    method: typeof q.method === 'string' ? q.method : '?',
    url: typeof q.url === 'string' ? cap(q.url) : '?',
    route: s && typeof s.route === 'string' ? s.route : null,
    status: s && typeof s.status === 'number' ? s.status : null,
    duration_ms: s && typeof s.duration_ns === 'number' ? s.duration_ns / 1e6 : null,
    pending: s === null,
  };
}

export interface Requests {
  requests: HttpRequest[];
  /** Matching requests; a lower bound when `more`. */
  total: number;
  /** More than `total` match (counting stopped there). */
  more: boolean;
}

export function httpRequests(store: Store, filter: RequestFilter, page: Page): Requests {
  const range = tsRange(store, filter.window);
  const params: Record<string, string | number | null> = { lo: range.lo, hi: range.hi, ...windowParams(filter.window) };
  // Conditions on the request row (q) and on what it joined (req, res: the payloads).
  const conds = ['q.ts_ns >= :lo', 'q.ts_ns <= :hi', WINDOW_SQL.replace(/wall_ms/g, 'q.wall_ms')];
  if (filter.method) {
    conds.push("upper(json_extract(q.payload, '$.method')) = :method");
    params.method = filter.method.toUpperCase();
  }
  const outer: string[] = [];
  if (filter.route) {
    outer.push("(json_extract(res, '$.route') = :route OR json_extract(req, '$.url') LIKE :route_prefix ESCAPE '\\')");
    params.route = filter.route;
    params.route_prefix = `${likeEscape(filter.route)}%`;
  }
  const bound = Math.max(COUNT_BOUND, page.offset + page.limit);
  if (filter.statusMin !== undefined || filter.slowMs !== undefined) {
    if (store.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'events_http_slow'").get() !== undefined) return keyedRequests(store, filter, page, bound, conds, outer, params);
    // A file of an earlier version, opened read-only: responses have no duration key; read from the payloads.
    if (filter.statusMin !== undefined) {
      outer.push("json_extract(res, '$.status') >= :status");
      params.status = filter.statusMin;
    }
    if (filter.slowMs !== undefined) {
      outer.push("json_extract(res, '$.duration_ns') >= :slow_ns");
      params.slow_ns = filter.slowMs * 1e6;
    }
  }
  const sql = `SELECT * FROM (${JOINED} WHERE ${kindIs('http', 'request', 'q')} AND ${conds.join(' AND ')})${outer.length ? ` WHERE ${outer.join(' AND ')}` : ''}`;
  // Every request, the store's counts have it: counting them read each one (93 ms on 1 M events).
  const every = filter.window.sinceMs === null && filter.window.untilMs === null && !filter.method && outer.length === 0;
  const counted = every ? countedEvents(store, "type = 'http' AND subtype = 'request'", {}) : undefined;
  const n = counted ?? (store.db.prepare(`SELECT count(*) AS n FROM (${sql} LIMIT :bound)`).get({ ...params, bound: bound + 1 }) as { n: number }).n;
  const rows = store.db.prepare(`${sql} ORDER BY ts_ns, row_id LIMIT :limit OFFSET :offset`).all({ ...params, limit: page.limit, offset: page.offset }) as Joined[];
  return { requests: withEnds(store, rows.map(request)), total: Math.min(n, counted ?? bound), more: counted === undefined && n > bound };
}

/**
 * Requests by what their response says (status, duration): the responses come from a key index
 * (events_http_slow on k_ns, events_http_status on the status, `site` of a response), each joined to its request (the latest before
 * it with its id) and checked against the other filters. Counted up to `bound` in one statement; the page is
 * read in the order the requests started (a response's time less its duration: the request's own time for a
 * served request, src/trace/expand_http.ts), joined one by one until it is full. What it reads grows with the
 * page and the bound, not with the requests recorded, but for the sort of the matching index entries.
 */
function keyedRequests(store: Store, filter: RequestFilter, page: Page, bound: number, conds: string[], outer: string[], params: Record<string, string | number | null>): Requests {
  const keys: string[] = [];
  if (filter.slowMs !== undefined) {
    keys.push('r.k_ns >= :slow_ns');
    params.slow_ns = filter.slowMs * 1e6;
  }
  if (filter.statusMin !== undefined) {
    keys.push('r.site >= :status');
    params.status = filter.statusMin;
  }
  const index = filter.slowMs !== undefined ? 'events_http_slow' : 'events_http_status';
  const matching = `${kindIs('http', 'response', 'r')} AND ${keys.join(' AND ')} AND r.ts_ns >= :lo`;
  const joined = (responses: string, which: string) =>
    `SELECT * FROM (SELECT q.id AS row_id, q.actor, q.ref, q.wall_ms, q.payload AS req, r.payload AS res, q.ts_ns
      FROM ${responses}, events AS q
      WHERE ${which} AND q.id = (SELECT x.id FROM events AS x INDEXED BY events_http_request
        WHERE ${kindIs('http', 'request', 'x')} AND x.short_ref = r.short_ref AND x.actor_code = r.actor_code AND x.ts_ns <= r.ts_ns AND x.ref = r.ref ORDER BY x.ts_ns DESC, x.id DESC LIMIT 1)
        AND ${conds.join(' AND ')})${outer.length ? ` WHERE ${outer.join(' AND ')}` : ''}`;
  const n = (store.db.prepare(`SELECT count(*) AS n FROM (${joined(`events AS r INDEXED BY ${index}`, matching)} LIMIT :bound)`).get({ ...params, bound: bound + 1 }) as { n: number }).n;
  const candidates = store.db.prepare(`SELECT r.id FROM events AS r INDEXED BY ${index} WHERE ${matching} ORDER BY r.ts_ns - coalesce(r.k_ns, 0), r.id`);
  const one = store.db.prepare(joined('events AS r', 'r.id = :id'));
  const rows: Joined[] = [];
  let at = 0;
  for (const { id } of candidates.iterate(params) as IterableIterator<{ id: number }>) {
    if (at >= page.offset + page.limit) break;
    const row = one.get({ ...params, id }) as Joined | undefined;
    if (row === undefined) continue;
    if (at++ >= page.offset) rows.push(row);
  }
  rows.sort((a, b) => a.ts_ns - b.ts_ns || a.row_id - b.row_id);
  return { requests: rows.map(request), total: Math.min(n, bound), more: n > bound };
}

/**
 * Requests in progress at a moment: received, with no response by then. Per request id, the latest of its
 * request and response rows up to the moment decides (ids restart when an agent is installed again).
 */
export function requestsInProgress(store: Store, atMs: number): HttpRequest[] {
  const { hi } = tsRange(store, { sinceMs: null, untilMs: atMs });
  // SQLite takes the bare columns of a max() aggregate from the row holding the maximum.
  const rows = store.db
    .prepare(
      `SELECT id AS row_id, actor, ref, wall_ms, payload AS req, NULL AS res, subtype, max(ts_ns) AS ts_ns FROM events
       WHERE ${kindIs('http', ['request', 'response'])} AND ts_ns <= :hi AND wall_ms <= :at AND ref IS NOT NULL
       GROUP BY actor_code, ref`,
    )
    .all({ hi, at: atMs }) as (Joined & { subtype: string })[];
  return rows
    .filter((r) => r.subtype === 'request')
    .sort((a, b) => a.ts_ns - b.ts_ns || a.row_id - b.row_id)
    .map(request);
}

/** Requests by id (the `corr` of other events), with their responses. */
export function requestsById(store: Store, ids: readonly string[]): HttpRequest[] {
  if (ids.length === 0) return [];
  const list = requestRefsIn(ids, 'q', 'q');
  const rows = store.db
    .prepare(`${JOINED} INDEXED BY events_http_request WHERE ${kindIs('http', 'request', 'q')} AND ${list.sql} ORDER BY q.ts_ns, q.id`)
    .all(list.params) as Joined[];
  return withEnds(store, rows.map(request));
}

/**
 * A pending request whose thread ended after it came in was never answered (a worker that crashed on it):
 * "pending" alone read as still being served.
 */
function withEnds(store: Store, requests: HttpRequest[]): HttpRequest[] {
  for (const r of requests) {
    const a = r.pending ? store.actor(r.actor) : undefined;
    if (a && a.status !== 'running' && a.status !== 'detached' && a.ended_ms !== null && a.ended_ms >= r.wall_ms) r.ended = endedAs(a);
  }
  return requests;
}

/**
 * `2026-…Z POST /checkout → 500 in 6.2 ms (route /checkout) [4242:r1]`, or `… pending`. The route shows
 * even when it spells the URL: it says a route answered (a route's own 404, not an unknown path's).
 */
export function renderRequest(r: HttpRequest): string {
  const outcome = r.ended ? `no response: ${r.actor} ${r.ended} before answering` : r.pending ? 'pending (no response recorded)' : `${r.status ?? '?'}${r.duration_ms === null ? '' : ` in ${ms(r.duration_ms)} ms`}`;
  const route = r.route ? ` (route ${r.route})` : '';
  return `${iso(r.wall_ms)} ${r.actor} ${r.method} ${r.url} → ${outcome}${route} [${r.id}]`;
}

export function requestView(r: HttpRequest): Record<string, unknown> {
  return {
    id: r.id,
    actor: r.actor,
    time: iso(r.wall_ms),
    method: r.method,
    url: r.url,
    route: r.route,
    status: r.status,
    duration_ms: r.duration_ms,
    pending: r.pending,
    ...(r.ended ? { ended: r.ended } : {}),
  };
}
