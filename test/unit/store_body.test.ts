// The stored body of a payload: a call's module and function and a completion's duration live only in the key
// columns, and `payload` (a computed column) gives back the text that was written, character for character.
// A file written by the previous version (payload a plain column) is read as it is, read-only, and converted
// in place when opened to write; the tools answer the same from all three.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { callTool } from '../../src/server.js';
import { kindIs, SUBTYPES, TYPES } from '../../src/store/kinds.js';
import { Store, type EventRow } from '../../src/store/store.js';
import type { ToolContext } from '../../src/tools/define.js';
import { TOOLS } from '../../src/tools/registry.js';
import { tempDir } from '../helpers.js';
import { contextOf, setup, T0, webEvents } from '../query_fixture.js';

function row(i: number, type: string, subtype: string, payload: string | null, keys: Partial<EventRow> = {}): EventRow {
  return { ts_ns: 1_000 + i, wall_ms: 1_700_000_000_000 + i, type, subtype, actor: '1', from_actor: null, to_actor: null, corr: null, ref: `1:c${i}`, payload, ...keys };
}

const text = (p: unknown) => JSON.stringify(p);

/** Payloads of every shape a call row can have, with and without the key columns given by the writer. */
const PAYLOADS: [string, string, string | null, Partial<EventRow>][] = [
  ['call', 'call', text({ module: '/app/pay.js', fn: 'charge', args: [1], parent: null }), {}],
  ['call', 'call', text({ module: '/app/pay.js', fn: 'charge', args: [1], parent: null }), { k_module: '/app/pay.js', k_fn: 'charge' }],
  ['call', 'return', text({ module: '/app/pay.js', fn: 'charge', result: { ok: true }, duration_ns: 1200, async: false }), {}],
  ['call', 'return', text({ module: '/app/pay.js', fn: 'charge', result: 2, duration_ns: 1200, async: false }), { k_module: '/app/pay.js', k_fn: 'charge', k_ns: 1200 }],
  ['call', 'throw', text({ module: 'pkg', fn: 'f', error: { message: ',"duration_ns":7,"async":true}' }, duration_ns: 7, async: true }), {}],
  ['call', 'return', text({ module: 'm', fn: 'f', duration_ns: 0, async: true }), {}],
  ['call', 'return', text({ module: 'm', fn: 'f', result: 1, duration_ns: 1.5, async: false }), {}],
  ['call', 'return', text({ module: 'm', fn: 'f', result: 1, duration_ns: 5 }), {}],
  ['call', 'return', text({ fn: 'f', module: 'm', result: 1, duration_ns: 5, async: false }), {}],
  ['call', 'call', text({ module: 'm', fn: 'f' }), {}],
  ['call', 'call', text({ module: 'a"b\\c', fn: 'f\n', args: [] }), {}],
  ['call', 'call', text({ module: '/app/é.js', fn: '😀', args: [] }), {}],
  ['call', 'call', text({ args: [] }), { k_module: 'given.js', k_fn: 'f' }],
  ['call', 'call', text({ module: '/app/pay.js', fn: 'charge', args: [] }), { k_module: '/app/pay', k_fn: 'charge' }],
  ['call', 'call', text({ module: '/app/pay.js', fn: 'charge', args: [] }), { k_module: '/app/pay.js', k_fn: 'char' }],
  ['call', 'call', '[1]', {}],
  ['call', 'call', null, {}],
  ['agent', 'trace_started', text({ module: '/app/pay.js', status: 'traced' }), {}],
  ['log', 'info', text({ text: 'hello', module: 'not a key here' }), {}],
];

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempFile(): string {
  const dir = tempDir();
  dirs.push(dir);
  return join(dir, 'trace.db');
}

describe('payload body', () => {
  it('gives back every payload as written, storing the names and the duration once', () => {
    const store = new Store();
    store.write(PAYLOADS.map(([type, subtype, payload, keys], i) => row(i, type, subtype, payload, keys)));
    const read = store.db.prepare('SELECT payload, body FROM events ORDER BY id').all() as { payload: string | null; body: string | null }[];
    expect(read.map((r) => r.payload)).toEqual(PAYLOADS.map(([, , payload]) => payload));
    expect(read.map((r) => r.body)).toEqual([
      '\u0002[1]',
      '\u0002[1]',
      '\u0003{"ok":true}',
      '\u00032',
      '\u0006{"message":",\\"duration_ns\\":7,\\"async\\":true}"}',
      '!',
      // not a whole duration, no async, names not first: only what the key columns hold as written is left out
      ',"result":1,"duration_ns":1.5,"async":false}',
      ',"result":1,"duration_ns":5}',
      PAYLOADS[8]![2],
      '}',
      // names the payload spells escaped are kept in it
      PAYLOADS[10]![2],
      PAYLOADS[11]![2],
      // the writer's names are not the payload's
      text({ args: [] }),
      PAYLOADS[13]![2],
      PAYLOADS[14]![2],
      '[1]',
      null,
      PAYLOADS[17]![2],
      PAYLOADS[18]![2],
    ]);
    // JSON functions read the computed column
    expect(store.db.prepare("SELECT json_extract(payload, '$.fn') AS fn FROM events WHERE id = 3").get()).toEqual({ fn: 'charge' });
    // a whole duration is stored as an integer
    expect(store.db.prepare('SELECT typeof(k_ns) AS t FROM events WHERE id IN (3, 4, 7) ORDER BY id').all()).toEqual([{ t: 'integer' }, { t: 'integer' }, { t: 'real' }]);
  });
});

