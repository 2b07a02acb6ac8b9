// Messages in flight (sent, not yet received) at a moment or now, and per-pair traffic: the Node meaning of
// a mailbox. Pairing follows messages.ts: a message id is a content hash, so sends and receipts of one id
// are paired first in, first out, and sends from before tracing began in their receiver are left out (older
// than its first recorded event, unless that was its start: their receipts cannot have been recorded, so
// nothing can be said about them), as are all sends to a receiver that recorded nothing of its own (not traced). What a
// receiver that ended did not receive it never read: not pending.
import { kindIs } from '../store/kinds.js';
import type { Store } from '../store/store.js';
import { messageRef } from '../store/coded_columns.js';
import { edgeRow, tsRange } from './clock.js';
import { iso, renderValue } from './format.js';
import { OWN_EVENTS, receiptsOf, receiverRecord, sendRecord, type Receipt, type SendRecord } from './messages.js';
import { inList, ms, ROW_COLUMNS, type Row } from './rows.js';

/** A send in flight at a moment: its receipt, if any, is the one after that moment. */
export interface InFlight extends SendRecord {
  ref: string;
}

interface PairCount {
  from: string;
  to: string;
  sent: number;
  received: number;
  /** Message id → sends not matched by a receipt. */
  excess: Map<string, number>;
}

/** Sends and receipts per sender → receiver pair up to a moment (null: everything recorded). */
export function pairCounts(store: Store, atMs: number | null): PairCount[] {
  return atMs === null ? pairCountsNow(store) : pairCountsAt(store, atMs);
}

/**
 * The same, for everything recorded, from the store's message tallies (per pair, and per message id the
 * sends not matched by a receipt): what it reads grows with the pairs and the open ids, not with the
 * messages.
 */
function pairCountsNow(store: Store): PairCount[] {
  const open = store.db.prepare('SELECT ref, open FROM message_open WHERE sender = ? AND receiver = ? AND open > 0');
  return pairTotals(store)
    .filter((p) => p.sent > 0 || p.received > 0)
    .map(({ from, to, sent, received, early }) => {
      const excess = new Map<string, number>();
      for (const r of open.all(from, to) as { ref: string; open: number }[]) {
        const n = r.open - (early.get(r.ref) ?? 0);
        if (n > 0) excess.set(r.ref, n);
      }
      return { from, to, sent, received, excess };
    });
}

interface PairTotal extends Omit<PairCount, 'excess'> {
  /** Message id → sends from before tracing began in the receiver (left out of the counts); all of them when it recorded nothing of its own. */
  early: Map<string, number>;
  /** Those sends, in all, to a receiver traced later. */
  beforeTracing: number;
  /** Those sends, in all, to a receiver that recorded nothing of its own (messages.ts: `not_traced`). */
  notTraced: number;
  /** The receiver ended: the sends it did not receive were never read. */
  ended: boolean;
}

/**
 * From when a receiver's receipts are recorded (ts_ns): its first event, or from the first for one traced
 * from its start (messages sent before it were waiting for it to read them); null when it recorded nothing
 * of its own (messages.ts: receiverRecord).
 */
export function tracedSince(store: Store, actor: string): { since: number; ended: boolean } | null {
  const r = receiverRecord(store, actor);
  return r === null ? null : { since: r.fromStart ? Number.MIN_SAFE_INTEGER : r.start, ended: r.ended };
}

/**
 * Per pair, sends and receipts, from the store's tally (message_pairs). Sends from before tracing began in
 * the receiver are left out as pairCountsAt does: they are read back from the pair's sends before that
 * moment (one range each) and taken off.
 */
