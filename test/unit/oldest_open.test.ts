// The oldest send in flight of each message id (message_open.oldest) as the store keeps it while batches are
// written, and message_queue_analysis's pending counts, oldest sends and latencies read from it: a message id
// is a content hash, so identical messages share one and are paired first in, first out. Exact answers on a
// few identical messages; then, on traffic with ids repeated many times, lost receipts, receipts written
// before their sends, a receiver that starts late and both prunes, equal to what every message says; and a
// file from before the column, read as it is and converted when opened to write.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inFlightAt } from '../../src/query/at.js';
import { inFlight, LATENCY_SAMPLE, mailboxStats } from '../../src/query/queues.js';
import { callTool } from '../../src/server.js';
import { message_queue_analysis, THREAD_WAIT_MS } from '../../src/tools/message_queue_analysis.js';
import { Store, type EventRow } from '../../src/store/store.js';
import { tempDir } from '../helpers.js';
import { setup as fixture, webEvents } from '../query_fixture.js';

const WALL0 = 1_700_000_000_000;
/** Early on the monotonic clock the age prune reads: a moment a process can see as 3 s in its past. */
const TS0 = 1e9;

function row(ms: number, type: string, subtype: string, actor: string, extra: Partial<EventRow> = {}): EventRow {
  return { ts_ns: TS0 + ms * 1e6, wall_ms: WALL0 + ms, type, subtype, actor, from_actor: null, to_actor: null, corr: null, ref: null, payload: '{"channel":"worker","message":"tick"}', ...extra };
}
const send = (ms: number, ref: string) => row(ms, 'message', 'send', '1', { from_actor: '1', to_actor: '1/w1', ref: `1>1/w1#${ref}` });
const receive = (ms: number, ref: string) => row(ms, 'message', 'receive', '1/w1', { from_actor: '1', to_actor: '1/w1', ref: `1>1/w1#${ref}` });

/** Per open id, its oldest open send's time (ms after WALL0), from the store's tally. */
function oldest(store: Store): Record<string, number> {
  const rows = store.db
    .prepare('SELECT o.ref, e.wall_ms FROM message_open AS o LEFT JOIN events AS e ON e.id = o.oldest WHERE o.open > 0 ORDER BY o.ref')
    .all() as { ref: string; wall_ms: number | null }[];
  return Object.fromEntries(rows.map((r) => [r.ref.slice(r.ref.indexOf('#') + 1), r.wall_ms === null ? null : r.wall_ms - WALL0]));
}

