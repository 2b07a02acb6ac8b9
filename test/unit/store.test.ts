// The store on its own: rows as written, actor merging, pruning, persistence across processes, and query plans that use the indexes.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kindIs } from '../../src/store/kinds.js';
import { Store, type EventRow } from '../../src/store/store.js';
import { tempDir } from '../helpers.js';

function row(type: string, subtype: string, i: number, actor = '100'): EventRow {
  return { ts_ns: 1_000 + i, wall_ms: 1_700_000_000_000 + i, type, subtype, actor, from_actor: null, to_actor: null, corr: null, ref: null, payload: JSON.stringify({ i }) };
}

describe('Store', () => {
  it('keeps per-actor counts equal to the events through writes, pruning by count and by age', () => {
    const store = new Store({ maxEvents: 50 });
    const exact = () => store.db.prepare('SELECT actor, type, subtype, count(*) AS n FROM events GROUP BY 1, 2, 3 ORDER BY 1, 2, 3').all();
    const kept = () => store.db.prepare('SELECT actor, type, subtype, n FROM actor_counts ORDER BY 1, 2, 3').all();
    const kinds = [['call', 'call'], ['call', 'return'], ['log', 'info']];
    for (let b = 0; b < 7; b++) {
      store.write(Array.from({ length: 13 }, (_, i) => row(kinds[(b + i) % 3]![0]!, kinds[(b + i) % 3]![1]!, b * 13 + i, i % 2 ? '100' : '100/w1')), []);
      expect(kept()).toEqual(exact());
      const calls = store.db.prepare("SELECT actor, count(*) AS n FROM events WHERE type = 'call' AND subtype = 'call' GROUP BY 1 ORDER BY 1").all();
      expect(store.db.prepare('SELECT actor, n FROM call_counts ORDER BY 1').all()).toEqual(calls);
    }
    expect(store.eventCount()).toBe(50);
    // every log event is older than a millisecond of the monotonic clock by now
    store.retention = { log: 0 };
    store.pruneByAge();
    expect(kept()).toEqual(exact());
    expect(kept().some((r: any) => r.type === 'log')).toBe(false);
    const calls = () => store.db.prepare("SELECT json_extract(payload, '$.module') AS m, actor, count(*) AS n FROM events WHERE type = 'call' AND subtype = 'call' GROUP BY 1, 2 ORDER BY 1, 2").all();
    const callsKept = () => store.db.prepare("SELECT nullif(k_module, '') AS m, actor, n FROM call_counts ORDER BY 1, 2").all();
    expect(callsKept()).toEqual(calls());
    store.retention = { call: 0 };
    store.pruneByAge();
    expect(callsKept()).toEqual([]);
  });

  it('keeps type and subtype exactly as written, with monotonic ids', () => {
    const store = new Store();
    store.write([row('call', 'Return', 1), row('weird.type', 'sub/type', 2)], []);
    const rows = store.db.prepare('SELECT id, type, subtype, payload FROM events ORDER BY id').all();
    expect(rows).toEqual([
      { id: 1, type: 'call', subtype: 'Return', payload: '{"i":1}' },
      { id: 2, type: 'weird.type', subtype: 'sub/type', payload: '{"i":2}' },
    ]);
  });

  it('merges actor updates: later partial updates keep what is known, and status only moves forward', () => {
    const store = new Store();
    store.write([], [{ id: '1/w1', kind: 'worker', parent: '1', status: 'exited', exit_code: 3, ended_ms: 20 }]);
    store.write([], [{ id: '1/w1', kind: 'worker', name: 'pricing', started_ms: 10, status: 'running' }]);
    expect(store.actor('1/w1')).toMatchObject({ name: 'pricing', parent: '1', status: 'exited', exit_code: 3, started_ms: 10, ended_ms: 20 });
    store.write([], [{ id: '1', kind: 'process', status: 'crashed' }]);
    store.write([], [{ id: '1', status: 'exited', exit_code: 1 }]);
    expect(store.actor('1')).toMatchObject({ status: 'crashed', exit_code: 1 });
  });

  it('ends tracked objects with the thread that owns them', () => {
    const store = new Store();
    store.write([], [{ id: '1/w1', kind: 'worker', status: 'running' }, { id: '1/w1/o1', kind: 'object', parent: '1/w1', name: 'account' }]);
    store.write([], [{ id: '1/w1', status: 'crashed', ended_ms: 50 }]);
    expect(store.actor('1/w1/o1')).toMatchObject({ status: 'gone', ended_ms: 50 });
  });

  it('prunes oldest-first past max_events', () => {
    const store = new Store({ maxEvents: 100 });
    for (let b = 0; b < 5; b++) store.write(Array.from({ length: 30 }, (_, i) => row('call', 'call', b * 30 + i)), []);
    expect(store.eventCount()).toBe(100);
    const ids = store.db.prepare('SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM events').get();
    expect(ids).toEqual({ lo: 51, hi: 150, n: 100 });
  });

  it('persists to a file that another Store opens read-only', () => {
    const path = join(tempDir(), 'trace.db');
    const writer = new Store({ path });
    writer.write([row('process', 'start', 1)], [{ id: '100', kind: 'process', name: 'app.js' }]);
    writer.close();
    const reader = new Store({ path, readonly: true });
    expect(reader.eventCount()).toBe(1);
    expect(reader.actor('100')).toMatchObject({ name: 'app.js', status: 'running' });
    expect(() => reader.write([row('process', 'exit', 2)])).toThrow(/readonly/);
    reader.close();
  });

  it('answers per-actor and per-type windows from the indexes', () => {
    const store = new Store();
    const plan = (sql: string) => (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan("SELECT * FROM events WHERE actor_code = 1 AND ts_ns BETWEEN 0 AND 10 ORDER BY ts_ns")).toMatch(/USING INDEX events_actor_ts/);
    expect(plan(`SELECT * FROM events WHERE ${kindIs('call')} AND ts_ns > 5 ORDER BY ts_ns`)).toMatch(/USING INDEX events_type_ts/);
  });
});