/** Rows of every kind the shapes and the coded ids know, and near misses of each: read back as written. */
const SHAPED: EventRow[] = (() => {
  const r = (type: string, subtype: string, actor: string, payload: unknown, links: Partial<EventRow> = {}): EventRow => ({
    ts_ns: 0, wall_ms: 0, type, subtype, actor, from_actor: null, to_actor: null, corr: null, ref: null, payload: typeof payload === 'string' ? payload : text(payload), ...links,
  });
  const call = { module: './a.js', fn: 'f' };
  return [
    r('call', 'call', '7/w1', { ...call, args: [1, { a: '[' }], parent: '7/w1:c12' }, { ref: '7/w1:c13', corr: '7:r4' }),
    r('call', 'call', '7/w1', { ...call, args: [], parent: '7:c12' }, { ref: '7/w1:c14', corr: '7/w1:r4' }),
    r('call', 'call', '7/w1', { ...call, args: [], parent: '7/w1:c012' }, { ref: '7/w1:c16', corr: '7:r4' }),
    r('call', 'call', '7/w1', { ...call, args: [], parent: '7/w1:c20' }, { ref: '7/w1:c17', corr: '7:r4' }),
    r('call', 'call', '7/w1', { ...call, args: [], parent: '7/w1:c1' }, { ref: '7:c18', corr: '7:r4' }),
    r('call', 'call', '7/w1', { ...call, args: [], parent: '7/w1:c0x' }, { ref: '7/w1:c015', corr: '7/w2:r4' }),
    r('call', 'call', '7/w1', { ...call, args: [], parent: null, thread: 1 }, { ref: '7/w1:c', corr: '7:r' }),
    r('call', 'call', '7', { ...call, args: '[', parent: null }, { ref: '7:c9007199254740993', corr: '7:r-1' }),
    r('call', 'return', '7', { ...call, result: [1], duration_ns: 5, async: true }, { ref: '7:c2', k_ns: 5 }),
    r('call', 'throw', '7', { ...call, error: { name: 'E' }, duration_ns: 5, async: false }, { ref: '7:c2', k_ns: 5 }),
    r('call', 'return', '7', { ...call, resulting: 1, duration_ns: 5, async: false }, { ref: '7:c2', k_ns: 5 }),
    r('http', 'request', '7', { method: 'GET', url: '/x' }, { ref: '7:r1', corr: '7:r1' }),
    r('http', 'request', '7', { method: 'GET', url: '/x","url":"/y' }, { ref: '7:r1' }),
    r('http', 'request', '7', { method: 'GET', url: '/x', headers: {} }, { ref: '7:r1' }),
    r('http', 'request', '7', '{"method":"GET","url":"/\u0001"}', { ref: '7:r1' }),
    r('http', 'response', '7', { status: 200, route: null, duration_ns: 2e6 }, { ref: '7:r1', corr: '7:r1', k_status: 200, k_ns: 2e6 }),
    r('http', 'response', '7', { status: 200, route: '/x', duration_ns: 1.5 }, { ref: '7:r1', corr: '7:r1', k_status: 200, k_ns: 1.5 }),
    r('http', 'response', '7', { route: '/x', status: 200, duration_ns: 2 }, { ref: '7:r1', k_status: 200, k_ns: 2 }),
    r('http', 'client_request', '7', { method: 'GET', url: 'http://h/' }, { ref: '7:q2', corr: '7:r1' }),
    r('message', 'send', '7', { channel: 'worker', message: { a: 1 } }, { from_actor: '7', to_actor: '7/w1', ref: '7>7/w1#m1#abc' }),
    r('message', 'receive', '7/w1', { channel: 'ipc', message: 'é' }, { from_actor: '7', to_actor: '7/w1', ref: '7>7/w1#m1#abc' }),
    r('message', 'send', '7', { channel: 'emit', message: 1 }, { from_actor: '7', to_actor: '7/w1', ref: '7>7/w2#m1' }),
    r('message', 'send', '7', { channel: 'emit', message: 1 }, { from_actor: '7', to_actor: '7/w1', ref: '7>7/w1' }),
    r('message', 'send', '7>x', { channel: 'emit', message: 1 }, { from_actor: '7>x', to_actor: '7/w1', ref: '7>x>7/w1#m1' }),
    r('message', 'send', '7', { channel: 'emit', message: 1 }, { from_actor: '7', to_actor: '7/w#1', ref: '7>7/w#1#m1' }),
    r('message', 'send', '7', { channel: 'emit', message: 1 }, { from_actor: '7', to_actor: '7/w1', ref: '7>7/w1m1' }),
    r('message', 'send', '7', { channel: 'emit', message: 1 }, { from_actor: '7', to_actor: '7/w1', ref: '7:c5' }),
    r('state', 'snapshot', '7/o1', { state: { n: 1 }, trigger: { method: 'add', args: [] } }, { ref: '7:c3' }),
    r('state', 'snapshot', '7/w1/o12', { state: { trigger: { method: 'x', args: [] } }, trigger: { method: 'a"b', args: [{ trigger: { method: 'y', args: 1 } }] } }, { ref: '7/w1:c9' }),
    r('state', 'snapshot', '7/o1', { state: { n: 1 }, trigger: { method: 'set', args: [] } }, { ref: '7/o1:c3' }),
    r('state', 'snapshot', '7', { state: 1, trigger: { method: 'set', args: [] } }, { ref: '7:r3' }),
    r('state', 'snapshot', '7/o', { state: 1, trigger: null }, { ref: '7:c3' }),
    r('state', 'snapshot', '7/o1', '{"state":"\u0002","trigger":{"method":"m","args":[]}}', { ref: '7:c3' }),
    r('log', 'info', '7', { text: 'a', stream: 'stdout' }),
    r('log', 'info', '7', { text: 'a', stream: 'stderr' }, { corr: 'r1' }),
    r('log', 'info', '7', '{"text":"a","stream":"stdout"} '),
    r('probe', 'hit', '7', { probe: 'p1' }, { corr: '7:r12' }),
    r('ws', 'open', '7', null, { ref: '7:ws1' }),
  ].map((e, i) => ({ ...e, ts_ns: 1_000 + i, wall_ms: 1_700_000_000_000 + i }));
})();

