// The trace database. Why it looks like this (better-sqlite3's performance guidance, DESIGN.md figures):
// - WAL and synchronous=NORMAL: a commit is an append, not an fsync; ~290k rows/s in large batches.
// - Statements are prepared once; a batch is one synchronous transaction with no await inside.
// - `id INTEGER PRIMARY KEY` is the rowid: monotonic, free, and the pruning order (oldest first).
// - Two indexes, each matching a query family: (actor_code, ts_ns) for per-actor timelines and paths,
//   (type_code, ts_ns) for "all calls / all messages / all requests in a window". Every extra index costs
//   insert throughput, so none is added without a query that needs it (see test/unit/key_plans.test.ts).
// - Key columns for what tools filter or order on inside payloads (a call's module and function, a
//   completion's or a response's duration, an HTTP status),
//   stored, filled by the writer from what it already knows (ingest decodes module and function anyway) and
//   NULL on every other row. Before them, those filters read every row of a type: 81–274 ms p95 on 1 M
//   events. They were VIRTUAL generated columns first, and SQLite computes a table's generated columns at
//   every insert, whatever the row: three json_extract per row took a stored row from 3.7 to 8.5 µs.
//   Partial indexes for the other filters the tools use (message pairs, lifecycle events by parent, HTTP
//   requests by id) cost nothing for other rows.
// - Actors and a call's (module, fn) are stored as small integers (`actor_code`, `site`: src/store/names.ts),
//   type and subtype too (src/store/kinds.ts), ids and payload openings coded (coded_columns.ts, SHAPES).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { timingBucket } from '../shared/protocol.js';
import { corrCodes, messageRef, REF_COLUMNS, registerCoders, registerRefFunctions, shortCorr, shortRef, storedRef } from './coded_columns.js';
import { KIND_COLUMNS, kindIs, registerKindCoders, subtypeCode, typeCode, type KindCode } from './kinds.js';
import { ACTOR_COLUMNS, Names, NAME_TABLES, SITE_COLUMNS, spellCodes, WALL_COLUMNS } from './names.js';
import { migrateOpenSends, OpenSends, type PrunedSends } from './open_sends.js';
import { privateDir } from './private_dir.js';

export interface EventRow {
  ts_ns: number;
  wall_ms: number;
  /**
   * The clock offset wall_ms was computed from (wall_ms = wall_offset + ts_ns / 1e6), given by a writer that
   * knows it (ingest): such a row stores the offset's code (src/store/names.ts, WALL_COLUMNS), not 8 bytes.
   */
  wall_offset?: number;
  type: string;
  subtype: string;
  actor: string;
  from_actor: string | null;
  to_actor: string | null;
  corr: string | null;
  ref: string | null;
  /** JSON text. */
  payload: string | null;
  /**
   * Key columns (KEY_COLUMNS below), for the rows that have them: given by a writer that knows them
   * (ingest), else read from the payload here.
   */
  k_module?: string;
  k_fn?: string;
  k_status?: number | null;
  k_ns?: number | string | null;
}

export interface StoredEvent extends EventRow {
  id: number;
}

export type ActorKind = 'process' | 'worker' | 'object';
export type ActorStatus = 'running' | 'exited' | 'crashed' | 'killed' | 'detached' | 'gone';

/** A partial actor row: null and undefined fields leave what is stored unchanged. */
export interface ActorUpdate {
  id: string;
  kind?: ActorKind;
  pid?: number | null;
  thread_id?: number | null;
  parent?: string | null;
  name?: string | null;
  started_ms?: number | null;
  ended_ms?: number | null;
  status?: ActorStatus | null;
  exit_code?: number | null;
  exit_signal?: string | null;
  /** JSON text, merged key by key into what is stored. */
  info?: string | null;
}

export interface ActorRow {
  id: string;
  kind: ActorKind;
  pid: number | null;
  thread_id: number | null;
  parent: string | null;
  name: string | null;
  started_ms: number | null;
  ended_ms: number | null;
  status: ActorStatus;
  exit_code: number | null;
  exit_signal: string | null;
  info: string | null;
}

export interface StoreOptions {
  /** A file to persist to; in memory when absent. */
  path?: string;
  readonly?: boolean;
  /** Oldest events are pruned past this count. */
  maxEvents?: number;
}

/**
 * Rows that name a module and function: calls and their ends, and the agent's reports of what it traced. (In
 * names: also what fills a file of an earlier layout, whose type and subtype are text.)
 */
const NAMING_ROWS = "type IN ('call', 'agent')";
const RESPONSE_ROWS = "type = 'http' AND subtype = 'response'";
const COMPLETION_ROWS = "type = 'call' AND subtype IN ('return', 'throw')";
/** The same, in codes (src/store/kinds.ts): what the indexes and the queries of this layout name. */
const CODED_RESPONSES = kindIs('http', 'response');
const CODED_COMPLETIONS = kindIs('call', ['return', 'throw']);
const CODED_CALLS = kindIs('call', 'call');

/**
 * Key columns as a file of layout 0 is given them before it is rebuilt (this layout stores k_module and k_fn
 * as a `site`): name, type, the rows that carry one, and its value read from the payload (what such a file is
 * filled with once). Empty strings rather than NULL for a row that names none.
 */
const KEY_COLUMNS: { name: string; type: string; rows: string; expr: string }[] = [
  { name: 'k_module', type: '', rows: NAMING_ROWS, expr: "coalesce(json_extract(payload, '$.module'), '')" },
  { name: 'k_fn', type: '', rows: NAMING_ROWS, expr: "coalesce(json_extract(payload, '$.fn'), '')" },
  { name: 'k_status', type: 'INTEGER', rows: RESPONSE_ROWS, expr: "json_extract(payload, '$.status')" },
  { name: 'k_ns', type: '', rows: `(${COMPLETION_ROWS}) OR (${RESPONSE_ROWS})`, expr: "json_extract(payload, '$.duration_ns')" },
];

/**
 * A row's payload as stored (`body`) and as read (`payload`, a VIRTUAL column: computed when read, never
 * stored). A call's payload starts with its module and function (`{"module":"…","fn":"…"`, as the agent writes
 * them) and a completion's ends with its duration (`,"duration_ns":…,"async":…}`), which the key columns
 * k_module, k_fn and k_ns already hold: the body keeps what lies between, after a mark no JSON text starts
 * with (`,` or `}`, the rest as it begins: the names were left out; `;` or `!`: the duration too, with
 * `"async":false` or true), and the column puts them back, text for text. Every other body is the payload.
 * Measured on the storage bench (realistic mix, calls 60 % of it): 304 → 263 bytes per event, Store.write +6 %
 * CPU per row (SQLite computes a VIRTUAL column at every insert too; on its own, within the noise).
 */
const NAMES = `'{"module":"' || k_module || '","fn":"' || k_fn || '"'`;
const DURATION = (async: boolean) => `',"duration_ns":' || k_ns || ',"async":${async}}'`;
/**
 * The shapes of a body: more of what the rows of a kind begin (and end) with, as the agent writes them, left
 * out after a mark, a control character (none starts a JSON text; not tab, newline or return, which may): a
 * call's `,"args":` and its parent (`null`, or a call id of its own actor, `<actor>:c<n>`: the body is n, then
 * the arguments, which start with `[`); a completion's `,"result":` or `,"error":` with its duration; a
 * request's `{"method":"`; a response's status, route key and duration (k_status, k_ns); a worker message's
 * channel; a snapshot's `{"state":`; a console line's text key and stdout stream. Measured on the storage
 * bench, with ref and corr coded (coded_columns.ts): 266 → 223–226 bytes per event (stored payload 67 → 47),
 * Store.write ×1.04.
 * Each shape: its mark, whether the names come first, what comes before the body's text and after it (SQL),
 * and where the body's text starts: after the mark, but for `,` and `}` (the whole body) and a call of a
 * parent (at the arguments' `[`).
 */