const sentAt = (store: Store) => inFlight(store, null).map((m) => [m.ref.slice(m.ref.indexOf('#') + 1), m.sent_ms - WALL0]);
const pending = (store: Store) => mailboxStats(store).pending.map((p) => [p.actor, p.count, p.oldest_ms === null ? null : p.oldest_ms - WALL0]);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the oldest send in flight of each message id', () => {
  it('moves on as receipts match the oldest sends of an id, whatever order the batches come in', () => {
    const store = new Store();
    store.write([row(0, 'worker', 'online', '1/w1'), send(10, 'a'), send(20, 'a'), send(30, 'b'), send(40, 'a'), send(50, 'a'), send(60, 'a')]);
    expect(oldest(store)).toEqual({ a: 10, b: 30 });
    expect(sentAt(store)).toEqual([['a', 10], ['a', 20], ['b', 30], ['a', 40], ['a', 50], ['a', 60]]);
    expect(pending(store)).toEqual([['1/w1', 6, 10]]);

    // two receipts of 'a': its first two sends are matched
    store.write([receive(21, 'a'), receive(41, 'a')]);
    expect(oldest(store)).toEqual({ a: 40, b: 30 });
    expect(sentAt(store)).toEqual([['b', 30], ['a', 40], ['a', 50], ['a', 60]]);
    expect(pending(store)).toEqual([['1/w1', 4, 30]]);

    // the receiver's batch before the sender's: four receipts of 'a', one more than it has sends in flight
    store.write([receive(31, 'b'), receive(51, 'a'), receive(61, 'a'), receive(71, 'a'), receive(81, 'a')]);
    expect(oldest(store)).toEqual({});
    expect(store.db.prepare('SELECT open, oldest FROM message_open').all()).toEqual([{ open: -1, oldest: null }]);
    expect(pending(store)).toEqual([]);

    // then the sender's: the first send matches the receipt already written, the second is in flight
    store.write([send(70, 'a'), send(80, 'a'), send(90, 'b')]);
    expect(oldest(store)).toEqual({ a: 80, b: 90 });
    expect(sentAt(store)).toEqual([['a', 80], ['b', 90]]);

    // a send and a receipt of 'a' in one batch: the receipt matches the send at 80, the new one is in flight
    store.write([send(100, 'a'), receive(101, 'a')]);
    expect(oldest(store)).toEqual({ a: 100, b: 90 });
    expect(pending(store)).toEqual([['1/w1', 2, 90]]);
    const [pair] = mailboxStats(store).pairs;
    expect(pair).toMatchObject({ sent: 10, received: 8, pending: 2, sampled: 10 });
  });

  it('gives each sampled send the receipt that first in, first out pairing from the start gives it', () => {
    const store = new Store();
    // sends of 'a' at 10, 20, 30, 40 and receipts at 15, 35, 45: the send at 40 is in flight, and pairing
    // from the start gives the sends at 10, 20, 30 latencies of 5, 15 and 15 ms
    store.write([row(0, 'worker', 'online', '1/w1'), send(10, 'a'), send(20, 'a'), receive(15, 'a'), send(30, 'a'), receive(35, 'a'), send(40, 'a'), receive(45, 'a')]);
    const [pair] = mailboxStats(store).pairs;
    expect(pair).toEqual({ from: '1', to: '1/w1', sent: 4, received: 3, pending: 1, unread: 0, before_tracing: 0, not_traced: 0, sampled: 4, mean_latency_ms: 35 / 3, max_latency_ms: 15 });
    // a receipt whose send was not recorded: the balance is below 0, and receipts are paired past it
    store.write([receive(50, 'b'), send(60, 'b'), receive(70, 'b')]);
    const [after] = mailboxStats(store).pairs;
    expect(after).toEqual({ from: '1', to: '1/w1', sent: 5, received: 5, pending: 1, unread: 0, before_tracing: 0, not_traced: 0, sampled: 5, mean_latency_ms: (35 - 10) / 4, max_latency_ms: 15 });
  });
});

const ACTORS = ['1', '1/w1', '1/w2'];

/**
 * Traffic with few ids, each sent many times, as a flood of repeated messages makes: each pair's channel
 * keeps order; a tenth of the receipts lost from the record and some sends too; '1/w2' starts late, so sends
 * to it before are left out; pruned later.
 */
function repeated(n: number, seed: number): EventRow[] {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const rows: EventRow[] = [row(0, 'worker', 'online', '1/w1'), row(0, 'process', 'start', '1'), row(n / 4, 'worker', 'online', '1/w2')];
  const last = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const from = ACTORS[Math.floor(rand() * 3)]!;
    if (from === '1/w2' && i < n / 4) continue;
    const to = ACTORS[(ACTORS.indexOf(from) + 1 + Math.floor(rand() * 2)) % 3]!;
    const m = { from_actor: from, to_actor: to, ref: `${from}>${to}#${Math.floor(rand() * 4)}` };
    if (rand() > 0.03) rows.push(row(i, 'message', 'send', from, m));
    const pair = `${from}>${to}`;
    const at = Math.max(i + rand() * 30, last.get(pair) ?? 0) + 0.001;
    last.set(pair, at);
    if (rand() > 0.1 && !(to === '1/w2' && i < n / 4)) rows.push(row(at, 'message', 'receive', to, m));
  }
  return rows.sort((a, b) => a.ts_ns - b.ts_ns);
}

