import { it } from 'vitest';
import { Store } from '../../src/store/store.js';
it('plans', () => {
  const store = new Store();
  const plan = (sql: string) => { const st = store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`); const names = [...new Set([...sql.matchAll(/:(\w+)/g)].map((m) => m[1]!))]; const pos = (sql.match(/\?/g) ?? []).length; const args: unknown[] = []; if (names.length) args.push(Object.fromEntries(names.map((n) => [n, 1]))); for (let i = 0; i < pos; i++) args.push(1); return (st.all(...args) as { detail: string }[]).map((r) => r.detail).join('; '); };
  const W = '(:since IS NULL OR wall_ms >= :since) AND (:until IS NULL OR wall_ms <= :until)';
  const q: Record<string, string> = {
    calls: `SELECT * FROM events WHERE type = 'call' AND subtype = 'call' AND ${W} AND json_extract(payload,'$.module') = :m ORDER BY ts_ns, id LIMIT 50 OFFSET 0`,
    callsByActor: `SELECT * FROM events WHERE +type = 'call' AND subtype = 'call' AND ${W} AND actor IN (:a0, :a1) ORDER BY ts_ns, id LIMIT 50 OFFSET 0`,
    completion: `SELECT subtype, ts_ns, payload FROM events WHERE actor = ? AND ts_ns >= ? AND +type = 'call' AND ref = ? AND subtype IN ('return', 'throw') ORDER BY ts_ns, id LIMIT 1`,
    modules: `SELECT DISTINCT json_extract(payload, '$.module') AS m FROM events WHERE type = 'call' AND subtype = 'call' LIMIT 20`,
    flow: `SELECT * FROM events WHERE +type = 'message' AND subtype = 'send' AND ((actor = :a AND to_actor = :b) OR (actor = :b AND to_actor = :a)) AND ${W} ORDER BY ts_ns, id LIMIT 50`,
    receipt: `SELECT ts_ns, wall_ms FROM events WHERE actor = ? AND ts_ns >= ? AND +type = 'message' AND subtype = 'receive' AND ref = ? ORDER BY ts_ns, id LIMIT 1`,
    snapshots: `SELECT * FROM events WHERE actor = :actor AND +type = 'state' AND subtype = 'snapshot' AND ${W} ORDER BY ts_ns, id LIMIT 50`,
    prevSnapshot: `SELECT * FROM events WHERE actor = :actor AND +type = 'state' AND subtype = 'snapshot' AND (ts_ns < :ts OR (ts_ns = :ts AND id < :id)) ORDER BY ts_ns DESC, id DESC LIMIT 1`,
    path: `SELECT * FROM events WHERE (actor IN (:f0, :f1) OR (from_actor = :self AND type IN ('worker', 'child'))) AND NOT (type = 'call' AND subtype IN ('return', 'throw')) AND ${W} ORDER BY ts_ns, id LIMIT 50`,
    parentOf: `SELECT actor, json_extract(payload, '$.parent') AS parent FROM events WHERE type = 'call' AND ts_ns <= ? AND subtype = 'call' AND ref = ? ORDER BY ts_ns DESC, id DESC LIMIT 1`,
    family: `SELECT id FROM actors WHERE parent = ? AND kind = 'object' ORDER BY id`,
  };
  for (const [k, sql] of Object.entries(q)) console.log(`${k}: ${plan(sql)}`);
  store.db.exec('CREATE INDEX events_ref ON events (ref) WHERE ref IS NOT NULL');
  for (const k of ['completion', 'receipt', 'parentOf']) console.log(`withref ${k}: ${plan(q[k]!)}`);
  store.db.exec('DROP INDEX events_ref; CREATE INDEX events_ref ON events (ref)');
  for (const k of ['completion', 'receipt', 'parentOf']) console.log(`withfullref ${k}: ${plan(q[k]!)}`);
});