function pairTotals(store: Store): PairTotal[] {
  const pairs = store.db.prepare('SELECT sender, receiver, sent, received FROM message_pairs').all() as { sender: string; receiver: string; sent: number; received: number }[];
  const early = store.db.prepare(
    `SELECT ref, count(*) AS n FROM events
     WHERE ${kindIs('message', 'send')} AND actor_code = :from_code AND to_actor = :to AND ts_ns < :start AND from_actor = :from AND ref IS NOT NULL
     GROUP BY ref`,
  );
  const out: PairTotal[] = [];
  for (const p of pairs) {
    const traced = tracedSince(store, p.receiver);
    const start = traced?.since ?? Number.MAX_SAFE_INTEGER;
    const before = new Map(start === Number.MIN_SAFE_INTEGER ? [] : (early.all({ from: p.sender, from_code: store.actorCode(p.sender), to: p.receiver, start }) as { ref: string; n: number }[]).map((r) => [r.ref, r.n]));
    let left = 0;
    for (const n of before.values()) left += n;
    const sent = p.sent - left;
    if (sent <= 0 && p.received <= 0 && left <= 0) continue;
    out.push({ from: p.sender, to: p.receiver, sent, received: p.received, early: before, beforeTracing: traced ? left : 0, notTraced: traced ? 0 : left, ended: traced?.ended ?? false });
  }
  return out;
}

function pairCountsAt(store: Store, atMs: number): PairCount[] {
  const { hi } = tsRange(store, { sinceMs: null, untilMs: atMs });
  // One pass over the (type, ts_ns) index up to the moment; the receiver's first event is one seek each (as
  // tracedSince reads it).
  const rows = store.db
    .prepare(
      `SELECT subtype, from_actor AS sender, to_actor AS receiver, ref, count(*) AS n FROM events
       WHERE ${kindIs('message', ['send', 'receive'])} AND ts_ns <= :hi AND (:at IS NULL OR wall_ms <= :at) AND ref IS NOT NULL
         AND (${kindIs('message', 'receive')} OR ts_ns >= (SELECT iif(json_extract(f.payload, '$.fromStart') IS 1, ${Number.MIN_SAFE_INTEGER}, f.ts_ns)
           FROM events AS f WHERE f.actor_code = (SELECT code FROM actor_codes WHERE id = events.to_actor) AND ${OWN_EVENTS} ORDER BY f.ts_ns LIMIT 1))
       GROUP BY subtype, from_actor, to_actor, ref`,
    )
    .all({ hi, at: atMs }) as { subtype: string; sender: string | null; receiver: string | null; ref: string; n: number }[];
  const pairs = new Map<string, PairCount & { got: Map<string, number> }>();
  for (const r of rows) {
    if (!r.sender || !r.receiver) continue;
    const key = `${r.sender}\0${r.receiver}`;
    if (!pairs.has(key)) pairs.set(key, { from: r.sender, to: r.receiver, sent: 0, received: 0, excess: new Map(), got: new Map() });
    const p = pairs.get(key)!;
    if (r.subtype === 'send') {
      p.sent += r.n;
      p.excess.set(r.ref, (p.excess.get(r.ref) ?? 0) + r.n);
    } else {
      p.received += r.n;
      p.got.set(r.ref, r.n);
    }
  }
  return [...pairs.values()].map(({ got, ...p }) => {
    for (const [ref, n] of got) p.excess.set(ref, (p.excess.get(ref) ?? 0) - n);
    for (const [ref, n] of p.excess) if (n <= 0) p.excess.delete(ref);
    return p;
  });
}

/** Refs per statement, well under SQLite's bound on parameters. */
const REF_CHUNK = 500;

/**
 * Every message in flight at a moment (null: now), oldest first. First in, first out, the unmatched sends of
 * an id are its latest ones; each pair's sends are read backwards from the moment until they are all found
 * (the pair's own range of events_send_pair: the sender's other events are not read).
 */
export function inFlight(store: Store, atMs: number | null, counts: PairCount[] = pairCounts(store, atMs)): InFlight[] {
  const { hi } = tsRange(store, { sinceMs: null, untilMs: atMs });
  const found: Row[] = [];
  for (const pair of counts) {
    const refs = [...pair.excess.keys()];
    for (let i = 0; i < refs.length; i += REF_CHUNK) {
      const chunk = refs.slice(i, i + REF_CHUNK);
      const want = new Map(chunk.map((r) => [r, pair.excess.get(r)!]));
      const list = inList('r', chunk);
      const sends = store.db
        .prepare(
          `SELECT ${ROW_COLUMNS} FROM events INDEXED BY events_send_pair
           WHERE actor_code = :from_code AND to_actor = :to AND ts_ns <= :hi AND ${kindIs('message', 'send')} AND ref IN (${list.sql}) AND (:at IS NULL OR wall_ms <= :at)
           ORDER BY ts_ns DESC, id DESC`,
        )
        .iterate({ from_code: store.actorCode(pair.from), to: pair.to, hi, at: atMs, ...list.params }) as IterableIterator<Row>;
      for (const s of sends) {
        const left = want.get(s.ref!) ?? 0;
        if (left <= 0) continue;
        found.push(s);
        if (left === 1) want.delete(s.ref!);
        else want.set(s.ref!, left - 1);
        if (want.size === 0) break;
      }
    }
  }
  found.sort((a, b) => a.ts_ns - b.ts_ns || a.id - b.id);
  const later: Map<number, Receipt> = atMs === null ? new Map() : receiptsOf(store, found);
  return found.map((s) => inFlightOf(s, later.get(s.id)));
}