interface Shape {
  mark: string;
  names: boolean;
  open: string;
  text?: string;
  close: string;
}
const SHAPES = {
  names: { mark: ',', names: true, open: "''", text: 'body', close: "''" },
  namesEnd: { mark: '}', names: true, open: "''", text: 'body', close: "''" },
  namesSync: { mark: ';', names: true, open: "''", close: DURATION(false) },
  namesAsync: { mark: '!', names: true, open: "''", close: DURATION(true) },
  callOfParent: {
    mark: '\u0001', names: true, open: `',"args":'`, text: "substr(body, instr(body, '['))",
    close: `',"parent":"' || actor || ':c' || substr(body, 2, instr(body, '[') - 2) || '"}'`,
  },
  callNoParent: { mark: '\u0002', names: true, open: `',"args":'`, close: `',"parent":null}'` },
  resultSync: { mark: '\u0003', names: true, open: `',"result":'`, close: DURATION(false) },
  resultAsync: { mark: '\u0004', names: true, open: `',"result":'`, close: DURATION(true) },
  errorSync: { mark: '\u0005', names: true, open: `',"error":'`, close: DURATION(false) },
  errorAsync: { mark: '\u0006', names: true, open: `',"error":'`, close: DURATION(true) },
  request: { mark: '\u0007', names: false, open: `'{"method":"'`, close: "''" },
  response: { mark: '\u0008', names: false, open: `'{"status":' || k_status || ',"route":'`, close: `',"duration_ns":' || k_ns || '}'` },
  workerMessage: { mark: '\u000b', names: false, open: `'{"channel":"worker","message":'`, close: "''" },
  snapshot: { mark: '\u000c', names: false, open: `'{"state":'`, close: "''" },
  stdoutLine: { mark: '\u000e', names: false, open: `'{"text":'`, close: `',"stream":"stdout"}'` },
  // (store layout 5) A snapshot's state, its trigger's method and arguments, after \u0001 and \u0002; a request's
  // method and URL, after \u0001. Measured on the storage bench's mix: −3.5 bytes per event.
  snapshotTrigger: {
    mark: '\u000f', names: false, open: `'{"state":'`,
    text: `substr(body, 2, instr(body, char(1)) - 2) || ',"trigger":{"method":"' || substr(body, instr(body, char(1)) + 1, instr(body, char(2)) - instr(body, char(1)) - 1) || '","args":' || substr(body, instr(body, char(2)) + 1)`,
    close: `'}}'`,
  },
  // (store layout 5) A call whose parent is an earlier call of its own thread: how many calls earlier, then
  // the arguments (the parent's number is 4–7 digits on a busy thread, the distance one or two).
  callOfEarlier: {
    mark: '\u0011', names: true, open: `',"args":'`, text: "substr(body, instr(body, '['))",
    close: `',"parent":"' || actor || ':c' || (short_ref - CAST(substr(body, 2, instr(body, '[') - 2) AS INTEGER)) || '"}'`,
  },
  requestUrl: { mark: '\u0010', names: false, open: `'{"method":"'`, text: `substr(body, 2, instr(body, char(1)) - 2) || '","url":"' || substr(body, instr(body, char(1)) + 1)`, close: `'"}'` },
} as const satisfies Record<string, Shape>;
/**
 * One CASE on the mark's code point (integers compared, the mark read once). Measured per row read (a page of
 * 500 rows with payloads, CPU): +12 % over the version before the shapes; one CASE per part instead cost +17 %,
 * and `IN (…)` lists +90 %. Compiling it costs ~90 µs more per statement that reads payload: a connection
 * keeps its statements (keepStatements, below).
 */
const PAYLOAD_COLUMN = `GENERATED ALWAYS AS (CASE unicode(body)
    ${(Object.values(SHAPES) as Shape[])
      .map((x) => `WHEN ${x.mark.charCodeAt(0)} THEN ${[x.names ? NAMES : '', x.open, x.text ?? 'substr(body, 2)', x.close].filter((e) => e && e !== "''").join(' || ')}`)
      .join('\n    ')}
    ELSE body END) VIRTUAL`;

/**
 * The events table of a new file (and of a file rebuilt from an earlier layout): ref and corr are stored
 * coded (src/store/coded_columns.ts).
 */
function eventsTable(name: string): string {
  return `CREATE TABLE ${name} (
  id INTEGER PRIMARY KEY,
  ts_ns INTEGER NOT NULL,
  ${WALL_COLUMNS},
  ${KIND_COLUMNS},
  ${ACTOR_COLUMNS},
  from_actor TEXT,
  to_actor TEXT,
  ${REF_COLUMNS},
  body TEXT,
  ${SITE_COLUMNS},
  k_ns,
  payload ${PAYLOAD_COLUMN}
)`;
}

/**
 * The layout this version writes (PRAGMA user_version): 5, wall times as their clock offset's code
 * (src/store/names.ts, WALL_COLUMNS); 4, actors and call sites coded too
 * (src/store/names.ts); 3, type and subtype coded (src/store/kinds.ts); 2, events with coded ids and payload
 * openings; 0, any earlier one.
 */
