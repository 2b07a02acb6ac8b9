// Messages between two actors, both directions: each `message/send` with its `message/receive` (same `ref`,
// recorded by the receiver). A send without a receipt is pending while its receiver runs, never read once the
// receiver ended (a worker that never listens on its parentPort: pino's transport), and unknown when it was
// sent before tracing began in a receiver that ran before it, or to a receiver that recorded nothing of its own
// (a thread or child not followed): their receipts would not be recorded. message_queue_analysis counts by the
// same rule (queues.ts, from receiverRecord).
import { kindIs } from '../store/kinds.js';
import { messageRefsIn, type Store } from '../store/store.js';
import { iso, parseJson, renderValue } from './format.js';
import type { Page } from './page.js';
import { ms, ROW_COLUMNS, type Row } from './rows.js';
import { WINDOW_SQL, windowParams, type TimeWindow } from './time.js';

/** A send, with its receipt if one was recorded. */
export interface SendRecord {
  /** The message id shared by the send and its receipt. */
  ref: string | null;
  from: string;
  to: string;
  channel: string;
  message: unknown;
  sent_ms: number;
  received_ms: number | null;
  /** receive ts_ns − send ts_ns, in ms; null without a receipt. */
  latency_ms: number | null;
  corr: string | null;
}

export interface MessageRecord extends SendRecord {
  status: MessageStatus;
}

/**
 * `unread`: the receiver ended without a receipt; `before_tracing`: sent before the receiver's tracing began;
 * `not_traced`: the receiver recorded nothing of its own, so no receipt of it can have been recorded.
 */
export type MessageStatus = 'received' | 'pending' | 'unread' | 'before_tracing' | 'not_traced';