/** A send in flight at a moment, with its receipt if it came after. */
export function inFlightOf(s: Row, got: Receipt | undefined): InFlight {
  return { ...sendRecord(s, got), ref: s.ref! };
}

/** `2026-…Z 4242 → 4242/w1 [worker] {op: "stop"} [msg m3]`, with how much later it arrived, if it did. */
export function renderInFlight(m: InFlight): string {
  const later = m.latency_ms === null ? '' : ` · received ${ms(m.latency_ms)} ms after it was sent`;
  return `${iso(m.sent_ms)} ${m.from} → ${m.to} [${m.channel}] ${renderValue(m.message)}${later} [msg ${m.ref}]`;
}


export interface MailboxStats {
  /** Per running receiver: messages sent to it and not received yet, and the oldest of them. */
  pending: Mailbox[];
  /** Per receiver that ended: messages sent to it that it never read, and the oldest of them. */
  unread: Mailbox[];
  /**
   * Per sender → receiver pair: counts (sent, less those from before tracing began in the receiver:
   * `before_tracing`, and those to a receiver that recorded nothing of its own: `not_traced`), and latency over the
   * sampled sends that were received.
   */
  pairs: {
    from: string;
    to: string;
    sent: number;
    received: number;
    pending: number;
    unread: number;
    before_tracing: number;
    not_traced: number;
    sampled: number;
    mean_latency_ms: number | null;
    max_latency_ms: number | null;
  }[];
  /** Sends the latencies were measured on (each pair's latest, at most `per_pair` of them). */
  sampled: number;
  per_pair: number;
  /** The newest recorded event: ages are counted to it, so that a trace read later reads the same. */
  as_of_ms: number | null;
}

/**
 * Sends whose latency is measured, over all pairs: each pair's latest ones, an equal share each (at least
 * LATENCY_MIN_PER_PAIR), so that a quiet pair is measured too and the answer stays quick on a long trace
 * (the latest 1,000 sends of all pairs with their receipts: ~35 ms of CPU on 1 M events).
 */
export const LATENCY_SAMPLE = 300;
const LATENCY_MIN_PER_PAIR = 10;

export interface Mailbox {
  actor: string;
  count: number;
  oldest_ms: number | null;
}

export function mailboxStats(store: Store): MailboxStats {
  const totals = pairTotals(store);
  const open = openSends(store);
  const perPair = Math.max(LATENCY_MIN_PER_PAIR, Math.floor(LATENCY_SAMPLE / Math.max(1, totals.length)));
  const byReceiver = new Map<string, Mailbox>();
  let sampled = 0;
  const pairs = totals.map((p) => {
    const notReceived = open.notReceived(p);
    if (notReceived > 0) {
      const ms = open.oldest(p);
      const r = byReceiver.get(p.to) ?? { actor: p.to, count: 0, oldest_ms: null };
      r.count += notReceived;
      if (ms !== null) r.oldest_ms = Math.min(r.oldest_ms ?? ms, ms);
      byReceiver.set(p.to, r);
    }
    const l = pairLatency(store, p, (ref) => open.balance(p, ref), perPair);
    sampled += l.sampled;
    return {
      from: p.from,
      to: p.to,
      sent: p.sent,
      received: p.received,
      pending: p.ended ? 0 : notReceived,
      unread: p.ended ? notReceived : 0,
      before_tracing: p.beforeTracing,
      not_traced: p.notTraced,
      sampled: l.sampled,
      mean_latency_ms: l.n ? l.sum / l.n : null,
      max_latency_ms: l.n ? l.max : null,
    };
  });
  pairs.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  const mailboxes = [...byReceiver.values()].sort((a, b) => b.count - a.count || a.actor.localeCompare(b.actor));
  const ended = new Set(totals.filter((p) => p.ended).map((p) => p.to));
  return {
    pending: mailboxes.filter((m) => !ended.has(m.actor)),
    unread: mailboxes.filter((m) => ended.has(m.actor)),
    pairs,
    sampled,
    per_pair: perPair,
    as_of_ms: edgeRow(store, 'max')?.wall_ms ?? null,
  };
}