const LAYOUT = 5;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS actors (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  pid INTEGER,
  thread_id INTEGER,
  parent TEXT,
  name TEXT,
  started_ms REAL,
  ended_ms REAL,
  status TEXT NOT NULL DEFAULT 'running',
  exit_code INTEGER,
  exit_signal TEXT,
  info TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;${NAME_TABLES}
-- Events per actor and kind, kept by write() and the prunes: what an actor did, counted, without reading
-- its history (trace_process on a thread with 250k events read them all: 81 ms p95 on 1 M events).
CREATE TABLE IF NOT EXISTS actor_counts (actor TEXT NOT NULL, type TEXT NOT NULL, subtype TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (actor, type, subtype)) WITHOUT ROWID;
-- Calls per (module, fn, actor), kept the same way: get_function_calls counts a busy module's calls, by
-- actor too, without reading them.
CREATE TABLE IF NOT EXISTS call_counts (k_module TEXT NOT NULL, k_fn TEXT NOT NULL, actor TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (k_module, k_fn, actor)) WITHOUT ROWID;
-- Messages with an id (ref) per sender → receiver pair, kept the same way: sends and receipts per pair, and
-- per message id the sends not matched by a receipt (sends − receipts; a row only while that is not 0) and
-- the event id of the oldest of them (src/store/open_sends.ts). message_queue_analysis counts every pair and
-- finds what is in flight from these, not from every message (2.2 s on 148k message rows after a flood).
CREATE TABLE IF NOT EXISTS message_pairs (sender TEXT NOT NULL, receiver TEXT NOT NULL, sent INTEGER NOT NULL, received INTEGER NOT NULL, PRIMARY KEY (sender, receiver)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS message_open (sender TEXT NOT NULL, receiver TEXT NOT NULL, ref TEXT NOT NULL, open INTEGER NOT NULL, oldest INTEGER, PRIMARY KEY (sender, receiver, ref)) WITHOUT ROWID;
-- Call completions per (module, fn) and duration bucket (timingBucket's log buckets, 4 per power of two;
-- -1: no numeric duration), kept the same way: performance_analysis has counts, errors, totals and a
-- histogram without reading the completions (1.7 s p95 for a module of 100k completions in 1 M events).
CREATE TABLE IF NOT EXISTS call_durations (k_module TEXT NOT NULL, k_fn TEXT NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL, errors INTEGER NOT NULL, total_ns INTEGER NOT NULL, PRIMARY KEY (k_module, k_fn, bucket)) WITHOUT ROWID;
-- HTTP requests with no response yet (end_ns NULL) or one that came LONG_REQUEST_NS (250 ms) or more after
-- them: the requests in progress at a past moment are those of the 250 ms before it, read from the events, and
-- these (system_snapshot_at read every request and response up to the moment: 1.2 s p95 on 1 M events).
CREATE TABLE IF NOT EXISTS http_spans (actor TEXT NOT NULL, ref TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER, PRIMARY KEY (actor, ref, start_ns)) WITHOUT ROWID;
-- A tracked object lives in its thread: when the thread ends, so does the object.
CREATE TRIGGER IF NOT EXISTS objects_end_with_thread AFTER UPDATE OF ended_ms ON actors
WHEN NEW.kind <> 'object' AND NEW.ended_ms IS NOT NULL AND OLD.ended_ms IS NULL
BEGIN
  UPDATE actors SET ended_ms = NEW.ended_ms, status = 'gone' WHERE parent = NEW.id AND kind = 'object' AND ended_ms IS NULL;
END;
`;

/** The messages the message tallies count (pairCounts in src/query/queues.ts reads the same ones). */
const PAIRED_MESSAGES = `${kindIs('message', ['send', 'receive'])} AND ref IS NOT NULL AND from_actor <> '' AND to_actor <> ''`;
/** Per pair, sends and receipts (a group over `events` filtered by a WHERE clause). */
const PAIR_SUMS = `SELECT from_actor, to_actor, sum(${kindIs('message', 'send')}) AS s, sum(${kindIs('message', 'receive')}) AS r FROM events`;
/** Per pair and message id, sends − receipts. */
const OPEN_SUMS = `SELECT from_actor, to_actor, ref, sum(iif(${kindIs('message', 'send')}, 1, -1)) AS d FROM events`;

/** A request whose response comes this long after it (or never) keeps its row in http_spans. */
export const LONG_REQUEST_NS = 250e6;
/** The bucket call_durations files a completion's duration (k_ns) under; timing_bucket() in SQL. */
function durationBucket(ns: unknown): number {
  return typeof ns === 'number' ? timingBucket(ns) : -1;
}
/** Completions per (module, fn, bucket): count, throws, summed durations (a group over `events` filtered by a WHERE clause). */
const DURATION_SUMS = `SELECT k_module, k_fn, timing_bucket(k_ns) AS b, count(*) AS n, sum(${kindIs('call', 'throw')}) AS e, sum(iif(typeof(k_ns) IN ('integer', 'real'), k_ns, 0)) AS t FROM events`;
/** Requests with no response or a long one, from the events (a file from before http_spans). */
const HTTP_SPANS_SELECT = `SELECT actor, ref, ts_ns, iif(next = 'response', next_ns, NULL) FROM (
  SELECT actor, ref, ts_ns, subtype, lead(subtype) OVER w AS next, lead(ts_ns) OVER w AS next_ns FROM events
  WHERE ${kindIs('http', ['request', 'response'])} AND ref IS NOT NULL WINDOW w AS (PARTITION BY actor, ref ORDER BY ts_ns, id))
WHERE subtype = 'request' AND (next IS NOT 'response' OR next_ns - ts_ns >= ${LONG_REQUEST_NS})`;

const CALL_COUNTS_SELECT = `SELECT k_module, k_fn, actor, count(*) FROM events INDEXED BY events_call_key WHERE ${CODED_CALLS}`;

/**
 * The tallies write() keeps (SCHEMA), each counted from the events, once, for a file from before it:
 * in the file when it is opened to write, in a TEMP table of the reader's own when it is opened read-only
 * (get_message_flow and process_relationships failed on such a file: "no such table: message_pairs").
 */
const TALLIES: Record<string, string> = {
  actor_counts: 'INSERT INTO actor_counts SELECT actor, type, subtype, count(*) FROM events GROUP BY 1, 2, 3',
  call_counts: `INSERT INTO call_counts ${CALL_COUNTS_SELECT} GROUP BY 1, 2, 3`,
  message_pairs: `INSERT INTO message_pairs ${PAIR_SUMS} WHERE ${PAIRED_MESSAGES} GROUP BY 1, 2`,
  message_open: `INSERT INTO message_open (sender, receiver, ref, open) ${OPEN_SUMS} WHERE ${PAIRED_MESSAGES} GROUP BY 1, 2, 3 HAVING d <> 0`,
  call_durations: `INSERT INTO call_durations ${DURATION_SUMS} WHERE ${CODED_COMPLETIONS} GROUP BY 1, 2, 3`,
  http_spans: `INSERT INTO http_spans ${HTTP_SPANS_SELECT}`,
};

/** The tallies a file has none of. */
function missingTallies(db: Database.Database): string[] {
  return Object.keys(TALLIES).filter((name) => db.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(name) === undefined);
}

/** Counts the tallies `names` from the events (their tables made); message_open's oldest sends too. */
function fillTallies(db: Database.Database, names: string[]): void {
  for (const name of names) db.prepare(TALLIES[name]!).run();
  if (names.includes('message_open')) new OpenSends(db).fill();
}

/** A read-only file from before some tallies: each made a TEMP table (found first by its name), and counted. */
function readerTallies(db: Database.Database): void {
  const missing = missingTallies(db);
  for (const name of missing) {
    const ddl = new RegExp(`CREATE TABLE IF NOT EXISTS ${name} \\(.*?\\)( WITHOUT ROWID)?;`).exec(SCHEMA)![0];
    db.exec(ddl.replace('CREATE TABLE IF NOT EXISTS', 'CREATE TEMP TABLE'));
  }
  fillTallies(db, missing);
}

/**
 * The rows done while serving a request (its id as `corr`), but a call's return or throw: they are found
 * from their call, and leaving them out makes the index ~40 % smaller. Without it, a request's path or calls
 * read the thread's whole history (927 ms on 1 M events). A query reads it with this condition in its WHERE.
 * The index holds the id as stored (`short_corr`, coded_columns.ts): 13 → 9 bytes per event on the storage
 * bench's mix (the id's text before).
 */
export const CORR_ROWS = `short_corr IS NOT NULL AND NOT (${CODED_COMPLETIONS})`;

/**
 * One request's rows among CORR_ROWS (named parameters from corrParams): the ways its id can be stored, read
 * from events_corr, then the id itself (rows of other processes with the same number are left out).
 */
export const CORR_IS = 'short_corr IN (:corr_0, :corr_1, :corr_2) AND corr = :corr';

/**
 * Messages of the pair `from` → `to` whose ref is one of `refs` (named parameters `<prefix><i>`): events_message_ref
 * at the one way each id is stored for that pair. With the pair in the query (from_actor and to_actor), that is
 * the ref itself: no row's ref is spelled to compare it. (The same holds for `short_ref = message_ref(:ref,
 * :from, :to)` in a query that names the pair.)
 */
export function messageRefsIn(refs: readonly string[], from: string, to: string, prefix: string): { sql: string; params: Record<string, string | Buffer> } {
  const params: Record<string, string | Buffer> = {};
  refs.forEach((ref, i) => (params[`${prefix}${i}`] = messageRef(ref, from, to)!));
  return { sql: `short_ref IN (${refs.map((_, i) => `:${prefix}${i}`).join(', ')})`, params };
}

/** Requests whose id is one of `ids`, of any actor: events_http_request at each way an id can be stored, then the ids. */
export function requestRefsIn(ids: readonly string[], prefix: string, alias = ''): { sql: string; params: Record<string, string | bigint> } {
  const at = alias ? `${alias}.` : '';
  const params: Record<string, string | bigint> = {};
  const codes: string[] = [];
  ids.forEach((id, i) => {
    params[`${prefix}${i}`] = id;
    // (a request id `<actor>:r<n>` of its own actor is −n; corrCodes gives n and the text too)
    corrCodes(id).forEach((code, j) => {
      params[`${prefix}_${i}_${j}`] = code;
      codes.push(`:${prefix}_${i}_${j}`);
    });
  });
  return { sql: `${at}short_ref IN (${codes.join(', ')}) AND ${at}ref IN (${ids.map((_, i) => `:${prefix}${i}`).join(', ')})`, params };
}

export function corrParams(corr: string): Record<string, string | bigint> {
  const [corr_0, corr_1, corr_2] = corrCodes(corr);
  return { corr, corr_0, corr_1, corr_2 };
}

/** The indexes of events; created after the migrations of an older file. */
const KEY_INDEXES = `
CREATE INDEX IF NOT EXISTS events_actor_ts ON events (actor_code, ts_ns);
CREATE INDEX IF NOT EXISTS events_type_ts ON events (type_code, ts_ns);
CREATE INDEX IF NOT EXISTS events_call_key ON events (site, ts_ns) WHERE ${CODED_CALLS};
CREATE INDEX IF NOT EXISTS events_send_pair ON events (actor_code, to_actor, ts_ns) WHERE ${kindIs('message', 'send')};
-- A request by its id as stored (request_ref(:ref, actor)) and its actor: 2 → 1.4 bytes an event on the storage
-- bench's mix (its text before).
CREATE INDEX IF NOT EXISTS events_http_request ON events (short_ref, actor_code, ts_ns) WHERE ${kindIs('http', 'request')};
-- Responses by status and by duration (k_ns), each with what orders its matches by their requests' start
-- (ts_ns − k_ns) without reading a row: get_http_requests(slow_ms) read every request and its response (650 ms
-- p95 on 1 M events); by status, the sort read each match's row (57 ms on 10 M events, 15k matches).
CREATE INDEX IF NOT EXISTS events_http_status ON events (site, ts_ns, k_ns) WHERE ${CODED_RESPONSES};
CREATE INDEX IF NOT EXISTS events_http_slow ON events (k_ns, ts_ns) WHERE ${CODED_RESPONSES};
CREATE INDEX IF NOT EXISTS events_spawned_by ON events (from_actor, ts_ns) WHERE ${kindIs(['worker', 'child'])};
CREATE INDEX IF NOT EXISTS events_end_key ON events (site, k_ns DESC, ts_ns) WHERE ${CODED_COMPLETIONS};
CREATE INDEX IF NOT EXISTS events_corr ON events (short_corr, ts_ns) WHERE ${CORR_ROWS};
-- Sends and receipts by message id: a page's receipts are paired without reading every send since the start.
-- (The id as stored: message_ref(:ref, :from, :to), src/store/coded_columns.ts.)
CREATE INDEX IF NOT EXISTS events_message_ref ON events (short_ref, ts_ns) WHERE ${kindIs('message')};
-- Receipts by receiver and sender, as events_send_pair has sends: who an actor heard from, counted on the index.
CREATE INDEX IF NOT EXISTS events_receive_pair ON events (actor_code, from_actor, ts_ns) WHERE ${kindIs('message', 'receive')};`;

export const DEFAULT_MAX_EVENTS = 1_000_000;

/** What Store.write binds for an event, in this order (positional: binding by name looks each one up on the row object; named, a log row took ~0.3 µs more to bind). */
const EVENT_INSERT_COLUMNS = 'ts_ns, wall, type_code, subtype_code, actor_code, from_actor, to_actor, short_corr, short_ref, body, site, k_ns';
const EVENT_COLUMNS = EVENT_INSERT_COLUMNS.split(', ').length;
/**
 * Rows per INSERT statement. Each statement run costs its own trip through better-sqlite3 and the VDBE's
 * start and reset; measured with better-sqlite3 alone on this schema, 100k log rows of the ingest bench's
 * (CPU per row, min · median of 4 rounds, load ~6): one row a statement 7.94 · 8.98 µs, 8 rows 6.64 · 6.79,
 * 32 rows 6.36 · 6.63. Store.write as a whole, in callgrind: −19 % to −27 % instructions per row (bench/README.md).
 */
const ROWS_PER_INSERT = 32;

export class Store {
  readonly db: Database.Database;
  readonly path: string | undefined;
  maxEvents: number;
  private count: number;
  /** Per-type retention, ms: events of that type older than this are pruned (lifecycle is kept unless named). */
  retention: Record<string, number> = {};
  private lastAgePrune = 0;
  /** The codes of actors and call sites (src/store/names.ts). */
  private readonly names: Names;
  /** A private copy of a file of an earlier layout opened read-only, brought to this layout: removed at close. */
  private readonly copyDir: string | undefined;
  /** INSERT statements of 1 to ROWS_PER_INSERT rows, by count, made when first needed. */
  private readonly insertEvents: (Database.Statement | undefined)[] | undefined;
  private readonly openSends: OpenSends | undefined;
  private readonly upsertActor: Database.Statement;
  private readonly writeTx: (events: EventRow[], actors: ActorUpdate[]) => void;

  constructor(options: StoreOptions = {}) {
    this.path = options.path;
    let db = new Database(options.path ?? ':memory:', { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    this.maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
    const layout = db.pragma('user_version', { simple: true }) as number;
    if (layout > LAYOUT) {
      db.close();
      throw new Error(`nodescope: ${options.path} was written by a newer nodescope (store layout ${layout}; this one reads layouts up to ${LAYOUT}): open it with that version`);
    }
    // Read-only, a file of an earlier layout is read from a private copy brought to this layout (the file
    // itself is left as it is): the queries read codes that such a file does not have.
    const upgraded = options.readonly === true && layout < LAYOUT;
    if (upgraded) {
      this.copyDir = privateDir('nodescope-copy-');
      const copy = join(this.copyDir, 'trace.db');
      // A layout 4 file's columns are spelled by functions of the connection, and VACUUM INTO computes what
      // its indexes hold (events_message_ref's ref, spelled from the actor).
      if (layout === 4) spellCodes(db);
      db.prepare('VACUUM INTO ?').run(copy);
      db.close();
      db = new Database(copy);
    }
    this.db = db;
    keepStatements(this.db);
    registerRefFunctions(this.db);
    this.db.function('timing_bucket', { deterministic: true }, durationBucket);
    if (options.readonly && !upgraded) {
      readerTallies(this.db);
      this.names = new Names(this.db, options.path, false);
    } else {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      const missing = missingTallies(this.db);
      const existed = this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'events'").get() !== undefined;
      const slowKeyed = this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'events_http_slow'").get() !== undefined;
      this.db.exec(SCHEMA);
      this.names = new Names(this.db, upgraded ? undefined : options.path, true);
      if (!existed) this.db.exec(eventsTable('events'));
      if (existed && layout === 0) {
        this.db.transaction(() => {
          migrateKeyColumns(this.db);
          migratePayload(this.db);
        })();
        // A file from before responses carried their duration as a key: filled once, before its indexes.
        if (!slowKeyed) {
          this.db.exec(`UPDATE events SET k_ns = json_extract(payload, '$.duration_ns') WHERE ${RESPONSE_ROWS}`);
          this.db.exec('DROP INDEX IF EXISTS events_http_status');
        }
      }
      if (existed && layout < LAYOUT) {
        this.db.transaction(() => {
          rebuildCoded(this.db, layout, this.names);
          this.db.pragma(`user_version = ${LAYOUT}`);
        })();
      }
      if (!existed) this.db.pragma(`user_version = ${LAYOUT}`);
      this.db.exec(KEY_INDEXES);
      if (existed) fillTallies(this.db, missing);
      if (migrateOpenSends(this.db)) new OpenSends(this.db).fill();
    }
    this.count = (this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    // (No inserts on a read-only connection: a file of an earlier version has other columns until opened to write.)
    this.insertEvents = options.readonly ? undefined : [];
    // COALESCE keeps what is known when a later event knows less (a worker's own start report carries its
    // name; the parent's exit report carries the code); json_patch merges the info objects. Batches from
    // different threads arrive in any order, so status only moves forward: running → ended, and a crash
    // outranks the plain exit that follows it.
    this.upsertActor = this.db.prepare(
      `INSERT INTO actors (id, kind, pid, thread_id, parent, name, started_ms, ended_ms, status, exit_code, exit_signal, info)
       VALUES (@id, coalesce(@kind, 'process'), @pid, @thread_id, @parent, @name, @started_ms, @ended_ms, coalesce(@status, 'running'), @exit_code, @exit_signal, @info)
       ON CONFLICT (id) DO UPDATE SET
         kind = coalesce(@kind, kind), pid = coalesce(@pid, pid), thread_id = coalesce(@thread_id, thread_id),
         parent = coalesce(@parent, parent), name = coalesce(@name, name), started_ms = coalesce(started_ms, @started_ms),
         ended_ms = coalesce(ended_ms, @ended_ms),
         status = CASE WHEN @status IS NULL THEN status WHEN status = 'running' THEN @status
                       WHEN @status = 'crashed' AND status <> 'killed' THEN 'crashed' ELSE status END,
         exit_code = coalesce(@exit_code, exit_code), exit_signal = coalesce(@exit_signal, exit_signal),
         info = CASE WHEN @info IS NULL THEN info WHEN info IS NULL THEN @info ELSE json_patch(info, @info) END`,
    );
    const addCount = options.readonly ? undefined : this.db.prepare('INSERT INTO actor_counts VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n');
    const addCalls = options.readonly ? undefined : this.db.prepare('INSERT INTO call_counts VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n');
    const addPair = options.readonly ? undefined : this.db.prepare('INSERT INTO message_pairs VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET sent = sent + excluded.sent, received = received + excluded.received');
    this.openSends = options.readonly ? undefined : new OpenSends(this.db);
    const addDurations = options.readonly ? undefined : this.db.prepare('INSERT INTO call_durations VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n, errors = errors + excluded.errors, total_ns = total_ns + excluded.total_ns');
    const addSpan = options.readonly ? undefined : this.db.prepare('INSERT OR REPLACE INTO http_spans VALUES (?, ?, ?, ?)');
    const endSpan = options.readonly ? undefined : this.db.prepare('UPDATE http_spans SET end_ns = ? WHERE actor = ? AND ref = ? AND end_ns IS NULL AND start_ns <= ? RETURNING start_ns');
    const dropSpan = options.readonly ? undefined : this.db.prepare('DELETE FROM http_spans WHERE actor = ? AND ref = ? AND start_ns = ?');
    const names = this.names;
    // The counts are summed here and written once per distinct key: a transaction of 2,000 calls is a few
    // upserts, not a second pass over the rows it inserted.
    this.writeTx = this.db.transaction((events: EventRow[], actors: ActorUpdate[]) => {
      const counts: Tally = new Map();
      const calls: Tally = new Map();
      const sent: Tally = new Map();
      this.openSends!.begin();
      const durations = new Map<string, Map<string, Map<number, [number, number, number]>>>();
      // Requests of this transaction not answered in it, by actor and id: their start.
      const started = new Map<string, number>();
      // Rows go in ROWS_PER_INSERT at a time: their values, and the message rows message_open counts among
      // them (by their place), whose ids the insert gives.
      const values: unknown[] = [];
      const pairedRows: [at: number, e: EventRow][] = [];
      const insert = () => {
        const n = values.length / EVENT_COLUMNS;
        const { lastInsertRowid } = this.insertStatement(n).run(values);
        // One INSERT's rows get consecutive ids (each one more than the largest before it), the last one's given.
        const first = Number(lastInsertRowid) - n + 1;
        for (const [at, p] of pairedRows) this.openSends!.add(first + at, p.subtype, p.from_actor!, p.to_actor!, p.ref!);
        values.length = 0;
        pairedRows.length = 0;
      };
      for (const e of events) {
        const paired = e.type === 'message' && e.ref !== null && e.from_actor && e.to_actor && (e.subtype === 'send' || e.subtype === 'receive');
        if (paired) tally(sent, e.from_actor!, e.to_actor!, e.subtype);
        let module: string | null = null;
        let fn: string | null = null;
        let status: number | string | null = null;
        let ns: number | bigint | string | null = null;
        if (e.type === 'call' || e.type === 'agent') {
          if (e.k_module === undefined || e.k_fn === undefined) [module, fn] = namingKeys(e.payload);
          else {
            module = e.k_module;
            fn = e.k_fn;
          }
          if (e.type === 'call' && e.subtype === 'call') tally(calls, module, fn, e.actor);
          else if (e.type === 'call' && (e.subtype === 'return' || e.subtype === 'throw')) {
            ns = e.k_ns !== undefined ? e.k_ns : durationKey(e.payload);
            addDuration(durations, module, fn, ns, e.subtype === 'throw');
          }
        } else if (e.type === 'http' && e.ref !== null && (e.subtype === 'request' || e.subtype === 'response')) {
          const key = `${e.actor}\0${e.ref}`;
          if (e.subtype === 'request') started.set(key, e.ts_ns);
          else {
            status = e.k_status !== undefined ? e.k_status : statusKey(e.payload);
            ns = e.k_ns !== undefined ? e.k_ns : durationKey(e.payload);
            const start = started.get(key);
            if (start !== undefined) {
              started.delete(key);
              if (e.ts_ns - start >= LONG_REQUEST_NS) addSpan!.run(e.actor, e.ref, start, e.ts_ns);
            } else {
              for (const { start_ns } of endSpan!.all(e.ts_ns, e.actor, e.ref, e.ts_ns) as { start_ns: number }[]) {
                if (e.ts_ns - start_ns < LONG_REQUEST_NS) dropSpan!.run(e.actor, e.ref, start_ns);
              }
            }
          }
        } else if (e.type === 'http' && e.subtype === 'response') {
          status = e.k_status !== undefined ? e.k_status : statusKey(e.payload);
          ns = e.k_ns !== undefined ? e.k_ns : durationKey(e.payload);
        }
        // A whole duration is bound as an integer (1–4 bytes stored, in the row and in events_end_key; a JS
        // number is bound as an 8-byte REAL).
        if (typeof ns === 'number' && Number.isSafeInteger(ns)) ns = BigInt(ns);
        const body = bodyOf(e, module, fn, status, ns);
        if (paired) pairedRows.push([values.length / EVENT_COLUMNS, e]);
        values.push(
          e.ts_ns, names.wall(e.wall_ms, e.ts_ns, e.wall_offset), typeCode(e.type), subtypeCode(e.subtype), names.actorCode(e.actor, true), e.from_actor, e.to_actor, shortCorr(e.corr, e.actor), storedRef(e.type, e.ref, e.actor, e.from_actor, e.to_actor), body,
          module === null ? status : names.siteCode(module, fn!, true), ns,
        );
        if (values.length === ROWS_PER_INSERT * EVENT_COLUMNS) insert();
        tally(counts, e.actor, e.type, e.subtype);
      }
      if (values.length > 0) insert();
      for (const [a, byB] of counts) for (const [b, byC] of byB) for (const [c, n] of byC) addCount!.run(a, b, c, n);
      for (const [a, byB] of calls) for (const [b, byC] of byB) for (const [c, n] of byC) addCalls!.run(a, b, c, n);
      for (const [a, byB] of sent) for (const [b, byC] of byB) addPair!.run(a, b, byC.get('send') ?? 0, byC.get('receive') ?? 0);
      this.openSends!.flush();
      for (const [m, byFn] of durations) for (const [f, byBucket] of byFn) for (const [b, [n, errors, total]] of byBucket) addDurations!.run(m, f, b, n, errors, total);
      for (const [key, start] of started) {
        const cut = key.indexOf('\0');
        addSpan!.run(key.slice(0, cut), key.slice(cut + 1), start, null);
      }
      for (const a of actors) this.upsertActor.run(normalizeActor(a));
    });
  }

  /**
   * Writes events and actor updates in one transaction. What is recorded was decided before (the level and
   * sampling: src/trace/policy.ts); every row given is written.
   */
  write(events: EventRow[], actors: ActorUpdate[] = []): number {
    if (this.insertEvents === undefined) throw new Error('nodescope: this store was opened readonly');
    if (events.length === 0 && actors.length === 0) return 0;
    try {
      this.writeTx(events, actors);
    } catch (error) {
      this.names.rolledBack();
      throw error;
    }
    this.names.committed();
    this.count += events.length;
    if (this.count > this.maxEvents) this.prune();
    if (Date.now() - this.lastAgePrune > 1_000) this.pruneByAge();
    return events.length;
  }

  /** The INSERT of `n` rows (1 to ROWS_PER_INSERT). */
  private insertStatement(n: number): Database.Statement {
    return (this.insertEvents![n] ??= this.db.prepare(`INSERT INTO events (${EVENT_INSERT_COLUMNS}) VALUES ${Array(n).fill(`(${Array(EVENT_COLUMNS).fill('?').join(', ')})`).join(', ')}`));
  }

  /** Deletes the oldest events so that `maxEvents` remain. */
  prune(): void {
    const excess = this.count - this.maxEvents;
    if (excess <= 0) return;
    const row = this.db.prepare('SELECT id FROM events ORDER BY id LIMIT 1 OFFSET ?').get(excess - 1) as { id: number } | undefined;
    if (!row) return;
    const { changes } = this.deleteCounted('id <= ?', [row.id]);
    this.count -= changes;
  }

  /** Deletes events and takes them off the per-actor counts, in one transaction. */
  private deleteCounted(where: string, params: unknown[]): { changes: number } {
    return this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE actor_counts SET n = actor_counts.n - g.gone FROM (SELECT actor, type, subtype, count(*) AS gone FROM events WHERE ${where} GROUP BY 1, 2, 3) AS g
           WHERE actor_counts.actor = g.actor AND actor_counts.type = g.type AND actor_counts.subtype = g.subtype`,
        )
        .run(...params);
      this.db.prepare('DELETE FROM actor_counts WHERE n <= 0').run();
      this.db
        .prepare(
          `UPDATE call_counts SET n = call_counts.n - g.gone FROM (SELECT k_module, k_fn, actor, count(*) AS gone FROM events WHERE ${where} AND ${CODED_CALLS} GROUP BY 1, 2, 3) AS g
           WHERE call_counts.k_module = g.k_module AND call_counts.k_fn = g.k_fn AND call_counts.actor = g.actor`,
        )
        .run(...params);
      this.db.prepare('DELETE FROM call_counts WHERE n <= 0').run();
      this.db
        .prepare(
          `UPDATE message_pairs SET sent = sent - g.s, received = received - g.r FROM (${PAIR_SUMS} WHERE ${where} AND ${PAIRED_MESSAGES} GROUP BY 1, 2) AS g
           WHERE message_pairs.sender = g.from_actor AND message_pairs.receiver = g.to_actor`,
        )
        .run(...params);
      this.db.prepare('DELETE FROM message_pairs WHERE sent <= 0 AND received <= 0').run();
      this.db
        .prepare(
          `INSERT INTO message_open (sender, receiver, ref, open) SELECT from_actor, to_actor, ref, -d FROM (${OPEN_SUMS} WHERE ${where} AND ${PAIRED_MESSAGES} GROUP BY 1, 2, 3) WHERE d <> 0
           ON CONFLICT DO UPDATE SET open = open + excluded.open`,
        )
        .run(...params);
      this.db.prepare('DELETE FROM message_open WHERE open = 0').run();
      const touched = this.db.prepare(`${OPEN_SUMS} WHERE ${where} AND ${PAIRED_MESSAGES} GROUP BY 1, 2, 3`).all(...params) as PrunedSends[];
      this.db
        .prepare(
          `UPDATE call_durations SET n = call_durations.n - g.n, errors = call_durations.errors - g.e, total_ns = call_durations.total_ns - g.t
           FROM (${DURATION_SUMS} WHERE ${where} AND ${CODED_COMPLETIONS} GROUP BY 1, 2, 3) AS g
           WHERE call_durations.k_module = g.k_module AND call_durations.k_fn = g.k_fn AND call_durations.bucket = g.b`,
        )
        .run(...params);
      this.db.prepare('DELETE FROM call_durations WHERE n <= 0').run();
      this.db
        .prepare(`DELETE FROM http_spans WHERE (actor, ref, start_ns) IN (SELECT actor, ref, ts_ns FROM events WHERE ${where} AND ${kindIs('http', 'request')} AND ref IS NOT NULL)`)
        .run(...params);
      const deleted = this.db.prepare(`DELETE FROM events WHERE ${where}`).run(...params);
      this.openSends?.recount(touched);
      return deleted;
    })();
  }

  /**
   * Applies per-type retention. Ages are measured on ts_ns, the monotonic clock the agents stamp events with
   * (system-wide on this host), so the (type_code, ts_ns) index serves the delete.
   */
  pruneByAge(): void {
    this.lastAgePrune = Date.now();
    const now = Number(process.hrtime.bigint());
    for (const [type, ms] of Object.entries(this.retention)) {
      const { changes } = this.deleteCounted('type_code = ? AND ts_ns < ?', [typeCode(type), now - ms * 1e6]);
      this.count -= changes;
    }
  }

  eventCount(): number {
    return this.count;
  }

  /** What a query binds to compare with `type_code` (src/store/kinds.ts). */
  typeCode(type: string): KindCode {
    return typeCode(type);
  }

  /** What a query binds to compare with `subtype_code`. */
  subtypeCode(subtype: string): KindCode {
    return subtypeCode(subtype);
  }

  /** What a query binds to compare with `actor_code` (src/store/names.ts): null for an actor with no events. */
  actorCode(id: string): bigint | null {
    return this.names.actorCode(id);
  }

  /** What a query binds to compare with `site`: null for a (module, fn) with no events. */
  siteCode(module: string, fn: string): bigint | null {
    return this.names.siteCode(module, fn);
  }

  actor(id: string): ActorRow | undefined {
    return this.db.prepare('SELECT * FROM actors WHERE id = ?').get(id) as ActorRow | undefined;
  }

  actors(): ActorRow[] {
    return this.db.prepare('SELECT * FROM actors ORDER BY started_ms, id').all() as ActorRow[];
  }

  setMeta(key: string, value: unknown): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  }

  meta(key: string): unknown {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? JSON.parse(row.value) : undefined;
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.names.close();
    if (this.copyDir !== undefined) rmSync(this.copyDir, { recursive: true, force: true });
  }
}