describe('rows stored coded', () => {
  it('gives back every payload, ref and corr as written, storing what the key columns, the actor and the kind hold once', () => {
    const store = new Store();
    store.write(SHAPED.map((e) => ({ ...e })));
    const read = store.db.prepare('SELECT payload, ref, corr, body, short_ref, short_corr FROM events ORDER BY id').all() as Record<string, unknown>[];
    expect(read.map((r) => [r.payload, r.ref, r.corr])).toEqual(SHAPED.map((e) => [e.payload, e.ref, e.corr]));
    // what is stored of the first rows: the parent's number before the arguments; call and request numbers
    expect(read.slice(0, 8).map((r) => [r.body, r.short_ref, r.short_corr])).toEqual([
      ['\u00111[1,{"a":"["}]', 13, 4], // the parent as its distance from the call's own number
      [',"args":[],"parent":"7:c12"}', 14, -4], // a parent of another thread
      ['\u0001012[]', 16, 4], // not the number's spelling
      ['\u000120[]', 17, 4], // a later call
      ['\u00011[]', '7:c18', 4], // a call id of another actor
      [',"args":[],"parent":"7/w1:c0x"}', '7/w1:c015', '7/w2:r4'],
      [',"args":[],"parent":null,"thread":1}', '7/w1:c', '7:r'],
      [',"args":"[","parent":null}', '7:c9007199254740993', '7:r-1'],
    ]);
    const stored = store.db.prepare("SELECT unicode(body) AS mark, typeof(short_ref) AS ref FROM events WHERE type IN ('http', 'message', 'state', 'log') ORDER BY id").all();
    expect(stored).toEqual([
      { mark: 16, ref: 'integer' },
      { mark: 16, ref: 'integer' },
      { mark: 7, ref: 'integer' }, // more than a method and a URL
      { mark: 7, ref: 'integer' }, // a separator in it
      { mark: 8, ref: 'integer' },
      { mark: 123, ref: 'integer' }, // a duration that is not whole
      { mark: 123, ref: 'integer' }, // not the agent's order
      { mark: 123, ref: 'text' },
      { mark: 11, ref: 'blob' },
      { mark: 123, ref: 'blob' },
      { mark: 123, ref: 'text' },
      { mark: 123, ref: 'text' },
      // a pair's ref only where the ref says where the pair ends (no '>' in the sender, no '#' in the receiver,
      // '#' after the pair); a message's ref is never a number
      { mark: 123, ref: 'text' },
      { mark: 123, ref: 'text' },
      { mark: 123, ref: 'text' },
      { mark: 123, ref: 'text' },
      { mark: 15, ref: 'integer' }, // a call of the object's thread
      { mark: 15, ref: 'integer' }, // cut at the last trigger key
      { mark: 15, ref: 'text' }, // a call id of the object itself
      { mark: 15, ref: 'integer' }, // not an object: its own request
      { mark: 12, ref: 'text' }, // no trigger; '7/o' names no object
      { mark: 12, ref: 'integer' }, // a separator in it
      { mark: 14, ref: 'null' },
      { mark: 123, ref: 'null' },
      { mark: 123, ref: 'null' },
    ]);
  });

  it('refuses a file of a later layout, saying so', () => {
    const path = tempFile();
    new Store({ path }).close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => new Store({ path })).toThrow(/written by a newer nodescope \(store layout 99; this one reads layouts up to 5\)/);
    expect(() => new Store({ path, readonly: true })).toThrow(/store layout 99/);
  });
});

