// Incoming HTTP requests (the `web` option): each `http/request` with its `http/response` (same ref, the
// request id, which every event caused while serving it carries as `corr`).
import type { Store } from '../store/store.js';
import { tsRange } from './clock.js';
import { iso, parseJson } from './format.js';
import { cap, type Page } from './page.js';
import { countedEvents, inList, likeEscape, ms } from './rows.js';
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
}

// The response of a request: the first `http/response` with its id after it, read from the (type, ts_ns)
// index (`+actor` keeps the planner off the thread's whole history). A request still pending reads the later
// http rows to the end: these are few next to all events, and pending requests are few.
const JOINED = `SELECT q.id AS row_id, q.actor, q.ref, q.wall_ms, q.payload AS req,
    (SELECT r.payload FROM events AS r
      WHERE r.type = 'http' AND r.ts_ns >= q.ts_ns AND r.subtype = 'response' AND r.ref = q.ref AND +r.actor = q.actor
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

export function httpRequests(store: Store, filter: RequestFilter, page: Page): { requests: HttpRequest[]; total: number } {
  const range = tsRange(store, filter.window);
  const conds = [
    "q.type = 'http'", 'q.ts_ns >= :lo', 'q.ts_ns <= :hi', "q.subtype = 'request'",
    WINDOW_SQL.replace(/wall_ms/g, 'q.wall_ms'),
  ];
  const params: Record<string, string | number | null> = { lo: range.lo, hi: range.hi, ...windowParams(filter.window) };
  if (filter.method) {
    conds.push("upper(json_extract(q.payload, '$.method')) = :method");
    params.method = filter.method.toUpperCase();
  }
  const outer: string[] = [];
  if (filter.statusMin !== undefined) {
    // Implied by the outer condition, and narrower to read: the requests whose id has a response with such a
    // status (events_http_status, then events_http_request), instead of every request in the window.
    conds.push("q.ref IN (SELECT s.ref FROM events AS s INDEXED BY events_http_status WHERE s.type = 'http' AND s.subtype = 'response' AND s.k_status >= :status)");
    outer.push("json_extract(res, '$.status') >= :status");
    params.status = filter.statusMin;
  }
  if (filter.slowMs !== undefined) {
    outer.push("json_extract(res, '$.duration_ns') >= :slow_ns");
    params.slow_ns = filter.slowMs * 1e6;
  }
  if (filter.route) {
    outer.push("(json_extract(res, '$.route') = :route OR json_extract(req, '$.url') LIKE :route_prefix ESCAPE '\\')");
    params.route = filter.route;
    params.route_prefix = `${likeEscape(filter.route)}%`;
  }
  const joined = filter.statusMin !== undefined ? JOINED.replace(/FROM events AS q$/, 'FROM events AS q INDEXED BY events_http_request') : JOINED;
  const sql = `SELECT * FROM (${joined} WHERE ${conds.join(' AND ')})${outer.length ? ` WHERE ${outer.join(' AND ')}` : ''}`;
  // Every request, the store's counts have it: counting them read each one (93 ms on 1 M events).
  const every = filter.window.sinceMs === null && filter.window.untilMs === null && !filter.method && filter.statusMin === undefined && outer.length === 0;
  const total = (every ? countedEvents(store, "type = 'http' AND subtype = 'request'", {}) : undefined) ??
    (store.db.prepare(`SELECT count(*) AS n FROM (${sql})`).get(params) as { n: number }).n;
  const rows = store.db.prepare(`${sql} ORDER BY ts_ns, row_id LIMIT :limit OFFSET :offset`).all({ ...params, limit: page.limit, offset: page.offset }) as Joined[];
  return { requests: rows.map(request), total };
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
       WHERE type = 'http' AND ts_ns <= :hi AND wall_ms <= :at AND subtype IN ('request', 'response') AND ref IS NOT NULL
       GROUP BY actor, ref`,
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
  const list = inList('q', ids);
  const rows = store.db
    .prepare(`${JOINED} WHERE q.type = 'http' AND q.subtype = 'request' AND q.ref IN (${list.sql}) ORDER BY q.ts_ns, q.id`)
    .all(list.params) as Joined[];
  return rows.map(request);
}

/** `2026-…Z POST /checkout → 500 in 6.2 ms (route /checkout) [4242:r1]`, or `… pending`. */
export function renderRequest(r: HttpRequest): string {
  const outcome = r.pending ? 'pending (no response recorded)' : `${r.status ?? '?'}${r.duration_ms === null ? '' : ` in ${ms(r.duration_ms)} ms`}`;
  const route = r.route && r.route !== r.url ? ` (route ${r.route})` : '';
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
  };
}