/** How many statements a connection keeps (the read tools' texts vary with the length of their IN lists). */
const KEPT_STATEMENTS = 256;

/**
 * A connection whose prepare() gives back the statement it made for the same text before, unless that one is
 * still being read (an open iterate()); with its output reset to rows as objects; each text rewritten first
 * when `rewrite` is given. The query layer prepares
 * its statements per question, and a statement that reads `payload` or `ref` compiles their expressions:
 * ~90 µs more per prepare with the payload shapes (146 vs 52 µs, CPU), more than reading its rows took.
 */
function keepStatements(db: Database.Database): void {
  const prepare = db.prepare.bind(db);
  const kept = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    const st = kept.get(sql);
    if (st !== undefined && !st.busy) {
      if (st.reader) st.raw(false).pluck(false).expand(false);
      return st;
    }
    const made = prepare(sql);
    if (st === undefined) {
      if (kept.size >= KEPT_STATEMENTS) kept.delete(kept.keys().next().value!);
      kept.set(sql, made);
    }
    return made;
  }) as typeof db.prepare;
}

/**
 * A file written by an earlier version: key columns missing (added), or VIRTUAL generated ones (their indexes
 * dropped, the columns dropped and added back as plain ones). Either way they are filled once from the
 * payloads, for the rows that carry them; KEY_INDEXES are created after.
 */
