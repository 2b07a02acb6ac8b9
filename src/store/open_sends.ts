// The message_open tally: per sender → receiver pair and message id, the sends not matched by a receipt
// (sends − receipts), and the oldest of them. A message id is a content hash, so one id can stand for many
// sends; paired first in, first out, the unmatched sends of an id are its latest ones, and the oldest of them
// is the one after those matched. Finding it when asked meant reading an id's sends back one by one (the
// n-th latest of each open id: 35–45 ms of message_queue_analysis after a 10 s flood, 21k sends read for
// 1.4k ids); kept here as each batch is written, it is one lookup per id. It moves when receipts match sends:
// forward from where it was, by as many sends as were matched (each send is stepped over once), or onto a
// send of the batch when every earlier one is matched.
import type Database from 'better-sqlite3';
import { kindIs } from './kinds.js';

/** Per key, sends − receipts among deleted events. */
export interface PrunedSends {
  from_actor: string;
  to_actor: string;
  ref: string;
  d: number;
}

/** One key's sends (event ids, in order) and receipts written in a batch. */
interface Written {
  from: string;
  to: string;
  ref: string;
  sends: number[];
  receipts: number;
}

/** A key's sends, latest first: the n-th latest is its oldest open send when n are open. */
const LATEST_SENDS = `SELECT id FROM events INDEXED BY events_message_ref
  WHERE short_ref = message_ref(:ref, :from, :to) AND ${kindIs('message', 'send')} AND from_actor = :from AND to_actor = :to
  ORDER BY ts_ns DESC, id DESC LIMIT 1 OFFSET :skip`;

export class OpenSends {
  private batch = new Map<string, Written>();
  private readonly get: Database.Statement;
  private readonly upsert: Database.Statement;
  private readonly setOldest: Database.Statement;
  private readonly drop: Database.Statement;
  private readonly after: Database.Statement;
  private readonly nthLatest: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.get = db.prepare('SELECT open, oldest FROM message_open WHERE sender = ? AND receiver = ? AND ref = ?');
    this.upsert = db.prepare('INSERT INTO message_open (sender, receiver, ref, open) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET open = open + excluded.open RETURNING open, oldest');
    this.setOldest = db.prepare('UPDATE message_open SET oldest = ? WHERE sender = ? AND receiver = ? AND ref = ?');
    this.drop = db.prepare('DELETE FROM message_open WHERE sender = ? AND receiver = ? AND ref = ?');
    // The send `skip` sends after a given one of the same key (the given one is the 0th).
    this.after = db.prepare(
      `SELECT e.id FROM events AS o, events AS e INDEXED BY events_message_ref
       WHERE o.id = :oldest AND e.short_ref = message_ref(:ref, :from, :to) AND ${kindIs('message', 'send', 'e')} AND e.ts_ns >= o.ts_ns AND (e.ts_ns, e.id) >= (o.ts_ns, o.id)
         AND e.from_actor = :from AND e.to_actor = :to
       ORDER BY e.ts_ns, e.id LIMIT 1 OFFSET :skip`,
    );
    this.nthLatest = db.prepare(LATEST_SENDS);
  }

  /** A message row just inserted (its id), if message_open counts it. */
  add(id: number, subtype: string, from: string, to: string, ref: string): void {
    const key = `${from}\0${to}\0${ref}`;
    let w = this.batch.get(key);
    if (w === undefined) this.batch.set(key, (w = { from, to, ref, sends: [], receipts: 0 }));
    if (subtype === 'send') w.sends.push(id);
    else w.receipts++;
  }

  /** Writes the batch's changes, once per key (inside the batch's transaction, after its rows). */
  flush(): void {
    for (const w of this.batch.values()) {
      const net = w.sends.length - w.receipts;
      // As many receipts as sends leave the count as it was: nothing to write unless sends were open (most
      // such keys are a message and its receipt, of an id not seen before).
      const row = (net === 0 ? this.get.get(w.from, w.to, w.ref) : this.upsert.get(w.from, w.to, w.ref, net)) as { open: number; oldest: number | null } | undefined;
      if (row === undefined || (net === 0 && row.open <= 0)) continue;
      const { open, oldest: was } = row;
      const before = open - net;
      if (open === 0) {
        this.drop.run(w.from, w.to, w.ref);
        continue;
      }
      let oldest: number | null = null;
      if (open > 0) {
        // Receipts match the oldest sends first: while some from before the batch stay open, the oldest moves
        // on by as many as the batch's receipts; else the open ones are the batch's latest.
        if (before > w.receipts) oldest = was === null ? null : this.step(w, was, w.receipts);
        else oldest = w.sends[w.sends.length - open] ?? null;
        oldest ??= this.latest(w, open);
      }
      if (oldest !== was) this.setOldest.run(oldest, w.from, w.to, w.ref);
    }
    this.batch.clear();
  }

  /** Starts a batch (forgetting one whose transaction failed). */
  begin(): void {
    this.batch.clear();
  }

  /**
   * After events are deleted (the oldest: a prune), the oldest open send of each key they touched (a key's
   * matching is counted over what is stored, so deleting a send or a receipt moves it). With d more sends
   * than receipts deleted, all older than the sends left, it moves on by d; else (more receipts deleted, or
   * the oldest open send deleted), it is counted back from the latest.
   */
  recount(pruned: PrunedSends[]): void {
    for (const k of pruned) {
      const row = this.get.get(k.from_actor, k.to_actor, k.ref) as { open: number; oldest: number | null } | undefined;
      if (!row) continue;
      const w = { from: k.from_actor, to: k.to_actor, ref: k.ref };
      let oldest: number | null = null;
      if (row.open > 0) {
        // (looked up even to move by 0: it may be gone)
        if (k.d >= 0 && row.oldest !== null) oldest = (this.after.get({ oldest: row.oldest, skip: k.d, ...w }) as { id: number } | undefined)?.id ?? null;
        oldest ??= this.latest(w, row.open);
      }
      if (oldest !== row.oldest) this.setOldest.run(oldest, w.from, w.to, w.ref);
    }
  }

  /** Every key with open sends and no oldest (a file from before the column, or just tallied), filled once. */
  fill(): void {
    const rows = this.db.prepare('SELECT sender AS from_actor, receiver AS to_actor, ref, -1 AS d FROM message_open WHERE open > 0 AND oldest IS NULL').all() as PrunedSends[];
    this.recount(rows);
  }

  private step(w: { from: string; to: string; ref: string }, oldest: number, skip: number): number | null {
    if (skip === 0) return oldest;
    return (this.after.get({ oldest, skip, ref: w.ref, from: w.from, to: w.to }) as { id: number } | undefined)?.id ?? null;
  }

  private latest(w: { from: string; to: string; ref: string }, open: number): number | null {
    return (this.nthLatest.get({ ref: w.ref, from: w.from, to: w.to, skip: open - 1 }) as { id: number } | undefined)?.id ?? null;
  }
}

/** A file from before message_open kept its oldest send: the column, added (filled by OpenSends.fill). */
export function migrateOpenSends(db: Database.Database): boolean {
  const columns = db.prepare("SELECT name FROM pragma_table_info('message_open')").all() as { name: string }[];
  if (columns.some((c) => c.name === 'oldest')) return false;
  db.exec('ALTER TABLE message_open ADD COLUMN oldest INTEGER');
  return true;
}
