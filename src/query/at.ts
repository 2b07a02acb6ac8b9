// Time travel: the state in force at a moment (the last snapshot at or before it), the whole system at a
// moment, and what happened to one object between two moments.
import { kindIs } from '../store/kinds.js';
import { LONG_REQUEST_NS, type ActorRow, type Store } from '../store/store.js';
import { momentRange, tsRange } from './clock.js';
import { diffStates, type Change } from './diff.js';
import { parseJson } from './format.js';
import { requestsById, requestsInProgress, type HttpRequest } from './http.js';
import { receiptsOf } from './messages.js';
import { cap, type Page } from './page.js';
import { executionPath, type PathEntry } from './path.js';
import { inFlight, inFlightOf, tracedSince, type InFlight } from './queues.js';
import { actorCodes, actorFamily, inList, objectInfo, ROW_COLUMNS, type Row } from './rows.js';
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
    .get({ actor_code: store.actorCode(actor), hi, at: atMs }) as Row | undefined;
  if (row) return { snapshot: snapshot(row, className), first: null };
  const first = store.db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE ${SNAPSHOTS} ORDER BY ts_ns, id LIMIT 1`).get({ actor_code: store.actorCode(actor) }) as Row | undefined;
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
    in_flight: inFlightAt(store, atMs),
    requests: requestsAt(store, atMs),
  };
}

function hasTable(store: Store, name: string): boolean {
  return store.db.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(name) !== undefined;
}

/** Sends read per step of the walk back from a moment: in a pair's steady traffic, the first is received. */
const WALK = 32;

/**
 * Messages in flight at a past moment, as inFlight counts them (per message id, its sends since the
 * receiver's first event less its receipts, up to the moment; the unmatched sends are its latest), without
 * counting every message up to the moment (1.2 s p95 on 1 M events). Per sender → receiver pair (the store's
 * message tallies): its sends read backwards from the moment (events_send_pair), each id counted up to the
 * moment by events_message_ref, until a send that was received by then: a channel delivers in order, so
 * what was sent before it was received before it (two channels between the same pair are taken to keep
 * order too). And its sends never received (message_open), sent by then, which lie further back: read
 * forward from each id's oldest one the store keeps (reading each open id's every send took 0.4–1.2 s after a
 * 10 s flood whose content repeats, ~60 sends an id); none of them has a receipt to look for. What it reads
 * grows with the messages in flight and the copies of their ids. A file without the tallies is counted as
 * before.
 */
export function inFlightAt(store: Store, atMs: number): InFlight[] {
  if (!hasTable(store, 'message_open')) return inFlight(store, atMs);
  const { hi } = momentRange(store, atMs, ['message']);
  const pairs = store.db.prepare('SELECT sender, receiver FROM message_pairs').all() as { sender: string; receiver: string }[];
  const SENDS = `${kindIs('message', 'send')} AND actor_code = :from_code AND to_actor = :to AND from_actor = :from AND ref IS NOT NULL`;
  const step = store.db.prepare(
    `SELECT ${ROW_COLUMNS} FROM events INDEXED BY events_send_pair WHERE ${SENDS} AND ts_ns >= :start AND (ts_ns, id) < (:ts, :id) AND wall_ms <= :at
     ORDER BY ts_ns DESC, id DESC LIMIT ${WALK}`,
  );
  const excessOf = store.db.prepare(
    `SELECT coalesce(sum(${kindIs('message', 'send')} AND actor_code = :from_code AND from_actor = :from AND to_actor = :to AND ts_ns >= :start), 0)
          - coalesce(sum(${kindIs('message', 'receive')} AND from_actor = :from AND to_actor = :to), 0) AS n
     FROM events INDEXED BY events_message_ref WHERE short_ref = message_ref(:ref, :from, :to) AND ref = :ref AND ${kindIs('message')} AND ts_ns <= :hi AND wall_ms <= :at`,
  );
  const kept = store.db.prepare("SELECT 1 FROM pragma_table_info('message_open') WHERE name = 'oldest'").get() !== undefined;
  const openRefs = store.db.prepare(`SELECT ref, open, ${kept ? 'oldest' : 'NULL AS oldest'} FROM message_open WHERE sender = ? AND receiver = ? AND open > 0`);
  const sendsOf = store.db.prepare(`SELECT ${ROW_COLUMNS} FROM events INDEXED BY events_message_ref WHERE short_ref = message_ref(:ref, :from, :to) AND ${SENDS} ORDER BY ts_ns DESC, id DESC`);
  // An id's open sends, oldest first, up to the moment: from its oldest open send on.
  const openSince = store.db.prepare(
    `SELECT ${ROW_COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')} FROM events AS o, events AS e INDEXED BY events_message_ref
     WHERE o.id = :oldest AND e.short_ref = message_ref(:ref, :from, :to) AND ${kindIs('message', 'send', 'e')} AND e.actor_code = :from_code AND e.to_actor = :to AND e.from_actor = :from
       AND e.ts_ns >= o.ts_ns AND (e.ts_ns, e.id) >= (o.ts_ns, o.id) AND e.ts_ns <= :hi AND e.wall_ms <= :at
     ORDER BY e.ts_ns, e.id LIMIT :n OFFSET :skip`,
  );
  const earlySends = store.db.prepare(
    `SELECT ref, count(*) AS n FROM events INDEXED BY events_send_pair
     WHERE ${kindIs('message', 'send')} AND actor_code = :from_code AND to_actor = :to AND ts_ns < :start AND from_actor = :from AND ref IS NOT NULL
     GROUP BY ref`,
  );
  const found = new Map<number, Row>();
  const never = new Map<number, Row>();
  for (const { sender: from, receiver: to } of pairs) {
    // Sends from before tracing began in the receiver are left out: their receipts cannot have been recorded.
    const start = tracedSince(store, to)?.since;
    if (start === undefined) continue;
    const from_code = store.actorCode(from);
    const pair = { from, from_code, to, start, hi, at: atMs };
    // Per id, its sends in flight at the moment not yet met on the way back.
    const left = new Map<string, number>();
    let cursor = { ts: hi, id: Number.MAX_SAFE_INTEGER };
    walk: for (;;) {
      const sends = step.all({ ...pair, ...cursor }) as Row[];
      for (const s of sends) {
        const n = left.get(s.ref!) ?? (excessOf.get({ ...pair, ref: s.ref }) as { n: number }).n;
        if (n <= 0) break walk;
        left.set(s.ref!, n - 1);
        found.set(s.id, s);
      }
      if (sends.length < WALK) break;
      cursor = { ts: sends[WALK - 1]!.ts_ns, id: sends[WALK - 1]!.id };
    }
    // Per id, the sends never received are its latest, less those from before the receiver's start.
    const earlyOf = kept ? new Map((earlySends.all({ from, from_code, to, start }) as { ref: string; n: number }[]).map((r) => [r.ref, r.n])) : null;
    for (const { ref, open, oldest } of openRefs.all(from, to) as { ref: string; open: number; oldest: number | null }[]) {
      if (earlyOf && oldest !== null) {
        // Its open sends are its latest `open`; the first of them may be from before the receiver's start.
        const skip = Math.min(open, earlyOf.get(ref) ?? 0);
        for (const s of openSince.all({ ...pair, ref, oldest, n: open - skip, skip }) as Row[]) never.set(s.id, s);
        continue;
      }
      const sends = sendsOf.all({ ref, from, from_code, to }) as Row[];
      const early = sends.filter((s) => s.ts_ns < start).length;
      for (const s of sends.slice(0, Math.max(0, open - early))) if (s.ts_ns <= hi && s.wall_ms <= atMs) found.set(s.id, s);
    }
  }
  // Sends never received have no receipt to look for.
  for (const id of never.keys()) found.delete(id);
  const later = receiptsOf(store, [...found.values()]);
  const sends = [...found.values(), ...never.values()].sort((a, b) => a.ts_ns - b.ts_ns || a.id - b.id);
  return sends.map((s) => inFlightOf(s, later.get(s.id)));
}

/**
 * HTTP requests in progress at a moment: received by then, not answered by then. Those received in the
 * LONG_REQUEST_NS (250 ms) before it, with their responses, from the (type, ts_ns) index; older ones lasted
 * longer, so they are in the store's http_spans (still unanswered, or answered that late), each checked
 * against the moment. Reading every request and response up to the moment took 0.2–1 s on 1 M events. A file
 * without http_spans is read as before.
 */
export function requestsAt(store: Store, atMs: number): HttpRequest[] {
  if (!hasTable(store, 'http_spans')) return requestsInProgress(store, atMs);
  // A request in progress at the moment that started before lo lasted LONG_REQUEST_NS or more.
  const moment = momentRange(store, atMs, ['http']);
  const { hi } = moment;
  const lo = moment.lo - LONG_REQUEST_NS;
  type Http = { id: number; actor: string; ref: string; subtype: string; ts_ns: number; wall_ms: number; payload: string | null };
  const rows = store.db
    .prepare(
      `SELECT id, actor, ref, subtype, ts_ns, wall_ms, payload FROM events
       WHERE ${kindIs('http', ['request', 'response'])} AND ts_ns >= :lo AND ts_ns <= :hi AND ref IS NOT NULL AND wall_ms <= :at
       ORDER BY ts_ns, id`,
    )
    .all({ lo, hi, at: atMs }) as Http[];
  const open = new Map<string, Http>();
  for (const r of rows) {
    if (r.subtype === 'request') open.set(`${r.actor}\0${r.ref}`, r);
    else open.delete(`${r.actor}\0${r.ref}`);
  }
  const spans = store.db
    .prepare('SELECT actor, ref, start_ns, end_ns FROM http_spans WHERE start_ns < :lo AND (end_ns IS NULL OR end_ns >= :lo)')
    .all({ lo }) as { actor: string; ref: string; start_ns: number; end_ns: number | null }[];
  const requestAt = store.db.prepare(
    `SELECT id, actor, ref, subtype, ts_ns, wall_ms, payload FROM events INDEXED BY events_http_request
     WHERE short_ref = request_ref(:ref, :actor) AND actor_code = :actor_code AND ts_ns = :ts AND ref = :ref AND ${kindIs('http', 'request')} AND wall_ms <= :at`,
  );
  const answered = store.db.prepare(`SELECT 1 FROM events WHERE ${kindIs('http', 'response')} AND ts_ns = :ts AND ref = :ref AND actor_code = :actor_code AND wall_ms <= :at`);
  for (const s of spans) {
    const params = { actor_code: store.actorCode(s.actor), ref: s.ref, at: atMs };
    if (s.end_ns !== null && answered.get({ ...params, ts: s.end_ns }) !== undefined) continue;
    const r = requestAt.get({ ...params, actor: s.actor, ts: s.start_ns }) as Http | undefined;
    if (r) open.set(`${r.actor}\0${r.ref}\0${r.ts_ns}`, r);
  }
  return [...open.values()]
    .sort((a, b) => a.ts_ns - b.ts_ns || a.id - b.id)
    .map((r) => {
      const q = (parseJson(r.payload) ?? {}) as Record<string, unknown>;
      return { id: r.ref, actor: r.actor, wall_ms: r.wall_ms, method: typeof q.method === 'string' ? q.method : '?', url: typeof q.url === 'string' ? cap(q.url) : '?', route: null, status: null, duration_ms: null, pending: true };
    });
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
  const family = inList('f', actorCodes(store, actorFamily(store, actor)));
  const range = tsRange(store, window);
  const corrs = store.db
    .prepare(
      `SELECT DISTINCT corr FROM events
       WHERE actor_code IN (${family.sql}) AND ts_ns >= :lo AND ts_ns <= :hi AND +${kindIs('call', 'call')} AND corr IS NOT NULL AND ${WINDOW_SQL}
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