function migrateKeyColumns(db: Database.Database): void {
  const hidden = new Map((db.prepare('PRAGMA table_xinfo(events)').all() as { name: string; hidden: number }[]).map((c) => [c.name, c.hidden]));
  for (const k of KEY_COLUMNS) {
    const h = hidden.get(k.name);
    if (h === 0) continue;
    if (h !== undefined) {
      // A generated column (hidden 2 or 3) cannot be altered; an indexed column cannot be dropped.
      for (const { name } of db.prepare("SELECT DISTINCT il.name FROM pragma_index_list('events') AS il, pragma_index_info(il.name) AS ii WHERE ii.name = ?").all(k.name) as { name: string }[]) {
        db.exec(`DROP INDEX "${name}"`);
      }
      db.exec(`ALTER TABLE events DROP COLUMN ${k.name}`);
    }
    db.exec(`ALTER TABLE events ADD COLUMN ${k.name} ${k.type}`.trim());
    db.exec(`UPDATE events SET ${k.name} = ${k.expr} WHERE ${k.rows}`);
  }
}

/**
 * A file written before `body`: its payload column becomes the body (its payloads are whole: read as they
 * are), and `payload` is added as the computed column. Two schema edits, no row rewritten.
 */
function migratePayload(db: Database.Database): void {
  const columns = db.prepare("SELECT name FROM pragma_table_xinfo('events')").all() as { name: string }[];
  if (columns.some((c) => c.name === 'body')) return;
  db.exec('ALTER TABLE events RENAME COLUMN payload TO body');
  // (such a table has no short_ref, and its bodies no marks: no row reads the shape that names it)
  db.exec(`ALTER TABLE events ADD COLUMN payload ${PAYLOAD_COLUMN.replaceAll('short_ref', 'NULL')}`);
}

