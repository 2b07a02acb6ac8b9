// system_snapshot_at at a past moment reads the messages in flight and the HTTP requests in progress from a
// short span before the moment and the store's tallies (message_open, http_spans): its answers equal those of
// the reads over every message and request up to the moment (inFlight, requestsInProgress), at moments all
// along a trace with long and never-answered requests, late and never-received messages, identical messages,
// sends from before the receiver's first event, writes in batches of any size, pruning, and a file written
// before. With receipts lost from the record (events dropped), pairing by id gives a lost receipt's later
// receipt to the lost one's send: the read over every message then lists both sends; the walk, which trusts
// the channel's order, lists the later one only.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inFlightAt, requestsAt } from '../../src/query/at.js';
import { requestsInProgress } from '../../src/query/http.js';
import { inFlight } from '../../src/query/queues.js';
import { Store, type EventRow } from '../../src/store/store.js';
import { tempDir } from '../helpers.js';

const THREADS = ['1', '1/w1', '1/w2'];
const WALL0 = 1_700_000_000_000;
const TS0 = 5e12;

/** About `seconds` of traffic, ordered by time: requests of 1–400 ms (one in 40 never answered), messages. */
function trace(seconds: number, seed: number, lost = 0): EventRow[] {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const rows: EventRow[] = [];
  const row = (ns: number, type: string, subtype: string, actor: string, extra: Partial<EventRow> = {}): EventRow => ({
    ts_ns: TS0 + ns, wall_ms: WALL0 + ns / 1e6, type, subtype, actor, from_actor: null, to_actor: null, corr: null, ref: null, payload: '{"method":"GET","url":"/x","channel":"worker","message":1}', ...extra,
  });
  // w2's first event comes late: sends to it before are left out
  rows.push(row(0, 'process', 'start', '1'), row(1, 'worker', 'online', '1/w1'), row(seconds * 2e8, 'worker', 'online', '1/w2'));
  for (let i = 0; i < seconds * 200; i++) {
    const t = Math.floor(rand() * seconds * 1e9);
    const actor = THREADS[Math.floor(rand() * 2)]!;
    const ref = `${actor}:r${i}`;
    rows.push(row(t, 'http', 'request', actor, { ref, corr: ref }));
    const d = rand() < 0.15 ? 250e6 + Math.floor(rand() * 150e6) : Math.floor(1e6 + rand() * 30e6);
    if (rand() > 1 / 40) rows.push(row(t + d, 'http', 'response', actor, { ref, corr: ref, payload: '{"status":200}' }));
  }
  for (let i = 0; i < seconds * 200; i++) {
    const t = Math.floor(rand() * seconds * 1e9);
    const from = THREADS[Math.floor(rand() * 3)]!;
    if (from === '1/w2' && t < seconds * 2e8) continue;
    const to = THREADS[(THREADS.indexOf(from) + 1 + Math.floor(rand() * 2)) % 3]!;
    // identical messages share an id; each pair's channel keeps order (receipts in the order of the sends)
    const ref = `${from}>${to}#${Math.floor(rand() * 40)}${rand() < 0.03 ? '!' : ''}`;
    rows.push(row(t, 'message', 'send', from, { from_actor: from, to_actor: to, ref }));
  }
  const sends = rows.filter((r) => r.subtype === 'send').sort((a, b) => a.ts_ns - b.ts_ns);
  const last = new Map<string, number>();
  for (const s of sends) {
    // never received ('!'), received and not recorded, or received before the receiver's agent started
    if (s.ref!.endsWith('!') || rand() < lost || (s.to_actor === '1/w2' && s.ts_ns - TS0 < seconds * 2e8)) continue;
    const pair = `${s.from_actor}>${s.to_actor}`;
    const at = Math.max(s.ts_ns - TS0 + (rand() < 0.1 ? 300e6 * rand() : 1e5 + rand() * 2e6), last.get(pair) ?? 0) + 1;
    last.set(pair, at);
    rows.push(row(at, 'message', 'receive', s.to_actor!, { from_actor: s.from_actor, to_actor: s.to_actor, ref: s.ref }));
  }
  return rows.sort((a, b) => a.ts_ns - b.ts_ns);
}

/** The in-flight messages and requests in progress, both ways, at moments all along the trace. */
function compare(store: Store, seconds: number, seed: number, lost = false): number {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  let found = 0;
  for (let k = 0; k < 40; k++) {
    const at = WALL0 + rand() * (seconds * 1_000 + 500);
    const messages = inFlightAt(store, at);
    const every = inFlight(store, at);
    if (lost) expect(every, `messages at ${at}`).toEqual(expect.arrayContaining(messages));
    else expect(messages, `messages at ${at}`).toEqual(every);
    const requests = requestsAt(store, at);
    expect(requests.map((r) => [r.id, r.actor, r.wall_ms]), `requests at ${at}`).toEqual(requestsInProgress(store, at).map((r) => [r.id, r.actor, r.wall_ms]));
    found += messages.length + requests.length;
  }
  return found;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('a past moment', () => {
  it('has the messages in flight and requests in progress of every message and request up to it', () => {
    const rows = trace(6, 5);
    const store = new Store({ maxEvents: rows.length - 600 });
    // batches of 1 to 400 rows: requests answered in their batch or a later one
    let x = 3;
    for (let i = 0; i < rows.length; ) {
      const n = 1 + ((x = (x * 7919 + 13) % 401));
      store.write(rows.slice(i, i + n), []);
      i += n;
    }
    // pruned by count: the oldest 600 events are gone, the tallies with them
    expect(store.eventCount()).toBe(rows.length - 600);
    expect(store.db.prepare('SELECT count(*) AS n FROM http_spans').get()).not.toEqual({ n: 0 });
    expect(compare(store, 6, 9)).toBeGreaterThan(40);
  });

  it('lists in flight, with receipts lost from the record, only sends the read over every message lists', () => {
    const store = new Store();
    store.write(trace(3, 12, 0.1), []);
    expect(compare(store, 3, 2, true)).toBeGreaterThan(20);
  });

  it('is read the same from a file written before http_spans', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'trace.db');
    const first = new Store({ path });
    first.write(trace(3, 8), []);
    first.db.exec('DROP TABLE http_spans');
    first.close();
    const store = new Store({ path });
    expect(compare(store, 3, 4)).toBeGreaterThan(20);
    store.close();
  });
});
