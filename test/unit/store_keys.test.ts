// The store's key columns: stored, filled from what the writer gives or else from the payload, and a file
// written by the previous version (VIRTUAL generated key columns, indexed) converted in place when opened.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { functionCalls } from '../../src/query/calls.js';
import { httpRequests } from '../../src/query/http.js';
import { Store, type EventRow } from '../../src/store/store.js';
import { tempDir } from '../helpers.js';

function row(i: number, type: string, subtype: string, payload: unknown, actor = '100'): EventRow {
  return { ts_ns: 1_000 + i, wall_ms: 1_700_000_000_000 + i, type, subtype, actor, from_actor: null, to_actor: null, corr: null, ref: `r${i}`, payload: JSON.stringify(payload) };
}

const ROWS: EventRow[] = [
  row(1, 'process', 'start', { pid: 100, argv: ['node', 'app.js'] }),
  row(2, 'call', 'call', { module: '/app/pay.js', fn: 'charge', args: [1], parent: null }),
  row(3, 'call', 'return', { module: '/app/pay.js', fn: 'charge', result: 2, duration_ns: 10, async: false }),
  row(4, 'call', 'call', { module: '/app/pay.js', fn: 'refund', args: [], parent: null }, '100/w1'),
  row(5, 'call', 'call', { fn: 'anonymous', args: [] }),
  row(6, 'http', 'request', { method: 'GET', url: '/x' }),
  { ...row(7, 'http', 'response', { method: 'GET', url: '/x', route: null, status: 503, duration_ns: 5 }), ref: 'r6' },
  row(8, 'http', 'response', { method: 'GET', url: '/y', route: null, status: null, duration_ns: 5 }),
  row(9, 'agent', 'trace_started', { module: '/app/pay.js', status: 'traced' }),
  row(10, 'log', 'info', { text: 'hello', module: 'not a key here' }),
];

/** What the key columns hold, read back, and what json_extract over the payload says they should hold. */
const KEYS = "SELECT id, type, subtype, k_module, k_fn, k_status, k_ns FROM events ORDER BY id";
const EXPECTED = `SELECT id, type, subtype,
  CASE WHEN type IN ('call', 'agent') THEN coalesce(json_extract(payload, '$.module'), '') END AS k_module,
  CASE WHEN type IN ('call', 'agent') THEN coalesce(json_extract(payload, '$.fn'), '') END AS k_fn,
  CASE WHEN type = 'http' AND subtype = 'response' THEN json_extract(payload, '$.status') END AS k_status,
  CASE WHEN (type = 'call' AND subtype IN ('return', 'throw')) OR (type = 'http' AND subtype = 'response') THEN json_extract(payload, '$.duration_ns') END AS k_ns
  FROM events ORDER BY id`;

// The schema of the previous version, as it created a file (its DDL, verbatim in substance).
const PREVIOUS_SCHEMA = `
CREATE TABLE events (
  id INTEGER PRIMARY KEY, ts_ns INTEGER NOT NULL, wall_ms REAL NOT NULL, type TEXT NOT NULL, subtype TEXT NOT NULL,
  actor TEXT NOT NULL, from_actor TEXT, to_actor TEXT, corr TEXT, ref TEXT, payload TEXT,
  k_module GENERATED ALWAYS AS (coalesce(json_extract(payload, '$.module'), '')) VIRTUAL,
  k_fn GENERATED ALWAYS AS (coalesce(json_extract(payload, '$.fn'), '')) VIRTUAL,
  k_status GENERATED ALWAYS AS (json_extract(payload, '$.status')) VIRTUAL
);
CREATE INDEX events_actor_ts ON events (actor, ts_ns);
CREATE INDEX events_type_ts ON events (type, ts_ns);
CREATE TABLE actors (id TEXT PRIMARY KEY, kind TEXT NOT NULL, pid INTEGER, thread_id INTEGER, parent TEXT, name TEXT, started_ms REAL, ended_ms REAL, status TEXT NOT NULL DEFAULT 'running', exit_code INTEGER, exit_signal TEXT, info TEXT) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE actor_counts (actor TEXT NOT NULL, type TEXT NOT NULL, subtype TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (actor, type, subtype)) WITHOUT ROWID;
CREATE TABLE call_counts (k_module TEXT NOT NULL, k_fn TEXT NOT NULL, actor TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (k_module, k_fn, actor)) WITHOUT ROWID;
CREATE INDEX events_call_key ON events (k_module, k_fn, ts_ns) WHERE type = 'call' AND subtype = 'call';
CREATE INDEX events_send_pair ON events (actor, to_actor, ts_ns) WHERE type = 'message' AND subtype = 'send';
CREATE INDEX events_http_request ON events (ref, ts_ns) WHERE type = 'http' AND subtype = 'request';
CREATE INDEX events_http_status ON events (k_status, ts_ns) WHERE type = 'http' AND subtype = 'response';
CREATE INDEX events_spawned_by ON events (from_actor, ts_ns) WHERE type IN ('worker', 'child');`;