/**
 * A file of an earlier layout: its events copied into a table of this layout, ids kept; its indexes are dropped
 * with it (KEY_INDEXES are made after). Its actors and call sites are given codes first, in the order they
 * first appear. Layout 0 (before the coded columns): coded and shaped by the writer's own functions; measured:
 * 1 M events of the realistic mix in ~11 s CPU (20 s at load 11), once. Layout 2: type and subtype coded too;
 * layout 3: actors and sites only, the other columns copied as they are.
 */
function rebuildCoded(db: Database.Database, layout: number, names: Names): void {
  registerKindCoders(db);
  db.exec(eventsTable('events_coded'));
  registerCoders(db);
  // Refs coded by this layout's rules (a snapshot's by its object's thread, a message's by its pair only when
  // the ref says where the pair ends), from their text as the file spells it.
  const shortRefs = 'short_ref(ref, type, actor, from_actor, to_actor) AS short_ref';
  if (layout === 4) {
    names.loadAll();
    // Its wall times kept as they are (REALs: each batch had an offset of its own, read afresh).
    db.exec(`INSERT INTO events_coded (id, ts_ns, wall, type_code, subtype_code, actor_code, from_actor, to_actor, short_corr, short_ref, body, site, k_ns)
      SELECT id, ts_ns, wall_ms, type_code, subtype_code, actor_code, from_actor, to_actor, short_corr, ${shortRefs}, body, iif(${CODED_RESPONSES}, k_status, site), k_ns FROM events ORDER BY id`);
    db.exec('DROP TABLE events');
    db.exec('ALTER TABLE events_coded RENAME TO events');
    return;
  }
  const naming = layout === 3 ? kindIs(['call', 'agent']) : NAMING_ROWS;
  const site = `iif(${naming}, coalesce(k_module, ''), NULL) AS m, iif(${naming}, coalesce(k_fn, ''), NULL) AS f`;
  let source = `SELECT id, ts_ns, wall_ms, type_code, subtype_code, actor, from_actor, to_actor, short_corr, ${shortRefs}, body, ${site}, k_status, k_ns FROM events`;
  if (layout === 2) source = source.replace('type_code, subtype_code', 'type_code_of(type) AS type_code, subtype_code_of(subtype) AS subtype_code');
  if (layout === 0) {
    // Integers as bigints, as the writer binds them: a duration stored as a REAL is not a whole one.
    db.function('body_of', { deterministic: true, safeIntegers: true, varargs: true }, (...v: unknown[]) => {
      const [payload, type, subtype, actor, module, fn, status, ns] = v as [string | null, string, string, string, string | null, string | null, unknown, bigint | number | string | null];
      const naming = type === 'call' || type === 'agent';
      const row = { payload, type, subtype, actor } as EventRow;
      return bodyOf(row, naming ? (module ?? '') : null, naming ? (fn ?? '') : null, typeof status === 'bigint' ? Number(status) : status, ns);
    });
    source = `SELECT id, ts_ns, wall_ms, type_code_of(type) AS type_code, subtype_code_of(subtype) AS subtype_code, actor, from_actor, to_actor,
      short_corr(corr, actor) AS short_corr, short_ref(ref, type, actor, from_actor, to_actor) AS short_ref,
      body_of(payload, type, subtype, actor, k_module, k_fn, k_status, k_ns) AS body, ${site}, k_status, k_ns FROM events`;
  }
  db.exec('INSERT INTO actor_codes (code, id) SELECT row_number() OVER (ORDER BY min(id)) - 1, actor FROM events GROUP BY actor');
  db.exec(`INSERT INTO site_codes (code, module, fn) SELECT row_number() OVER (ORDER BY min(id)) - 1, m, f FROM (${source}) WHERE m IS NOT NULL GROUP BY m, f`);
  names.loadAll();
  db.exec(`INSERT INTO events_coded (id, ts_ns, wall, type_code, subtype_code, actor_code, from_actor, to_actor, short_corr, short_ref, body, site, k_ns)
    SELECT e.id, e.ts_ns, e.wall_ms, e.type_code, e.subtype_code, a.code, e.from_actor, e.to_actor, e.short_corr, e.short_ref, e.body, iif(${kindIs('http', 'response', 'e')}, e.k_status, s.code), e.k_ns
    FROM (${source}) AS e JOIN actor_codes AS a ON a.id = e.actor LEFT JOIN site_codes AS s ON s.module = e.m AND s.fn = e.f ORDER BY e.id`);
  db.exec('DROP TABLE events');
  db.exec('ALTER TABLE events_coded RENAME TO events');
}