// The schema of the previous version, as it created a file (its DDL, verbatim).
const PREVIOUS_SCHEMA = `
CREATE TABLE events ( id INTEGER PRIMARY KEY, ts_ns INTEGER NOT NULL, wall_ms REAL NOT NULL, type TEXT NOT NULL, subtype TEXT NOT NULL, actor TEXT NOT NULL, from_actor TEXT, to_actor TEXT, corr TEXT, ref TEXT, payload TEXT, k_module, k_fn, k_status INTEGER, k_ns );
CREATE INDEX events_actor_ts ON events (actor, ts_ns);
CREATE INDEX events_type_ts ON events (type, ts_ns);
CREATE TABLE actors ( id TEXT PRIMARY KEY, kind TEXT NOT NULL, pid INTEGER, thread_id INTEGER, parent TEXT, name TEXT, started_ms REAL, ended_ms REAL, status TEXT NOT NULL DEFAULT 'running', exit_code INTEGER, exit_signal TEXT, info TEXT ) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE actor_counts (actor TEXT NOT NULL, type TEXT NOT NULL, subtype TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (actor, type, subtype)) WITHOUT ROWID;
CREATE TABLE call_counts (k_module TEXT NOT NULL, k_fn TEXT NOT NULL, actor TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (k_module, k_fn, actor)) WITHOUT ROWID;
CREATE TABLE message_pairs (sender TEXT NOT NULL, receiver TEXT NOT NULL, sent INTEGER NOT NULL, received INTEGER NOT NULL, PRIMARY KEY (sender, receiver)) WITHOUT ROWID;
CREATE TABLE message_open (sender TEXT NOT NULL, receiver TEXT NOT NULL, ref TEXT NOT NULL, open INTEGER NOT NULL, PRIMARY KEY (sender, receiver, ref)) WITHOUT ROWID;
CREATE TRIGGER objects_end_with_thread AFTER UPDATE OF ended_ms ON actors WHEN NEW.kind <> 'object' AND NEW.ended_ms IS NOT NULL AND OLD.ended_ms IS NULL BEGIN UPDATE actors SET ended_ms = NEW.ended_ms, status = 'gone' WHERE parent = NEW.id AND kind = 'object' AND ended_ms IS NULL; END;
CREATE INDEX events_call_key ON events (k_module, k_fn, ts_ns) WHERE type = 'call' AND subtype = 'call';
CREATE INDEX events_send_pair ON events (actor, to_actor, ts_ns) WHERE type = 'message' AND subtype = 'send';
CREATE INDEX events_http_request ON events (ref, ts_ns) WHERE type = 'http' AND subtype = 'request';
CREATE INDEX events_http_status ON events (k_status, ts_ns) WHERE type = 'http' AND subtype = 'response';
CREATE INDEX events_spawned_by ON events (from_actor, ts_ns) WHERE type IN ('worker', 'child');
CREATE INDEX events_end_key ON events (k_module, k_fn, k_ns DESC, ts_ns) WHERE type = 'call' AND subtype IN ('return', 'throw');
CREATE INDEX events_corr ON events (corr, ts_ns) WHERE corr IS NOT NULL AND NOT (type = 'call' AND subtype IN ('return', 'throw'));
CREATE INDEX events_message_ref ON events (ref, ts_ns) WHERE type = 'message';
CREATE INDEX events_receive_pair ON events (actor, from_actor, ts_ns) WHERE type = 'message' AND subtype = 'receive';`;