/** What every stored message says: per receiver, sends in flight and the oldest; per pair, the sampled latencies. */
function fromEveryMessage(store: Store) {
  const msgs = store.db
    .prepare("SELECT id, ts_ns, wall_ms, subtype, from_actor, to_actor, ref FROM events WHERE type = 'message' ORDER BY ts_ns, id")
    .all() as { id: number; ts_ns: number; wall_ms: number; subtype: string; from_actor: string; to_actor: string; ref: string }[];
  const first = (a: string) => (store.db.prepare('SELECT min(ts_ns) AS t FROM events WHERE actor_code = ?').get(store.actorCode(a)) as { t: number }).t;
  const pairs = [...new Set(msgs.map((m) => `${m.from_actor}\0${m.to_actor}`))].map((k) => k.split('\0') as [string, string]);
  const perPair = Math.max(10, Math.floor(LATENCY_SAMPLE / pairs.length));
  const byReceiver = new Map<string, { count: number; oldest: number }>();
  const latency: Record<string, number[]> = {};
  for (const [from, to] of pairs) {
    const all = msgs.filter((m) => m.from_actor === from && m.to_actor === to);
    const sends = all.filter((m) => m.subtype === 'send');
    const latest = new Set(sends.slice(-perPair).map((s) => s.id));
    const got: number[] = [];
    for (const ref of new Set(all.map((m) => m.ref))) {
      // first in, first out from the receiver's start: the k-th send with the k-th receipt
      const mine = sends.filter((s) => s.ref === ref && s.ts_ns >= first(to));
      const receipts = all.filter((m) => m.subtype === 'receive' && m.ref === ref);
      mine.forEach((s, k) => {
        if (k >= receipts.length) {
          const r = byReceiver.get(to) ?? { count: 0, oldest: Infinity };
          byReceiver.set(to, { count: r.count + 1, oldest: Math.min(r.oldest, s.wall_ms) });
        } else if (latest.has(s.id)) got.push((receipts[k]!.ts_ns - s.ts_ns) / 1e6);
      });
    }
    latency[`${from} → ${to}`] = got.sort((a, b) => a - b);
  }
  return { pending: Object.fromEntries([...byReceiver].sort()), latency };
}

function fromTallies(store: Store) {
  const stats = mailboxStats(store);
  return {
    pending: Object.fromEntries(stats.pending.map((p) => [p.actor, { count: p.count, oldest: p.oldest_ms }]).sort()),
    latency: Object.fromEntries(stats.pairs.map((p) => [`${p.from} → ${p.to}`, p.mean_latency_ms === null ? [] : [p.mean_latency_ms, p.max_latency_ms]])),
  };
}

/** Every open id's oldest send is its n-th latest, n its sends in flight. */
function checkOldest(store: Store): number {
  const open = store.db.prepare('SELECT sender, receiver, ref, open, oldest FROM message_open WHERE open > 0').all() as { sender: string; receiver: string; ref: string; open: number; oldest: number }[];
  const nth = store.db.prepare("SELECT id FROM events WHERE type = 'message' AND subtype = 'send' AND ref = ? AND from_actor = ? AND to_actor = ? ORDER BY ts_ns DESC, id DESC LIMIT 1 OFFSET ?");
  for (const o of open) expect(o.oldest, o.ref).toBe((nth.get(o.ref, o.sender, o.receiver, o.open - 1) as { id: number }).id);
  expect(store.db.prepare('SELECT count(*) AS n FROM message_open WHERE open <= 0 AND oldest IS NOT NULL').get()).toEqual({ n: 0 });
  return open.length;
}

function expectSame(store: Store): void {
  const every = fromEveryMessage(store);
  const tallied = fromTallies(store);
  expect(tallied.pending).toEqual(every.pending);
  for (const [pair, got] of Object.entries(every.latency)) {
    const [mean, max] = tallied.latency[pair] ?? [];
    if (got.length === 0) expect(mean, pair).toBeUndefined();
    else {
      expect(mean, pair).toBeCloseTo(got.reduce((a, b) => a + b, 0) / got.length, 6);
      expect(max, pair).toBeCloseTo(got.at(-1)!, 6);
    }
  }
}