export function messageFlow(store: Store, a: string, b: string, window: TimeWindow, page: Page): { messages: MessageRecord[]; total: number } {
  // `actor` is the sender of a send (docs/events.md): each direction is one range of events_send_pair
  // (sender, receiver, ts_ns), read in order, at most offset + limit rows of it, and merged here. Without a
  // window the count is the store's tally (message_pairs; counting the pair's range of the index was 12.7 ms
  // of CPU for 170k sends in 10 M events).
  const windowed = window.sinceMs !== null || window.untilMs !== null;
  const cond = `${kindIs('message', 'send')} AND actor_code = :from_code AND to_actor = :to${windowed ? ` AND ${WINDOW_SQL}` : ''}`;
  const count = store.db.prepare(windowed ? `SELECT count(*) AS n FROM events WHERE ${cond}` : 'SELECT coalesce(sum(sent), 0) AS n FROM message_pairs WHERE sender = :from AND receiver = :to');
  const read = store.db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE ${cond} ORDER BY ts_ns, id LIMIT :n`);
  const directions = a === b ? [[a, b]] : [[a, b], [b, a]];
  let total = 0;
  const merged: Row[] = [];
  for (const [from, to] of directions) {
    const params = { from, from_code: store.actorCode(from), to, ...windowParams(window) };
    total += (count.get(params) as { n: number }).n;
    merged.push(...(read.all({ ...params, n: page.offset + page.limit }) as Row[]));
  }
  merged.sort((x, y) => x.ts_ns - y.ts_ns || x.id - y.id);
  const rows = merged.slice(page.offset, page.offset + page.limit);
  const receipts = receiptsOf(store, rows);
  const unreceived = receiverStates(store, rows.filter((r) => !receipts.has(r.id)));
  return {
    total,
    messages: rows.map((r) => {
      const got = receipts.get(r.id);
      return { ...sendRecord(r, got), status: got ? 'received' : unreceived(r) };
    }),
  };
}

/** A receiver's recording: its first event, whether that was its start (so it read nothing before), and whether it ended. */
export interface ReceiverRecord {
  start: number;
  fromStart: boolean;
  ended: boolean;
}

/**
 * An actor's own events: all but those its parent thread recorded about it (worker/online, exit, error and
 * child/spawn, exit, error carry `from`, the parent), which a worker or child nodescope does not follow has
 * too. Unqualified, so that in a subquery it reads the subquery's rows.
 */
export const OWN_EVENTS = `NOT (${kindIs(['worker', 'child'])} AND from_actor IS NOT NULL AND from_actor <> actor)`;

/** Null when the receiver recorded nothing of its own: it is not traced. */
export function receiverRecord(store: Store, actor: string): ReceiverRecord | null {
  const row = store.db.prepare(`SELECT ts_ns, payload FROM events WHERE actor_code = ? AND ${OWN_EVENTS} ORDER BY ts_ns LIMIT 1`).get(store.actorCode(actor)) as { ts_ns: number; payload: string | null } | undefined;
  if (!row) return null;
  const payload = (parseJson(row.payload) ?? {}) as { fromStart?: unknown };
  return { start: row.ts_ns, fromStart: payload.fromStart === true, ended: store.actor(actor)?.ended_ms != null };
}

/**
 * What became of sends without a receipt, from their receivers: a receiver is traced from its first event of
 * its own on (one with none is not traced), and one traced from its start (the `fromStart` of its start
 * event, its first) could not read anything before.
 */
function receiverStates(store: Store, sends: readonly Row[]): (send: Row) => MessageStatus {
  const receivers = new Map<string, ReceiverRecord | null>();
  for (const s of sends) if (s.to_actor && !receivers.has(s.to_actor)) receivers.set(s.to_actor, receiverRecord(store, s.to_actor));
  return (send) => {
    const to = send.to_actor ? receivers.get(send.to_actor) : null;
    if (!to) return 'not_traced';
    if (!to.fromStart && send.ts_ns < to.start) return 'before_tracing';
    return to.ended ? 'unread' : 'pending';
  };
}

export type Receipt = { ts_ns: number; wall_ms: number };

/**
 * A receipt may carry a timestamp a little before its send's: the two are read in different processes or
 * threads, each from the monotonic clock plus an offset measured when its agent installed.
 */
const CLOCK_SLACK_NS = 50e6;
/** Sends this long before the receiver's agent installed may still be waiting in the channel (IPC buffers). */
const BUFFERED_NS = 30e9;

type Send = { id: number; ts_ns: number; ref: string };

/**
 * The receipt of each send, by send id. A message id is a hash of sender, receiver and content
 * (src/trace/pairing.ts), so identical messages share it, and channels keep order: per id, the k-th receipt
 * goes with the k-th send, counted from the right start. Sends from before the receiver's first recorded
 * event (its agent's start) may have been received before it (no receipt recorded) or after (IPC keeps
 * them waiting while the child starts up); the start is the latest one that leaves every receipt after its
 * send (within CLOCK_SLACK_NS). One pass per sender → receiver pair for a whole page, stopping once each id
 * has as many receipts as sends (measured before: 50 pending messages over 300k receiver rows take 960 ms
 * one by one, 35 ms in one pass). The sends and receipts of the page's ids are read by id (events_message_ref):
 * by pair and time, every send since the receiver's start was read (600 ms for an export of 100 ms on 1 M events).
 */
export function receiptsOf(store: Store, sends: readonly Row[]): Map<number, Receipt> {
  const out = new Map<number, Receipt>();
  const pairs = new Map<string, Row[]>();
  for (const s of sends) {
    if (!s.ref || !s.to_actor) continue;
    const key = `${s.actor}\0${s.to_actor}`;
    if (!pairs.has(key)) pairs.set(key, []);
    pairs.get(key)!.push(s);
  }
  for (const rows of pairs.values()) {
    const from = rows[0]!.actor;
    const to = rows[0]!.to_actor!;
    const refs = messageRefsIn([...new Set(rows.map((r) => r.ref!))], from, to, 'r');
    const [from_code, to_code] = [store.actorCode(from), store.actorCode(to)];
    const first = store.db.prepare('SELECT min(ts_ns) AS t FROM events WHERE actor_code = ?').get(to_code) as { t: number | null };
    if (first.t === null) continue;
    const earlier = store.db
      .prepare(
        `SELECT id, ts_ns, ref FROM events INDEXED BY events_message_ref
         WHERE ${refs.sql} AND ${kindIs('message', 'send')} AND ts_ns >= :start AND ts_ns <= :end AND actor_code = :from_code AND from_actor = :from AND to_actor = :to
         ORDER BY ts_ns, id`,
      )
      .all({ from, from_code, to, start: first.t - BUFFERED_NS, end: Math.max(...rows.map((r) => r.ts_ns)), ...refs.params }) as Send[];
    const pageCount = new Map<string, number>();
    for (const s of earlier) pageCount.set(s.ref, (pageCount.get(s.ref) ?? 0) + 1);
    if (earlier.length === 0) continue;
    const byRef = new Map<string, Send[]>();
    for (const s of earlier) {
      if (!byRef.has(s.ref)) byRef.set(s.ref, []);
      byRef.get(s.ref)!.push(s);
    }
    // Receipts per id, as many as there are sends of it (later ones belong to later sends).
    const got = new Map<string, Receipt[]>();
    let open = byRef.size;
    const receipts = store.db
      .prepare(
        `SELECT ts_ns, wall_ms, ref FROM events INDEXED BY events_message_ref
         WHERE ${refs.sql} AND ${kindIs('message', 'receive')} AND ts_ns >= :start AND actor_code = :to_code AND from_actor = :from AND to_actor = :to
         ORDER BY ts_ns, id`,
      )
      .iterate({ from, to, to_code, start: earlier[0]!.ts_ns - CLOCK_SLACK_NS, ...refs.params }) as IterableIterator<Receipt & { ref: string }>;
    for (const r of receipts) {
      const list = byRef.get(r.ref)!;
      // A receipt from before every send of its id: its own send was not recorded.
      if (r.ts_ns + CLOCK_SLACK_NS < list[0]!.ts_ns) continue;
      if (!got.has(r.ref)) got.set(r.ref, []);
      const mine = got.get(r.ref)!;
      mine.push({ ts_ns: r.ts_ns, wall_ms: r.wall_ms });
      if (mine.length === pageCount.get(r.ref) && --open === 0) break;
    }
    // Sends after the page that those receipts may belong to: without them, a receipt of a later send would
    // look like one of an earlier send whose receipt was never recorded.
    const end = Math.max(...rows.map((r) => r.ts_ns));
    let last = -Infinity;
    for (const list of got.values()) last = Math.max(last, list[list.length - 1]!.ts_ns);
    if (last + CLOCK_SLACK_NS > end) {
      const later = store.db
        .prepare(
          `SELECT id, ts_ns, ref FROM events INDEXED BY events_message_ref
           WHERE ${refs.sql} AND ${kindIs('message', 'send')} AND ts_ns > :end AND ts_ns <= :last AND actor_code = :from_code AND from_actor = :from AND to_actor = :to
           ORDER BY ts_ns, id`,
        )
        .all({ from, from_code, to, end, last: last + CLOCK_SLACK_NS, ...refs.params }) as Send[];
      for (const s of later) byRef.get(s.ref)!.push(s);
    }
    for (const [ref, list] of byRef) {
      const mine = got.get(ref);
      if (!mine) continue;
      const skip = startOf(list, mine, first.t);
      for (let i = 0; i < mine.length && skip + i < list.length; i++) out.set(list[skip + i]!.id, mine[i]!);
    }
  }
  const asked = new Set(sends.map((s) => s.id));
  for (const id of [...out.keys()]) if (!asked.has(id)) out.delete(id);
  return out;
}

/**
 * How many of the oldest sends of one id got no recorded receipt: the largest number, among those sent
 * before the receiver's agent started, that keeps every receipt at or after its send.
 */
function startOf(sends: Send[], receipts: Receipt[], receiverStart: number): number {
  let before = 0;
  while (before < sends.length && sends[before]!.ts_ns < receiverStart) before++;
  for (let skip = Math.min(before, sends.length - 1); skip > 0; skip--) {
    let fits = true;
    for (let i = 0; i < receipts.length && skip + i < sends.length && fits; i++) fits = sends[skip + i]!.ts_ns <= receipts[i]!.ts_ns + CLOCK_SLACK_NS;
    // Receipts beyond the sends left would have no send at all: skipping that many is not the answer.
    if (fits && receipts.length <= sends.length - skip) return skip;
  }
  return 0;
}

function outcome(m: MessageRecord): string {
  if (m.status === 'received') return `received after ${ms(m.latency_ms!)} ms`;
  if (m.status === 'unread') return `never read (${m.to} ended without reading it)`;
  if (m.status === 'before_tracing') return `sent before tracing began in ${m.to} (a receipt would not be recorded)`;
  if (m.status === 'not_traced') return `receiver not traced (nothing recorded in ${m.to}: a receipt would not be recorded)`;
  return 'pending (no receipt recorded)';
}

/** `2026-…Z 4242 → 4242/w1 [worker] {sku: "a"} · received after 0.42 ms [msg m3]` */
export function renderMessage(m: MessageRecord): string {
  return `${iso(m.sent_ms)} ${m.from} → ${m.to} [${m.channel}] ${renderValue(m.message)} · ${outcome(m)}${m.ref ? ` [msg ${m.ref}]` : ''}`;
}

/** A send row (ROW_COLUMNS) with its receipt, if any. */
export function sendRecord(r: Row, got: Receipt | undefined): SendRecord {
  const p = (parseJson(r.payload) ?? {}) as Record<string, unknown>;
  return {
    ref: r.ref,
    from: r.actor,
    to: r.to_actor ?? '?',
    channel: typeof p.channel === 'string' ? p.channel : '?',
    message: p.message,
    sent_ms: r.wall_ms,
    received_ms: got?.wall_ms ?? null,
    latency_ms: got ? (got.ts_ns - r.ts_ns) / 1e6 : null,
    corr: r.corr,
  };
}

/** A send in structured answers. */
export function sendView(m: SendRecord): Record<string, unknown> {
  return {
    ref: m.ref,
    from: m.from,
    to: m.to,
    channel: m.channel,
    message: renderValue(m.message),
    sent: iso(m.sent_ms),
    received: m.received_ms === null ? null : iso(m.received_ms),
    corr: m.corr,
  };
}

export function messageView(m: MessageRecord): Record<string, unknown> {
  return { ...sendView(m), latency_ms: m.latency_ms, status: m.status };
}

// Mermaid reads `;` as a statement end and `#…;` as an entity: write both as entity codes.
function mermaidText(text: string): string {
  return text.replace(/[#;\n\r]/g, (c) => (c === '#' ? '#35;' : c === ';' ? '#59;' : ' '));
}

const NOTES = { pending: 'pending', unread: 'never read', before_tracing: 'before tracing', not_traced: 'receiver not traced' } as const;

/** A `sequenceDiagram`: participants A and B (labelled with their ids), `-x` for messages not received. */
export function renderMermaid(a: { id: string; label: string }, b: { id: string; label: string }, messages: MessageRecord[]): string {
  const alias = (id: string) => (id === a.id ? 'A' : 'B');
  const lines = ['sequenceDiagram', `  participant A as ${mermaidText(a.label)}`, `  participant B as ${mermaidText(b.label)}`];
  for (const m of messages) {
    const arrow = m.status === 'received' ? '->>' : '-x';
    const note = m.status === 'received' ? `${ms(m.latency_ms!)} ms` : NOTES[m.status];
    lines.push(`  ${alias(m.from)}${arrow}${alias(m.to)}: ${mermaidText(`[${m.channel}] ${renderValue(m.message, 80)} (${note})`)}`);
  }
  return lines.join('\n');
}