/** A character a name's JSON text spells escaped (or a surrogate): such names are left in the payload. */
const ESCAPED_IN_JSON = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * What a row's payload is stored as (PAYLOAD_COLUMN): without what the key columns and its kind's shape hold,
 * when it is spelled as they would put it back.
 */
function bodyOf(e: EventRow, module: string | null, fn: string | null, status: unknown, ns: bigint | number | string | null): string | null {
  const p = e.payload;
  if (p === null) return null;
  if (module !== null) return callBody(p, e.actor, module, fn!, ns, e.type === 'call' && e.subtype === 'call' ? callNumber(e.ref, e.actor) : undefined);
  switch (e.type) {
    case 'http':
      if (e.subtype === 'request') return requestBody(p) ?? shaped(p, SHAPES.request.mark, '{"method":"', '');
      if (e.subtype === 'response' && Number.isSafeInteger(status) && typeof ns === 'bigint') return shaped(p, SHAPES.response.mark, `{"status":${status},"route":`, `,"duration_ns":${ns}}`);
      return p;
    case 'message':
      return shaped(p, SHAPES.workerMessage.mark, '{"channel":"worker","message":', '');
    case 'state':
      return snapshotBody(p) ?? shaped(p, SHAPES.snapshot.mark, '{"state":', '');
    case 'log':
      return shaped(p, SHAPES.stdoutLine.mark, '{"text":', ',"stream":"stdout"}');
    default:
      return p;
  }
}

/** The separators of the shapes of more than one part: what a part holds of them, it cannot be cut at. */
const SEPARATORS = /[\u0001\u0002]/;
const TRIGGER = ',"trigger":{"method":"';
const ARGS = '","args":';
const URL_KEY = '","url":"';