describe('on traffic whose ids repeat', () => {
  it('equals what every message says, through batches in any order and both prunes', () => {
    const rows = repeated(3_000, 11);
    const store = new Store({ maxEvents: rows.length - 800 });
    const byActor = ACTORS.map((a) => rows.filter((r) => r.actor === a));
    for (let b = 0; b < 12; b++) {
      // receipts written before their sends: the receivers' batches first
      for (const mine of [byActor[2]!, byActor[1]!, byActor[0]!]) store.write(mine.slice((b * mine.length) / 12, ((b + 1) * mine.length) / 12));
      expect(checkOldest(store)).toBeGreaterThan(0);
      expectSame(store);
    }
    expect(store.eventCount()).toBe(rows.length - 800);
    // pruned by age: messages sent in the first 1.5 s of the 3 s
    store.retention = { message: (Number(process.hrtime.bigint()) - TS0 - 1.5e9) / 1e6 };
    store.pruneByAge();
    expect(checkOldest(store)).toBeGreaterThan(0);
    expectSame(store);
  });

  it('is read from a file written before the column: as it is read-only, converted when opened to write', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'trace.db');
    const first = new Store({ path });
    first.write(repeated(2_000, 5));
    const stats = mailboxStats(first);
    // system_snapshot_at's messages in flight at moments along the trace: read from each id's oldest open
    // send here, from all its sends in the file without the column
    const moments = [300, 900, 1_500, 2_100];
    const inFlightThen = moments.map((ms) => inFlightAt(first, WALL0 + ms));
    expect(inFlightThen.map((m) => m.length)).toEqual([8, 21, 44, 101]);
    const open = first.db.prepare('SELECT * FROM message_open ORDER BY 1, 2, 3').all();
    first.db.exec('ALTER TABLE message_open DROP COLUMN oldest');
    first.close();
    const readOnly = new Store({ path, readonly: true });
    expect(mailboxStats(readOnly)).toEqual(stats);
    expect(moments.map((ms) => inFlightAt(readOnly, WALL0 + ms))).toEqual(inFlightThen);
    readOnly.close();
    const store = new Store({ path });
    expect(store.db.prepare('SELECT * FROM message_open ORDER BY 1, 2, 3').all()).toEqual(open);
    expect(mailboxStats(store)).toEqual(stats);
    expect(moments.map((ms) => inFlightAt(store, WALL0 + ms))).toEqual(inFlightThen);
    store.close();
  });
});

describe('message_queue_analysis', () => {
  it(`names a thread that does not answer within ${THREAD_WAIT_MS} ms as busy, and answers without it`, async () => {
    const { ctx } = fixture(webEvents());
    // the main thread answers; the worker's answer never comes (a flood keeps it busy)
    ctx.processInfo = (id) => (id === '4242' ? Promise.resolve({ event_loop_delay_ms: { min: 1, mean: 2.5, p50: 2, p99: 9, max: 12 } }) : new Promise(() => {}));
    ctx.supervisionTree = () => [{ id: '4242', kind: 'process', status: 'running', children: [{ id: '4242/w1', kind: 'worker', status: 'running', children: [] }] }] as never;
    const r = await callTool(message_queue_analysis, {}, ctx);
    const text = (r.content as { text: string }[])[0]!.text;
    expect(text.split('\n').slice(-3)).toEqual(['Event-loop delay (ms):', '  4242: min 1, mean 2.5, p50 2, p99 9, max 12', `Busy, no answer within ${THREAD_WAIT_MS} ms: 4242/w1 (process_info waits for one)`]);
    expect((r.structuredContent as { skipped: unknown }).skipped).toEqual([{ actor: '4242/w1', reason: `busy: no answer within ${THREAD_WAIT_MS} ms` }]);
  });
});