/**
 * A pair's sends not received, read from message_open without listing its ids (an answer during a flood of
 * repeated messages had 3k open ids to list: ~4 ms of rows). An id with sends from before the receiver's
 * first event (rare: they are left out of the counts) is looked up alone.
 */
function openSends(store: Store) {
  const total = store.db.prepare('SELECT coalesce(sum(open), 0) AS n FROM message_open WHERE sender = ? AND receiver = ? AND open > 0');
  const one = store.db.prepare('SELECT open FROM message_open WHERE sender = ? AND receiver = ? AND ref = ?');
  const openOf = (p: PairTotal, ref: string) => (one.get(p.from, p.to, ref) as { open: number } | undefined)?.open ?? 0;
  /** Per id, sends − receipts counted from the receiver's first event (below 0: receipts whose sends were not recorded). */
  const balance = (p: PairTotal, ref: string) => openOf(p, ref) - (p.early.get(ref) ?? 0);
  // The oldest open send of each id is kept in message_open.oldest (src/store/open_sends.ts): one lookup per
  // id. Ids with early sends, and a file from before the column, are read back to it, one seek each on
  // events_message_ref (1.4k ids after a 10 s flood, read back 21k sends: 35–45 ms). No message is read
  // whole (reading every one took 0.2–0.9 s during a flood whose receipts were dropped).
  const kept = hasColumn(store, 'message_open', 'oldest')
    ? store.db.prepare(
        `SELECT min(e.wall_ms) AS ms FROM message_open AS o JOIN events AS e ON e.id = o.oldest
         WHERE o.sender = :from AND o.receiver = :to AND o.open > 0 AND o.ref NOT IN (SELECT value FROM json_each(:early))`,
      )
    : null;
  const openRefs = store.db.prepare('SELECT ref, open FROM message_open WHERE sender = ? AND receiver = ? AND open > 0');
  // Ids with one send in flight (nearly all: an id is a hash of the content) in one statement; SQLite takes
  // no column of the outer query in an OFFSET.
  const nth = `SELECT s.wall_ms FROM events AS s INDEXED BY events_message_ref
    WHERE s.short_ref = message_ref(:ref, :from, :to) AND ${kindIs('message', 'send', 's')} AND s.actor_code = :from_code AND s.from_actor = :from AND s.to_actor = :to
    ORDER BY s.ts_ns DESC, s.id DESC LIMIT 1 OFFSET :skip`;
  const latestOfEach = store.db.prepare(`SELECT min((${nth.replaceAll(':ref', 'j.value').replace(':skip', '0')})) AS ms FROM json_each(:refs) AS j`);
  const nthOfOne = store.db.prepare(nth);
  return {
    balance,
    notReceived(p: PairTotal): number {
      let n = (total.get(p.from, p.to) as { n: number }).n;
      for (const ref of p.early.keys()) {
        const o = openOf(p, ref);
        n -= Math.max(0, o) - Math.max(0, balance(p, ref));
      }
      return n;
    },
    oldest(p: PairTotal): number | null {
      let ms: number | null = null;
      const older = (at: number | null | undefined) => (ms = at === null || at === undefined ? ms : Math.min(ms ?? at, at));
      // Per id, the n-th latest of its sends, n its sends in flight
      let walk: [string, number][];
      if (kept) {
        older((kept.get({ from: p.from, to: p.to, early: JSON.stringify([...p.early.keys()]) }) as { ms: number | null }).ms);
        walk = [...p.early.keys()].map((ref) => [ref, balance(p, ref)]);
      } else walk = (openRefs.all(p.from, p.to) as { ref: string; open: number }[]).map((r) => [r.ref, r.open - (p.early.get(r.ref) ?? 0)]);
      const single: string[] = [];
      for (const [ref, k] of walk) {
        if (k === 1) single.push(ref);
        else if (k > 1) older((nthOfOne.get({ ref, from: p.from, from_code: store.actorCode(p.from), to: p.to, skip: k - 1 }) as { wall_ms: number } | undefined)?.wall_ms);
      }
      if (single.length) older((latestOfEach.get({ from: p.from, from_code: store.actorCode(p.from), to: p.to, refs: JSON.stringify(single) }) as { ms: number | null }).ms);
      return ms;
    },
  };
}