const COLUMNS = 'id, ts_ns, wall_ms, type, subtype, actor, from_actor, to_actor, corr, ref, payload, k_module, k_fn, k_status, k_ns';

/** A file as the previous version left it with the query fixture's rows: whole payloads, durations as REAL (as it bound them). */
function previousFile(path: string, from: Store): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(PREVIOUS_SCHEMA);
  const copy = (table: string, columns = '*') => {
    const rows = from.db.prepare(`SELECT ${columns} FROM ${table}`).raw().all() as unknown[][];
    if (rows.length === 0) return;
    const insert = db.prepare(`INSERT INTO ${table} ${columns === '*' ? '' : `(${columns})`} VALUES (${rows[0]!.map(() => '?').join(', ')})`);
    for (const r of rows) insert.run(...r);
  };
  db.transaction(() => {
    for (const table of ['actors', 'meta', 'actor_counts', 'call_counts', 'message_pairs']) copy(table);
    copy('message_open', 'sender, receiver, ref, open');
    copy('events', COLUMNS);
    db.exec("UPDATE events SET k_ns = CAST(k_ns AS REAL) WHERE typeof(k_ns) = 'integer'");
  })();
  db.close();
}

/** Every read tool's answer (text) on the query fixture's questions. */
async function answers(ctx: ToolContext): Promise<string[]> {
  const questions: [string, Record<string, unknown>][] = [
    ['get_events_between', { start: T0, end: T0 + 20 }],
    ['get_events_between', { start: T0, end: T0 + 20, pid_string: '4242', type: 'call', module_name: 'cart.js' }],
    ['get_execution_path', { pid_string: '4242' }],
    ['get_execution_path', { pid_string: '4242', request_id: '4242:r1' }],
    ['get_function_calls', { module_name: 'payments.js' }],
    ['get_function_calls', { module_name: 'cart.js', since: T0 + 3, until: T0 + 20 }],
    ['slowest_function_calls', { limit: 5 }],
    ['performance_analysis', { module_name: 'cart.js' }],
    ['get_http_requests', {}],
    ['get_http_requests', { status_min: 500, route: '/checkout', slow_ms: 1 }],
    ['get_logs', {}],
    ['get_message_flow', { from_pid: '4242', to_pid: '4242/w1' }],
    ['message_queue_analysis', {}],
    ['get_state_timeline', { pid_string: '4242/o1' }],
    ['analyze_state_change', { pid_string: 'cart', before: T0 + 2.5, after: T0 + 10.5 }],
    ['system_snapshot_at', { timestamp: T0 + 4.2 }],
    ['trace_process', { pid_string: '4242' }],
    ['process_relationships', { pid_string: '4242' }],
  ];
  ctx.probes = () => [];
  const out: string[] = [];
  for (const [name, args] of questions) {
    const r = await callTool(TOOLS.find((t) => t.name === name)!, args, ctx);
    out.push(`${name} ${JSON.stringify(args)}\n${(r.content as { text: string }[]).map((c) => c.text).join('\n')}`);
  }
  return out;
}

describe('a file of the previous version', () => {
  it('is read as it is read-only, converted in place when opened to write, and the tools answer as from a new store', async () => {
    const { store: fresh, ctx } = setup(webEvents());
    const expected = await answers(ctx);
    const path = tempFile();
    previousFile(path, fresh);

    const reader = new Store({ path, readonly: true });
    expect(await answers(contextOf(reader))).toEqual(expected);
    reader.close();

    const store = new Store({ path });
    const columns = store.db.prepare("SELECT name, hidden FROM pragma_table_xinfo('events') WHERE name IN ('payload', 'body')").all();
    expect(columns).toEqual([{ name: 'body', hidden: 0 }, { name: 'payload', hidden: 2 }]);
    // the rows it wrote are stored as a new file stores them, but those whose duration it bound as a REAL
    // (left in the body: a REAL's text is not the integer's)
    type Stored = { id: number; payload: string | null; body: string | null; short_ref: unknown; short_corr: unknown; real: number };
    const stored = (s: Store) => s.db.prepare("SELECT id, payload, body, short_ref, short_corr, typeof(k_ns) = 'real' AS real FROM events ORDER BY id").all() as Stored[];
    const [now, anew] = [stored(store), stored(fresh)];
    expect(now.map((r) => r.payload)).toEqual(anew.map((r) => r.payload));
    expect(now.filter((r) => !r.real)).toEqual(anew.filter((_, i) => !now[i]!.real));
    expect(now.filter((r) => r.real).map((r) => r.body!.slice(0, 9))).toEqual([',"result"', ',"result"', ',"error":', ',"result"', ',"result"']);
    expect(await answers(contextOf(store))).toEqual(expected);
    // and it takes new rows as a new file would
    const [, , payload, keys] = PAYLOADS[3]!;
    store.write([{ ...row(99, 'call', 'return', payload, keys), ts_ns: 6e9 }]);
    expect(store.db.prepare('SELECT payload, body FROM events ORDER BY id DESC LIMIT 1').get()).toEqual({ payload, body: '\u00032' });
    store.close();

    // opened again: nothing left to convert
    const again = new Store({ path });
    expect(again.db.prepare('SELECT payload FROM events ORDER BY id DESC LIMIT 1').get()).toEqual({ payload });
    again.close();
  });
});

