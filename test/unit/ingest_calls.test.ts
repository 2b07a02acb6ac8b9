// Ingest's decoding of the agents' call events on its own: a `call/complete` (one synchronous call) becomes
// its two rows, whose payload texts are put together from slices of the wire text. They must be exactly what
// parsing it and stringifying each half gives, secrets redacted the same way, with the key columns filled.
import { describe, expect, it } from 'vitest';
import type { TextBatch, TextEvent } from '../../src/shared/protocol.js';
import { redactJson, redactString } from '../../src/shared/redact.js';
import { Store } from '../../src/store/store.js';
import { Ingest } from '../../src/trace/ingest.js';

const ACTOR = '4242/w1';
/** A completion's duration key, and what json_extract over its payload says it should hold. */
const DURATION_KEYS = "SELECT id, k_ns FROM events WHERE subtype IN ('return', 'throw') ORDER BY id";
const DURATIONS = "SELECT id, json_extract(payload, '$.duration_ns') AS k_ns FROM events WHERE subtype IN ('return', 'throw') ORDER BY id";
const SITES = [
  { sid: 1, module: '/app/src/pay.js', fn: 'charge' },
  { sid: 2, module: 'C:\\app\\"odd" name.js', fn: 'Cart#add' },
  { sid: 3, module: '/app/auth.js?token=abc123secret', fn: 'login' },
];

/** Values that a naive slicer would get wrong: quotes, backslashes, brackets and commas inside strings, nesting. */
const VALUES: unknown[] = [
  [],
  [1, 'EUR'],
  ['a "quoted", [bracketed] {braced} string\\', { nested: [[1, [2, { x: ']' }]]], '}': '{' }],
  [{ $t: 'undefined' }, null, true, -1.5e-7, 'ünïcödé \u2028 \ud83d\ude00'],
  ['Bearer abcdef1234567890abcdef', { url: 'https://u:hunter2@example.com/?api_key=zzz' }],
  ['--password', 'hunter2'],
  { 10: 'a', 2: 'b', x: 'c' },
  'just a string, with a comma',
  42,
  null,
];

function wire(i: number, sid: number, args: unknown, parent: number | null, threw: 0 | 1, value: unknown, duration: number): TextEvent {
  return [1_000_000 + i * 1_000, 'call', 'complete', ACTOR, null, null, null, 100 + i, JSON.stringify([sid, args, parent, threw, value, duration])];
}

/** What ingest stored before it sliced: parse, build both payloads, stringify, redact the text. */
function reference(text: string, site: { module: string; fn: string }): [string, string] {
  const [, args, parent, threw, value, duration_ns] = JSON.parse(text) as [number, unknown, number | null, 0 | 1, unknown, number];
  const start = JSON.stringify({ module: site.module, fn: site.fn, args, parent: typeof parent === 'number' ? `${ACTOR}:c${parent}` : parent });
  const end = JSON.stringify({ module: site.module, fn: site.fn, [threw ? 'error' : 'result']: value, duration_ns, async: false });
  return [redacted(start), redacted(end)];
}

function redacted(text: string): string {
  return redactString(text) !== text || /"--?[\w-]*(pass|secret|token|key|auth|credential)/i.test(text) ? JSON.stringify(redactJson(JSON.parse(text))) : text;
}

function batch(seq: number, events: TextEvent[]): TextBatch {
  return { seq, actor: ACTOR, tsNs: 1_000_000, wallMs: Date.now(), events } as TextBatch;
}