function hasColumn(store: Store, table: string, column: string): boolean {
  return store.db.prepare('SELECT 1 FROM pragma_table_info(?) WHERE name = ?').get(table, column) !== undefined;
}

/**
 * Latency over a pair's latest sends, each paired with its receipt from the end: first in, first out, an id
 * with o sends not matched (its balance) had its j-th latest send received as its (j − o)-th latest receipt,
 * as counting from the start pairs them, so only each id's latest receipts are read. (Paired from the
 * start, every send and receipt of each sampled id was read since the receiver's start: 20–24 ms after a
 * 10 s flood whose content repeats, ~60 sends an id.)
 */
function pairLatency(store: Store, p: PairTotal, balance: (ref: string) => number, n: number): { n: number; sum: number; max: number; sampled: number } {
  const sends = store.db
    .prepare(
      `SELECT ts_ns, ref FROM events INDEXED BY events_send_pair
       WHERE actor_code = :from_code AND to_actor = :to AND ${kindIs('message', 'send')} AND ref IS NOT NULL ORDER BY ts_ns DESC, id DESC LIMIT :n`,
    )
    .all({ from_code: store.actorCode(p.from), to: p.to, n }) as { ts_ns: number; ref: string }[];
  const receipts = store.db.prepare(
    `SELECT ts_ns FROM events INDEXED BY events_message_ref
     WHERE short_ref = :short_ref AND ${kindIs('message', 'receive')} AND actor_code = :to_code AND from_actor = :from AND to_actor = :to ORDER BY ts_ns DESC, id DESC LIMIT :n`,
  );
  const byRef = new Map<string, number[]>();
  for (const s of sends) {
    const sent = byRef.get(s.ref);
    if (sent === undefined) byRef.set(s.ref, [s.ts_ns]);
    else sent.push(s.ts_ns);
  }
  const l = { n: 0, sum: 0, max: -Infinity, sampled: sends.length };
  for (const [ref, sent] of byRef) {
    const o = balance(ref);
    if (sent.length - o <= 0) continue;
    const got = receipts.all({ short_ref: messageRef(ref, p.from, p.to), from: p.from, to: p.to, to_code: store.actorCode(p.to), n: sent.length - o }) as { ts_ns: number }[];
    for (let j = Math.max(0, o); j < sent.length && j - o < got.length; j++) {
      const d = (got[j - o]!.ts_ns - sent[j]!) / 1e6;
      l.n++;
      l.sum += d;
      l.max = Math.max(l.max, d);
    }
  }
  return l;
}

/**
 * `4242 → 4242/w1: 2 sent, 1 received, 1 pending, latency mean 0.42 ms, max 0.42 ms`, with `, 1 never read`
 * when the receiver ended without reading some, and `(+3 sent before tracing began in 4242/w1)`; for a
 * receiver that recorded nothing, `4242 → 4242/w1: 3 sent, receiver not traced (…)`.
 */
export function renderPair(p: MailboxStats['pairs'][number]): string {
  if (p.not_traced) return `${p.from} → ${p.to}: ${p.not_traced} sent, receiver not traced (nothing recorded in ${p.to}: its receipts would not be recorded)`;
  const lat = p.mean_latency_ms === null ? 'no latency measured' : `latency mean ${ms(p.mean_latency_ms)} ms, max ${ms(p.max_latency_ms!)} ms`;
  const unread = p.unread ? `, ${p.unread} never read` : '';
  const early = p.before_tracing ? ` (+${p.before_tracing} sent before tracing began in ${p.to})` : '';
  return `${p.from} → ${p.to}: ${p.sent} sent, ${p.received} received, ${p.pending} pending${unread}${early}, ${lat}`;
}