const TALLIES = ['actor_counts', 'call_counts', 'message_pairs', 'message_open', 'call_durations', 'http_spans'];

/**
 * Columns of a store of this layout read as layouts before 5 stored them: a snapshot's ref as its text (a call
 * of another actor), a request's number as −n, a response's status in k_status and not in site.
 */
function before5(columns: string): string {
  return columns
    .replace('short_ref', `CASE WHEN ${kindIs('state')} THEN ref WHEN ${kindIs('http')} AND typeof(short_ref) = 'integer' THEN -short_ref ELSE short_ref END`)
    .replace(', site,', `, iif(${kindIs('http', 'response')}, NULL, site),`);
}

/**
 * A file as layout 2 left it (its DDL, verbatim: test/fixtures/store_layout2.sql), with the query fixture's
 * rows; `tallies: false`, as a version from before the tallies that the writer keeps left it.
 */
function layout2File(path: string, from: Store, { tallies = true } = {}): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(readFileSync(join(import.meta.dirname, '../fixtures/store_layout2.sql'), 'utf8'));
  if (!tallies) for (const table of TALLIES) db.exec(`DROP TABLE ${table}`);
  db.transaction(() => {
    for (const table of ['actors', 'meta', ...(tallies ? TALLIES : [])]) {
      const rows = from.db.prepare(`SELECT * FROM ${table}`).raw().all() as unknown[][];
      for (const r of rows) db.prepare(`INSERT INTO ${table} VALUES (${r.map(() => '?').join(', ')})`).run(...r);
    }
    const columns = 'id, ts_ns, wall_ms, type, subtype, actor, from_actor, to_actor, short_ref, short_corr, body, k_module, k_fn, k_status, k_ns';
    const selected = before5(columns);
    const insert = db.prepare(`INSERT INTO events (${columns}) VALUES (${columns.split(', ').map(() => '?').join(', ')})`);
    for (const r of from.db.prepare(`SELECT ${selected} FROM events`).safeIntegers().raw().all() as unknown[][]) insert.run(...r);
  })();
  db.pragma('user_version = 2');
  db.close();
}

describe('a file of layout 2 (type and subtype as text)', () => {
  it('is read as it is read-only, rebuilt once when opened to write, and the tools answer as from a new store', async () => {
    const { store: fresh, ctx } = setup(webEvents());
    const expected = await answers(ctx);
    const path = tempFile();
    layout2File(path, fresh);

    const reader = new Store({ path, readonly: true });
    expect(await answers(contextOf(reader))).toEqual(expected);
    reader.close();

    const store = new Store({ path });
    expect(store.db.pragma('user_version', { simple: true })).toBe(5);
    const stored = (s: Store) => s.db.prepare('SELECT id, type_code, subtype_code, type, subtype, actor, ref, corr, body, payload FROM events ORDER BY id').all();
    expect(stored(store)).toEqual(stored(fresh));
    expect(await answers(contextOf(store))).toEqual(expected);
    store.close();
    const again = new Store({ path });
    expect(stored(again)).toEqual(stored(fresh));
    again.close();
  });
});

/** What a file of layout 3 or 4 holds in events (their DDL, verbatim: test/fixtures/store_layout3.sql, store_layout4.sql). */
const LAYOUT_COLUMNS: Record<3 | 4, string> = {
  3: 'id, ts_ns, wall_ms, type_code, subtype_code, actor, from_actor, to_actor, short_ref, short_corr, body, k_module, k_fn, k_status, k_ns',
  4: 'id, ts_ns, wall_ms, type_code, subtype_code, actor_code, from_actor, to_actor, short_ref, short_corr, body, site, k_status, k_ns',
};

