// The store's message tallies (message_pairs, message_open) against the messages themselves: the pair counts
// and in-flight sets message_queue_analysis reads from them equal those read from every message, through
// batches in any order, sends from before the receiver's first event, pruning by count and by age, and a
// file written before the tallies existed.
import { join, } from 'node:path';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type EventRow } from '../../src/store/store.js';
import { pairCounts, mailboxStats } from '../../src/query/queues.js';
import { tempDir } from '../helpers.js';

const ACTORS = ['1', '1/w1', '1/w2'];

/** Messages between three threads, some identical (shared ids), some never received, some sent early. */
function traffic(n: number, seed: number): EventRow[] {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const rows: EventRow[] = [];
  const at = (i: number, type: string, subtype: string, actor: string, extra: Partial<EventRow> = {}): EventRow => ({
    ts_ns: 1_000_000 + i * 1_000, wall_ms: 1_700_000_000_000 + i / 1000, type, subtype, actor, from_actor: null, to_actor: null, corr: null, ref: null, payload: '{"channel":"worker","message":1}', ...extra,
  });
  for (let i = 0; i < n; i++) {
    const from = ACTORS[Math.floor(rand() * 3)]!;
    const to = ACTORS[(ACTORS.indexOf(from) + 1 + Math.floor(rand() * 2)) % 3]!;
    const ref = `${from}>${to}#${Math.floor(rand() * 6)}`;
    // '1/w2' starts late: sends to it before its first event are left out of its counts
    if (to === '1/w2' && i < n / 4) {
      rows.push(at(i * 3, 'message', 'send', from, { from_actor: from, to_actor: to, ref }));
      continue;
    }
    if (from === '1/w2' && i < n / 4) continue;
    rows.push(at(i * 3, 'message', 'send', from, { from_actor: from, to_actor: to, ref }));
    if (rand() < 0.8) rows.push(at(i * 3 + 1, 'message', 'receive', to, { from_actor: from, to_actor: to, ref }));
    if (rand() < 0.2) rows.push(at(i * 3 + 2, 'log', 'info', from));
  }
  return rows;
}

/** Every pair's counts and open ids, as the tallies give them and as every message gives them. */
function both(store: Store): [unknown, unknown] {
  const shape = (ps: ReturnType<typeof pairCounts>) =>
    ps.map((p) => ({ ...p, excess: [...p.excess].sort() })).sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  return [shape(pairCounts(store, null)), shape(pairCounts(store, Number.MAX_SAFE_INTEGER))];
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('message tallies', () => {
  it('give the pair counts and open ids of every message, through writes in any order and both prunes', () => {
    const rows = traffic(600, 7);
    const store = new Store({ maxEvents: 900 });
    // receipts written before their sends (batches from different threads arrive in any order)
    const byActor = ACTORS.map((a) => rows.filter((r) => r.actor === a));
    for (let b = 0; b < 10; b++) {
      for (const mine of [byActor[2]!, byActor[0]!, byActor[1]!]) store.write(mine.slice(b * mine.length / 10, (b + 1) * mine.length / 10), []);
      const [tallied, read] = both(store);
      expect(tallied).toEqual(read);
    }
    expect(store.eventCount()).toBe(900);
    const [tallied] = both(store);
    expect((tallied as { excess: unknown[] }[]).some((p) => p.excess.length > 0)).toBe(true);
    store.retention = { message: 0 };
    store.pruneByAge();
    expect(both(store)[0]).toEqual([]);
    expect(store.db.prepare('SELECT count(*) AS n FROM message_open').get()).toEqual({ n: 0 });
  });

  it('are computed once for a file written before them', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'trace.db');
    const first = new Store({ path });
    first.write(traffic(300, 3), []);
    const stats = mailboxStats(first);
    first.db.exec('DROP TABLE message_pairs; DROP TABLE message_open');
    first.close();
    const store = new Store({ path });
    const [tallied, read] = both(store);
    expect(tallied).toEqual(read);
    expect(mailboxStats(store)).toEqual(stats);
    store.close();
  });
});