/** A file as the previous version left it: its schema, its rows, its counts. */
function previousFile(path: string, rows: EventRow[]): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(PREVIOUS_SCHEMA);
  const insert = db.prepare('INSERT INTO events (ts_ns, wall_ms, type, subtype, actor, from_actor, to_actor, corr, ref, payload) VALUES (@ts_ns, @wall_ms, @type, @subtype, @actor, @from_actor, @to_actor, @corr, @ref, @payload)');
  for (const r of rows) insert.run(r);
  db.exec('INSERT INTO actor_counts SELECT actor, type, subtype, count(*) FROM events GROUP BY 1, 2, 3');
  db.exec("INSERT INTO call_counts SELECT k_module, k_fn, actor, count(*) FROM events WHERE type = 'call' AND subtype = 'call' GROUP BY 1, 2, 3");
  db.close();
}

const dirs: string[] = [];
function tempFile(): string {
  const dir = tempDir();
  dirs.push(dir);
  return join(dir, 'trace.db');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const WINDOW = { sinceMs: null, untilMs: null };

describe('key columns', () => {
  it('are stored (module and function as a site), read from the payload when the writer does not give them', () => {
    const store = new Store();
    store.write(ROWS, []);
    const columns = store.db.prepare("SELECT name, hidden FROM pragma_table_xinfo('events') WHERE name LIKE 'k\\_%' ESCAPE '\\'").all();
    // (module and function stored as the row's site, spelled back, and a response's status as its site: src/store/names.ts)
    expect(columns).toEqual([{ name: 'k_module', hidden: 2 }, { name: 'k_fn', hidden: 2 }, { name: 'k_status', hidden: 2 }, { name: 'k_ns', hidden: 0 }]);
    expect(store.db.prepare(KEYS).all()).toEqual(store.db.prepare(EXPECTED).all());
    // null where a row has no key: only calls and the agent's reports name a module, only responses a status
    expect(store.db.prepare("SELECT count(*) AS n FROM events WHERE k_module IS NOT NULL AND type NOT IN ('call', 'agent')").get()).toEqual({ n: 0 });
  });

  it('take what the writer gives, without reading the payload', () => {
    const store = new Store();
    store.write([{ ...row(1, 'call', 'call', { args: [] }), k_module: 'given.js', k_fn: 'f' }, { ...row(2, 'http', 'response', {}), k_status: 201 }], []);
    expect(store.db.prepare('SELECT k_module, k_fn, k_status FROM events ORDER BY id').all()).toEqual([
      { k_module: 'given.js', k_fn: 'f', k_status: null },
      { k_module: null, k_fn: null, k_status: 201 },
    ]);
    expect(store.db.prepare('SELECT k_module, k_fn, actor, n FROM call_counts').all()).toEqual([{ k_module: 'given.js', k_fn: 'f', actor: '100', n: 1 }]);
  });

  it('sums calls per (module, fn, actor) per transaction', () => {
    const store = new Store();
    const calls = Array.from({ length: 30 }, (_, i) => row(i, 'call', 'call', { module: `m${i % 3}.js`, fn: i % 2 ? 'a' : 'b', args: [] }, i % 5 ? '1' : '1/w1'));
    store.write(calls.slice(0, 17), []);
    store.write(calls.slice(17), []);
    const exact = store.db.prepare("SELECT k_module, k_fn, actor, count(*) AS n FROM events WHERE type = 'call' AND subtype = 'call' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3").all();
    expect(store.db.prepare('SELECT k_module, k_fn, actor, n FROM call_counts ORDER BY 1, 2, 3').all()).toEqual(exact);
    expect(exact).toHaveLength(12);
  });

  it('convert a file written with VIRTUAL key columns in place, and the tools answer from it as before', () => {
    const path = tempFile();
    previousFile(path, ROWS);
    const before = new Database(path, { readonly: true });
    const old = { keys: before.prepare(KEYS.replace(', k_ns', '')).all(), counts: before.prepare('SELECT * FROM call_counts ORDER BY 1, 2, 3').all() };
    expect(before.prepare("SELECT hidden FROM pragma_table_xinfo('events') WHERE name = 'k_module'").get()).toEqual({ hidden: 2 });
    before.close();

    const store = new Store({ path });
    const columns = store.db.prepare("SELECT name, hidden FROM pragma_table_xinfo('events') WHERE name LIKE 'k\\_%' ESCAPE '\\'").all();
    // (module and function stored as the row's site, spelled back, and a response's status as its site: src/store/names.ts)
    expect(columns).toEqual([{ name: 'k_module', hidden: 2 }, { name: 'k_fn', hidden: 2 }, { name: 'k_status', hidden: 2 }, { name: 'k_ns', hidden: 0 }]);
    // the rows that carry keys hold what the virtual columns computed; the others hold none
    type Keys = { id: number; type: string; subtype: string; k_module: unknown; k_fn: unknown; k_status: unknown };
    const keys = store.db.prepare(KEYS).all() as Keys[];
    const carried = (rows: Keys[]) =>
      rows.map((r) => [r.id, ...(r.type === 'call' || r.type === 'agent' ? [r.k_module, r.k_fn] : []), ...(r.type === 'http' && r.subtype === 'response' ? [r.k_status] : [])]);
    expect(carried(keys)).toEqual(carried(old.keys as Keys[]));
    expect(keys).toEqual(store.db.prepare(EXPECTED).all());
    expect(store.db.prepare('SELECT * FROM call_counts ORDER BY 1, 2, 3').all()).toEqual(old.counts);
    const indexes = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND name LIKE 'events\\_%' ESCAPE '\\' ORDER BY name").all();
    expect(indexes.map((i: any) => i.name)).toEqual(['events_actor_ts', 'events_call_key', 'events_corr', 'events_end_key', 'events_http_request', 'events_http_slow', 'events_http_status', 'events_message_ref', 'events_receive_pair', 'events_send_pair', 'events_spawned_by', 'events_type_ts']);

    expect(functionCalls(store, { module: 'pay.js', window: WINDOW }, { limit: 10, offset: 0 }).total).toBe(2);
    expect(httpRequests(store, { window: WINDOW, statusMin: 500 }, { limit: 10, offset: 0 }).requests.map((r) => r.id)).toEqual(['r6']);
    expect(httpRequests(store, { window: WINDOW, slowMs: 0 }, { limit: 10, offset: 0 }).requests.map((r) => r.id)).toEqual(['r6']);
    // and it takes new rows as a new file would
    store.write([row(11, 'call', 'call', { module: '/app/pay.js', fn: 'charge', args: [2], parent: null })], []);
    expect(store.db.prepare("SELECT n FROM call_counts WHERE k_fn = 'charge'").get()).toEqual({ n: 2 });
    store.close();

    // opened again: nothing left to convert
    const again = new Store({ path });
    expect(again.db.prepare(KEYS).all()).toEqual(again.db.prepare(EXPECTED).all());
    again.close();
  });

  it('add and fill the key columns of a file written before them', () => {
    const path = tempFile();
    const db = new Database(path);
    db.exec(PREVIOUS_SCHEMA.replace(/,\n\s*k_module[\s\S]*?VIRTUAL\n/, '\n').replace(/CREATE TABLE call_counts[^\n]*\n/, '').replace(/CREATE INDEX events_(call_key|http_status)[^\n]*\n?/g, ''));
    const insert = db.prepare('INSERT INTO events (ts_ns, wall_ms, type, subtype, actor, from_actor, to_actor, corr, ref, payload) VALUES (@ts_ns, @wall_ms, @type, @subtype, @actor, @from_actor, @to_actor, @corr, @ref, @payload)');
    for (const r of ROWS) insert.run(r);
    db.exec('INSERT INTO actor_counts SELECT actor, type, subtype, count(*) FROM events GROUP BY 1, 2, 3');
    expect(db.prepare("SELECT count(*) AS n FROM pragma_table_xinfo('events') WHERE name LIKE 'k\\_%' ESCAPE '\\'").get()).toEqual({ n: 0 });
    db.close();

    const store = new Store({ path });
    expect(store.db.prepare(KEYS).all()).toEqual(store.db.prepare(EXPECTED).all());
    expect(store.db.prepare('SELECT k_module, k_fn, actor, n FROM call_counts ORDER BY 1, 2, 3').all()).toEqual([
      { k_module: '', k_fn: 'anonymous', actor: '100', n: 1 },
      { k_module: '/app/pay.js', k_fn: 'charge', actor: '100', n: 1 },
      { k_module: '/app/pay.js', k_fn: 'refund', actor: '100/w1', n: 1 },
    ]);
    store.close();
  });
});