/** A file as layout 3 or 4 left it, with the query fixture's rows. */
function layoutFile(path: string, from: Store, layout: 3 | 4): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  if (layout === 4) {
    // (its computed columns call the functions of a nodescope connection: these spell the copied codes)
    const actors = new Map(from.db.prepare('SELECT code, id FROM actor_codes').raw().all() as [number, string][]);
    const sites = new Map((from.db.prepare('SELECT code, module, fn FROM site_codes').raw().all() as [number, string, string][]).map(([c, m, f]) => [c, [m, f]]));
    db.function('actor_name', { deterministic: true }, (c: unknown) => actors.get(Number(c)));
    db.function('site_module', { deterministic: true }, (c: unknown) => sites.get(Number(c))![0]);
    db.function('site_fn', { deterministic: true }, (c: unknown) => sites.get(Number(c))![1]);
  }
  db.exec(readFileSync(join(import.meta.dirname, `../fixtures/store_layout${layout}.sql`), 'utf8'));
  db.transaction(() => {
    for (const table of ['actors', 'meta', ...(layout === 4 ? ['actor_codes', 'site_codes'] : []), ...TALLIES]) {
      const rows = from.db.prepare(`SELECT * FROM ${table}`).raw().all() as unknown[][];
      for (const r of rows) db.prepare(`INSERT INTO ${table} VALUES (${r.map(() => '?').join(', ')})`).run(...r);
    }
    const columns = LAYOUT_COLUMNS[layout];
    const insert = db.prepare(`INSERT INTO events (${columns}) VALUES (${columns.split(', ').map(() => '?').join(', ')})`);
    for (const r of from.db.prepare(`SELECT ${before5(columns)} FROM events`).safeIntegers().raw().all() as unknown[][]) insert.run(...r);
  })();
  db.pragma(`user_version = ${layout}`);
  db.close();
}

for (const [layout, what] of [[3, 'actors and call sites as text'], [4, 'wall times as REALs']] as const) {
  describe(`a file of layout ${layout} (${what})`, () => {
    it('is read from a private copy read-only, rebuilt once when opened to write, and the tools answer as from a new store', async () => {
      const { store: fresh, ctx } = setup(webEvents());
      const expected = await answers(ctx);
      const path = tempFile();
      layoutFile(path, fresh, layout);

      const reader = new Store({ path, readonly: true });
      expect(await answers(contextOf(reader))).toEqual(expected);
      reader.close();
      // the file itself is left as it was
      const file = new Database(path, { readonly: true });
      expect(file.pragma('user_version', { simple: true })).toBe(layout);
      file.close();

      const store = new Store({ path });
      expect(store.db.pragma('user_version', { simple: true })).toBe(5);
      const stored = (s: Store) => s.db.prepare('SELECT id, ts_ns, wall_ms, typeof(wall) AS w, actor_code, site, actor, k_module, k_fn, k_status, ref, corr, body, payload FROM events ORDER BY id').all();
      expect(stored(store)).toEqual(stored(fresh));
      for (const table of ['actor_codes', 'site_codes']) expect(store.db.prepare(`SELECT * FROM ${table} ORDER BY code`).all()).toEqual(fresh.db.prepare(`SELECT * FROM ${table} ORDER BY code`).all());
      expect(await answers(contextOf(store))).toEqual(expected);
      store.close();
    });
  });
}

describe('wall times', () => {
  it('are stored as their clock offset\'s code when the writer gives it and it gives them back exactly, else as they are', () => {
    const path = tempFile();
    const store = new Store({ path });
    const offset = 1_764_000_000_000.123 - 2_000_000_000 / 1e6;
    const at = (ts: number, o = offset) => ({ ...row(0, 'log', 'info', '{}'), ref: null, ts_ns: ts, wall_ms: o + ts / 1e6, wall_offset: o });
    // a reader opened before any code is given learns them from the file
    const reader = new Store({ path, readonly: true });
    const rows = [
      at(2_000_000_001), at(2_000_123_457), at(987_654_321_012_345),
      at(2_000_000_002, offset + 0.25), // a second offset: a second code
      { ...at(2_000_000_003), wall_offset: undefined }, // no offset given
      { ...at(2_000_000_004), wall_ms: 1_764_000_000_123.5 }, // an offset that does not give it back
      { ...at(2_000_000_005), wall_ms: 1_764_000_000_123 }, // a whole REAL: not a code
    ];
    store.write(rows);
    const read = (s: Store) => s.db.prepare('SELECT wall_ms, typeof(wall) AS t, wall FROM events ORDER BY id').all() as { wall_ms: number; t: string; wall: number }[];
    expect(read(store).map((r) => r.wall_ms)).toEqual(rows.map((r) => r.wall_ms));
    expect(read(store).map((r) => [r.t, r.t === 'integer' ? r.wall : null])).toEqual([
      ['integer', 0], ['integer', 0], ['integer', 0], ['integer', 1], ['real', null], ['real', null], ['real', null],
    ]);
    expect(read(reader).map((r) => r.wall_ms)).toEqual(rows.map((r) => r.wall_ms));
    reader.close();
    store.close();
    const again = new Store({ path });
    again.write([at(2_000_000_006)]);
    expect(again.db.prepare('SELECT count(*) AS n FROM wall_offsets').get()).toEqual({ n: 2 });
    expect(read(again).at(-1)).toEqual({ wall_ms: offset + 2_000_000_006 / 1e6, t: 'integer', wall: 0 });
    again.close();
  });
});