describe('ingest of call/complete', () => {
  it('stores both rows of each call with the payloads parsing and stringifying would give, and their keys', () => {
    const store = new Store();
    const ingest = new Ingest(store);
    const sites: TextEvent[] = SITES.map((s, i) => [999_000 + i, 'agent', 'site', ACTOR, null, null, null, null, JSON.stringify(s)]);
    const calls: TextEvent[] = [];
    let i = 0;
    for (const site of SITES) {
      for (const args of VALUES) for (const value of VALUES) calls.push(wire(i++, site.sid, args, i % 3 ? i - 1 : null, (i % 4 === 0 ? 1 : 0) as 0 | 1, value, 1_000 + i));
    }
    ingest.accept(batch(1, [...sites, ...calls]));
    ingest.flush();

    const rows = store.db.prepare("SELECT ts_ns, subtype, ref, payload, k_module, k_fn FROM events WHERE type = 'call' ORDER BY id").all() as { ts_ns: number; subtype: string; ref: string; payload: string; k_module: string; k_fn: string }[];
    expect(rows).toHaveLength(2 * calls.length);
    calls.forEach((e, n) => {
      const [sid, , , threw, , duration] = JSON.parse(e[8]!) as [number, unknown, unknown, 0 | 1, unknown, number];
      const site = SITES.find((s) => s.sid === sid)!;
      const [start, end] = reference(e[8]!, site);
      const stored = JSON.parse(start) as { module: string; fn: string };
      expect(rows[2 * n]).toEqual({ ts_ns: e[0] - duration, subtype: 'call', ref: `${ACTOR}:c${e[7]}`, payload: start, k_module: stored.module, k_fn: stored.fn });
      expect(rows[2 * n + 1]).toEqual({ ts_ns: e[0], subtype: threw ? 'throw' : 'return', ref: `${ACTOR}:c${e[7]}`, payload: end, k_module: stored.module, k_fn: stored.fn });
    });
    // the secret in a module's name is redacted in its payload and so in its key
    expect(rows.filter((r) => r.k_module.includes('abc123secret'))).toEqual([]);
    expect(store.db.prepare('SELECT sum(n) AS n FROM call_counts').get()).toEqual({ n: calls.length });
    // each completion's duration key is its payload's duration_ns
    expect(store.db.prepare(DURATION_KEYS).all()).toEqual(store.db.prepare(DURATIONS).all());
    expect(store.db.prepare("SELECT count(k_ns) AS n FROM events WHERE subtype IN ('return', 'throw')").get()).toEqual({ n: calls.length });
  });

  it('keys the events that come apart (async calls) from their text, and an HTTP response by its status', () => {
    const store = new Store();
    const ingest = new Ingest(store);
    const start = { module: '/app/"q".js', fn: 'fetch\\All', args: [], parent: 7 };
    const end = { module: '/app/"q".js', fn: 'fetch\\All', result: 1, duration_ns: 5, async: true };
    const events: TextEvent[] = [
      [1, 'call', 'call', ACTOR, null, null, null, 8, JSON.stringify(start)],
      [2, 'call', 'return', ACTOR, null, null, null, 8, JSON.stringify(end)],
      [3, 'call', 'call', ACTOR, null, null, null, 9, JSON.stringify({ args: [], module: 'late.js', fn: 'f' })],
      [3, 'call', 'throw', ACTOR, null, null, null, 9, JSON.stringify({ module: 'late.js', fn: 'f', error: { duration_ns: 1, async: true }, duration_ns: 7, async: true })],
      [3, 'call', 'return', ACTOR, null, null, null, 10, JSON.stringify({ module: 'late.js', fn: 'f', result: { duration_ns: 1, async: true } })],
      [4, 'http', 'response', ACTOR, null, null, null, 'r1', JSON.stringify({ method: 'GET', url: '/"status":1', route: null, status: 404, duration_ns: 1 })],
      [5, 'http', 'response', ACTOR, null, null, null, 'r2', JSON.stringify({ method: 'GET', url: '/x', route: null, status: null, duration_ns: 1 })],
      [6, 'http', 'response', ACTOR, null, null, null, 'r3', JSON.stringify({ meta: { status: 1 }, status: 302 })],
    ];
    ingest.accept(batch(1, events));
    ingest.flush();
    expect(store.db.prepare('SELECT k_module, k_fn, k_status FROM events ORDER BY id').all()).toEqual([
      { k_module: '/app/"q".js', k_fn: 'fetch\\All', k_status: null },
      { k_module: '/app/"q".js', k_fn: 'fetch\\All', k_status: null },
      { k_module: 'late.js', k_fn: 'f', k_status: null },
      { k_module: 'late.js', k_fn: 'f', k_status: null },
      { k_module: 'late.js', k_fn: 'f', k_status: null },
      { k_module: null, k_fn: null, k_status: 404 },
      { k_module: null, k_fn: null, k_status: null },
      { k_module: null, k_fn: null, k_status: 302 },
    ]);
    expect(JSON.parse((store.db.prepare('SELECT payload FROM events WHERE id = 1').get() as { payload: string }).payload).parent).toBe(`${ACTOR}:c7`);
    expect(store.db.prepare(DURATION_KEYS).all()).toEqual([{ id: 2, k_ns: 5 }, { id: 4, k_ns: 7 }, { id: 5, k_ns: null }]);
    expect(store.db.prepare(DURATION_KEYS).all()).toEqual(store.db.prepare(DURATIONS).all());
    // a response's duration: read off its text where the status is, else (a nested object) from its payload
    const responses = "SELECT id, k_ns, json_extract(payload, '$.duration_ns') AS json FROM events WHERE subtype = 'response' ORDER BY id";
    expect(store.db.prepare(responses).all()).toEqual([{ id: 6, k_ns: 1, json: 1 }, { id: 7, k_ns: 1, json: 1 }, { id: 8, k_ns: null, json: null }]);
  });
});