/**
 * A snapshot as the agent writes it (src/agent/objects.ts): `{"state":S,"trigger":{"method":"M","args":A}}`
 * as S, M and A (cut at the last trigger key; the pieces put back together are the payload by construction).
 */
function snapshotBody(p: string): string | undefined {
  if (!p.startsWith('{"state":') || !p.endsWith('}}')) return undefined;
  const t = p.lastIndexOf(TRIGGER);
  if (t < 9) return undefined;
  const m = t + TRIGGER.length;
  const a = p.indexOf(ARGS, m);
  if (a < 0 || a + ARGS.length > p.length - 2) return undefined;
  const [state, method, args] = [p.slice(9, t), p.slice(m, a), p.slice(a + ARGS.length, p.length - 2)];
  if (SEPARATORS.test(state) || SEPARATORS.test(method) || SEPARATORS.test(args)) return undefined;
  return `${SHAPES.snapshotTrigger.mark}${state}\u0001${method}\u0002${args}`;
}

/** A served request as the agent writes it (src/trace/expand_http.ts): `{"method":"M","url":"U"}` as M and U. */
function requestBody(p: string): string | undefined {
  if (!p.startsWith('{"method":"') || !p.endsWith('"}')) return undefined;
  const u = p.indexOf(URL_KEY, 11);
  if (u < 0 || u + URL_KEY.length > p.length - 2) return undefined;
  const [method, url] = [p.slice(11, u), p.slice(u + URL_KEY.length, p.length - 2)];
  if (SEPARATORS.test(method) || SEPARATORS.test(url)) return undefined;
  return `${SHAPES.requestUrl.mark}${method}\u0001${url}`;
}

/** `mark` and what lies between `start` and `end`, when the payload begins and ends so; else the payload. */
function shaped(p: string, mark: string, start: string, end: string): string {
  return p.length >= start.length + end.length && p.startsWith(start) && p.endsWith(end) ? mark + p.slice(start.length, p.length - end.length) : p;
}

/**
 * A call's or a completion's body, or another row that names a module and function first. The names are
 * compared piece by piece: matching a concatenated prefix cost ~0.8 µs a call row, this ~0.15 µs.
 */
function callBody(payload: string, actor: string, module: string, fn: string, ns: bigint | number | string | null, own?: number): string {
  if (ESCAPED_IN_JSON.test(module) || ESCAPED_IN_JSON.test(fn)) return payload;
  const atFn = 11 + module.length; // after `{"module":"` and the module
  const rest = atFn + 8 + fn.length + 1; // after `","fn":"`, the function and its closing quote
  if (!payload.startsWith('{"module":"') || !payload.startsWith(module, 11) || !payload.startsWith('","fn":"', atFn) || !payload.startsWith(fn, atFn + 8)) return payload;
  if (payload.charCodeAt(rest - 1) !== 34) return payload; // `"`
  const next = payload.charCodeAt(rest);
  if (next !== 44 && next !== 125) return payload; // `,` or `}`
  if (typeof ns === 'bigint') {
    for (const sync of [true, false]) {
      const end = `,"duration_ns":${ns},"async":${!sync}}`;
      if (!payload.endsWith(end) || payload.length - end.length < rest) continue;
      const middle = payload.slice(rest, payload.length - end.length);
      if (middle.startsWith(',"result":')) return (sync ? SHAPES.resultSync : SHAPES.resultAsync).mark + middle.slice(10);
      if (middle.startsWith(',"error":')) return (sync ? SHAPES.errorSync : SHAPES.errorAsync).mark + middle.slice(9);
      return (sync ? SHAPES.namesSync : SHAPES.namesAsync).mark + middle;
    }
  }
  if (payload.startsWith(',"args":[', rest)) {
    const args = rest + 8; // at `[`
    if (payload.endsWith(',"parent":null}') && payload.length - 15 > args) return SHAPES.callNoParent.mark + payload.slice(args, payload.length - 15);
    const parent = `,"parent":"${actor}:c`;
    const at = payload.lastIndexOf(parent);
    if (at > args && payload.endsWith('"}') && isDigits(payload, at + parent.length, payload.length - 2)) {
      const digits = payload.slice(at + parent.length, payload.length - 2);
      const n = Number(digits);
      // (as its distance from the call's own number, `short_ref`, when the digits are that number's spelling)
      if (own !== undefined && String(n) === digits && n < own) return SHAPES.callOfEarlier.mark + String(own - n) + payload.slice(args, at);
      return SHAPES.callOfParent.mark + digits + payload.slice(args, at);
    }
  }
  return payload.slice(rest);
}

/** A call row's own number: n of its ref `<actor>:c<n>` (what short_ref stores), else undefined. */
function callNumber(ref: string | null, actor: string): number | undefined {
  const code = typeof ref === 'string' ? shortRef(ref, actor) : null;
  return typeof code === 'bigint' && code > 0n ? Number(code) : undefined;
}

/** Whether `s` has one digit or more from `from` to `to` and nothing else. */
function isDigits(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** A completion into its (module, fn, bucket) tally: count, throws, summed numeric durations. */
function addDuration(t: Map<string, Map<string, Map<number, [number, number, number]>>>, module: string, fn: string, ns: unknown, threw: boolean): void {
  let byFn = t.get(module);
  if (byFn === undefined) t.set(module, (byFn = new Map()));
  let byBucket = byFn.get(fn);
  if (byBucket === undefined) byFn.set(fn, (byBucket = new Map()));
  const b = durationBucket(ns);
  let sums = byBucket.get(b);
  if (sums === undefined) byBucket.set(b, (sums = [0, 0, 0]));
  sums[0]++;
  if (threw) sums[1]++;
  if (b >= 0) sums[2] += ns as number;
}

/** Counts by three keys, nested: no key string built per row. */
type Tally = Map<string, Map<string, Map<string, number>>>;
function tally(t: Tally, a: string, b: string, c: string, by = 1): void {
  let byB = t.get(a);
  if (byB === undefined) t.set(a, (byB = new Map()));
  let byC = byB.get(b);
  if (byC === undefined) byB.set(b, (byC = new Map()));
  byC.set(c, (byC.get(c) ?? 0) + by);
}

/** A row's module and function from its payload, as the k_module/k_fn expressions read them. */
function namingKeys(payload: string | null): [string, string] {
  const p = parsed(payload);
  return [keyText(p?.module), keyText(p?.fn)];
}

/** An HTTP response's status from its payload, as the k_status expression reads it. */
function statusKey(payload: string | null): number | string | null {
  const s = parsed(payload)?.status;
  return typeof s === 'number' || typeof s === 'string' ? s : null;
}

/** A call completion's or an HTTP response's duration_ns from its payload, as the k_ns expression reads it. */
function durationKey(payload: string | null): number | string | null {
  const d = parsed(payload)?.duration_ns;
  if (typeof d === 'number' || typeof d === 'string') return d;
  if (typeof d === 'boolean') return d ? 1 : 0;
  return d === undefined || d === null ? null : JSON.stringify(d);
}

function parsed(payload: string | null): Record<string, unknown> | null {
  if (payload === null) return null;
  try {
    const p = JSON.parse(payload) as unknown;
    return typeof p === 'object' && p !== null ? (p as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function keyText(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
}

function normalizeActor(a: ActorUpdate): Record<string, unknown> {
  return {
    id: a.id,
    kind: a.kind ?? null,
    pid: a.pid ?? null,
    thread_id: a.thread_id ?? null,
    parent: a.parent ?? null,
    name: a.name ?? null,
    started_ms: a.started_ms ?? null,
    ended_ms: a.ended_ms ?? null,
    status: a.status ?? null,
    exit_code: a.exit_code ?? null,
    exit_signal: a.exit_signal ?? null,
    info: a.info ?? null,
  };
}