describe('a file of layout 2 from before the tallies', () => {
  it('is read read-only with its tallies counted for the reader alone, and the tools answer as from a new store', async () => {
    const { store: fresh, ctx } = setup(webEvents());
    const expected = await answers(ctx);
    const path = tempFile();
    layout2File(path, fresh, { tallies: false });

    const reader = new Store({ path, readonly: true });
    expect(await answers(contextOf(reader))).toEqual(expected);
    reader.close();
    const file = new Database(path, { readonly: true });
    expect(file.prepare(`SELECT name FROM sqlite_master WHERE name IN (${TALLIES.map(() => '?').join(', ')})`).all(...TALLIES)).toEqual([]);
    file.close();

    const store = new Store({ path });
    expect(await answers(contextOf(store))).toEqual(expected);
    store.close();
  });
});

describe('types and subtypes', () => {
  it('are given back as written, listed ones stored as codes and others as they are, and found by the tools', async () => {
    const kinds: [string, string][] = [
      ['call', 'call'], ['http', 'response'], ['custom', 'thing'], ['5', '7'], ['', ''], [' 1e3', '-2.5'], ['call', 'é😀'], ['log', 'verbose'], ['0x10', 'NaN'],
    ];
    const store = new Store();
    store.write(kinds.map(([type, subtype], i) => ({ ...row(i, type, subtype, '{}'), ref: null })));
    const read = store.db.prepare('SELECT type, subtype, typeof(type_code) AS t, typeof(subtype_code) AS s FROM events ORDER BY id').all();
    expect(read).toEqual([
      { type: 'call', subtype: 'call', t: 'integer', s: 'integer' },
      { type: 'http', subtype: 'response', t: 'integer', s: 'integer' },
      { type: 'custom', subtype: 'thing', t: 'text', s: 'text' },
      // what INTEGER affinity would take for a number: kept as bytes
      { type: '5', subtype: '7', t: 'blob', s: 'blob' },
      { type: '', subtype: '', t: 'blob', s: 'blob' },
      { type: ' 1e3', subtype: '-2.5', t: 'blob', s: 'blob' },
      { type: 'call', subtype: 'é😀', t: 'integer', s: 'text' },
      { type: 'log', subtype: 'verbose', t: 'integer', s: 'text' },
      { type: '0x10', subtype: 'NaN', t: 'text', s: 'text' },
    ]);
    const ctx = contextOf(store);
    const lines = async (args: Record<string, unknown>) => ((await callTool(TOOLS.find((t) => t.name === 'get_events_between')!, args, ctx)).content as { text: string }[]).map((c) => c.text).join('\n');
    const window = { start: 1_700_000_000_000, end: 1_700_000_000_100 };
    expect(await lines({ ...window, type: '5/7' })).toMatch(/ 1 5\/7$/m);
    expect(await lines({ ...window, type: '5/7' })).not.toMatch(/call\/call/);
    expect(await lines({ ...window, type: 'custom' })).toMatch(/ 1 custom\/thing$/m);
    expect(await lines({ ...window, type: 'call/é😀' })).toMatch(/ 1 call\/é😀$/m);
    expect(await lines({ ...window, type: 'log/verbose' })).toMatch(/ 1 log\/verbose$/m);
  });

  it('spell every listed code back, and read a code past the lists as its number', () => {
    const store = new Store();
    const names = (column: 'type' | 'subtype', count: number) =>
      (store.db.prepare(`WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < ?) SELECT group_concat(${column}, ',') AS s FROM (SELECT ${column} FROM c, events WHERE events.id = c.n + 1 ORDER BY c.n)`).get(count) as { s: string }).s.split(',');
    // (an actor given its code by a write: the rows below are written with it)
    store.write([row(0, 'log', 'info', '{}')]);
    store.db.exec('DELETE FROM events');
    const insert = store.db.prepare('INSERT INTO events (id, ts_ns, wall, type_code, subtype_code, actor_code) VALUES (?, 0, 0.5, ?, ?, 0)');
    for (let i = 0; i <= SUBTYPES.length; i++) insert.run(i + 1, BigInt(Math.min(i, TYPES.length)), BigInt(i));
    expect(names('subtype', SUBTYPES.length)).toEqual([...SUBTYPES, String(SUBTYPES.length)]);
    expect(names('type', TYPES.length)).toEqual([...TYPES, String(TYPES.length)]);
    store.close();
  });
});
