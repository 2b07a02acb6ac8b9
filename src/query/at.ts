// Time travel: the state in force at a moment (the last snapshot at or before it), the whole system at a
// moment, and what happened to one object between two moments.
import type { ActorRow, Store } from '../store/store.js';
import { tsRange } from './clock.js';
import { diffStates, type Change } from './diff.js';
import { requestsById, requestsInProgress, type HttpRequest } from './http.js';
import type { Page } from './page.js';
import { executionPath, type PathEntry } from './path.js';
import { inFlight, type InFlight } from './queues.js';
import { actorFamily, inList, objectInfo, ROW_COLUMNS, type Row } from './rows.js';
import { MAX_CHANGES, snapshot, SNAPSHOTS, type Snapshot } from './states.js';
import { WINDOW_SQL, windowParams } from './time.js';

export interface StateAt {
  /** The snapshot in force: the last one at or before the moment. */
  snapshot: Snapshot | null;
  /** When there is none: the first snapshot ever recorded, if any. */
  first: Snapshot | null;
}

export function stateAt(store: Store, actor: string, atMs: number): StateAt {
  const className = objectInfo(store.actor(actor)).class;
  // Read backwards over (actor, ts_ns) from the mapped moment, not from the object's last snapshot.
  const { hi } = tsRange(store, { sinceMs: null, untilMs: atMs });
  const row = store.db
    .prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE ${SNAPSHOTS} AND ts_ns <= :hi AND wall_ms <= :at ORDER BY ts_ns DESC, id DESC LIMIT 1`)
    .get({ actor, hi, at: atMs }) as Row | undefined;
  if (row) return { snapshot: snapshot(row, className), first: null };
  const first = store.db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE ${SNAPSHOTS} ORDER BY ts_ns, id LIMIT 1`).get({ actor }) as Row | undefined;
  return { snapshot: null, first: first ? snapshot(first, className) : null };
}

/** Alive at a moment: started by then (or start unknown), not ended by then, nor its owner for an object. */
function aliveAt(a: ActorRow, atMs: number, byId: Map<string, ActorRow>): boolean {
  const alive = (x: ActorRow) => (x.started_ms === null || x.started_ms <= atMs) && (x.ended_ms === null || x.ended_ms > atMs);
  if (!alive(a)) return false;
  const owner = a.kind === 'object' && a.parent ? byId.get(a.parent) : undefined;
  return owner ? alive(owner) : true;
}

export interface SystemSnapshot {
  at_ms: number;
  actors: ActorRow[];
  objects: { actor: ActorRow; state: StateAt }[];
  in_flight: InFlight[];
  requests: HttpRequest[];
}

export function systemSnapshot(store: Store, atMs: number): SystemSnapshot {
  const all = store.actors();
  const byId = new Map(all.map((a) => [a.id, a]));
  const alive = all.filter((a) => aliveAt(a, atMs, byId));
  return {
    at_ms: atMs,
    actors: alive.filter((a) => a.kind !== 'object'),
    objects: alive.filter((a) => a.kind === 'object').map((a) => ({ actor: a, state: stateAt(store, a.id, atMs) })),
    in_flight: inFlight(store, atMs),
    requests: requestsInProgress(store, atMs),
  };
}

export interface StateChange {
  before: StateAt;
  after: StateAt;
  changes: Change[];
  /** Changes left out past MAX_CHANGES. */
  more: number;
  /** What touched the actor between the two moments (its path: calls, messages, states). */
  entries: PathEntry[];
  total: number;
  /** Requests served by calls on the actor between the two moments. */
  requests: HttpRequest[];
}

/** Requests listed per answer; the rest stay reachable through get_http_requests. */
const MAX_REQUESTS = 20;

export function stateChange(store: Store, actor: string, beforeMs: number, afterMs: number, page: Page): StateChange {
  const before = stateAt(store, actor, beforeMs);
  const after = stateAt(store, actor, afterMs);
  const all = before.snapshot && after.snapshot ? diffStates(before.snapshot.state, after.snapshot.state) : [];
  const window = { sinceMs: beforeMs, untilMs: afterMs };
  const { entries, total } = executionPath(store, actor, window, page);
  const family = inList('f', actorFamily(store, actor));
  const range = tsRange(store, window);
  const corrs = store.db
    .prepare(
      `SELECT DISTINCT corr FROM events
       WHERE actor IN (${family.sql}) AND ts_ns >= :lo AND ts_ns <= :hi AND +type = 'call' AND subtype = 'call' AND corr IS NOT NULL AND ${WINDOW_SQL}
       LIMIT :max`,
    )
    .all({ ...family.params, ...range, ...windowParams(window), max: MAX_REQUESTS }) as { corr: string }[];
  return {
    before,
    after,
    changes: all.slice(0, MAX_CHANGES),
    more: Math.max(0, all.length - MAX_CHANGES),
    entries,
    total,
    requests: requestsById(store, corrs.map((c) => c.corr)),
  };
}
