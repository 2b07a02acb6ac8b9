// An event's type and subtype stored as small integers (store layout 3): `type_code` and `subtype_code` hold a
// name's position in TYPES / SUBTYPES, or the name itself when it is not listed (types and subtypes are stored
// exactly as emitted: a name not listed is kept as it is, never given a code; see unlisted()). `type` and
// `subtype` are VIRTUAL columns that spell them back, for what a query reads. What a query filters on names
// the codes (kindIs below): SQLite counts a query that names a generated column as reading every column of
// the table, so an index on the codes covers a count only if the query names the codes; and a partial index
// is used only when the query's WHERE holds the index's own terms.
// Measured on the storage bench (realistic mix): 226 → 204–213 bytes per event (rows 123 → 110–115,
// events_type_ts 23 → 18): as text, type and subtype took ~10 bytes a row; as codes, 0–1 byte each (0 and 1 take no bytes at
// all in an SQLite record: the most frequent names come first).

import type Database from 'better-sqlite3';

/** Codes are positions: append only (a file keeps the codes it was written with). */
export const TYPES = ['call', 'http', 'message', 'state', 'log', 'probe', 'agent', 'process', 'worker', 'child', 'object', 'error', 'ws'] as const;
export const SUBTYPES = [
  'call', 'return', 'throw', 'request', 'response', 'send', 'receive', 'snapshot',
  'log', 'info', 'warn', 'error', 'debug', 'trace', 'fatal', 'hit',
  'trace_started', 'trace_stopped', 'timing', 'dropped', 'rebound', 'start', 'exit', 'online',
  'exiting', 'abort', 'spawn', 'track', 'untrack', 'uncaught_exception', 'unhandled_rejection', 'client_request',
  'client_response', 'client_error', 'open', 'close', 'stdout', 'stderr', 'detached',
] as const;

type TypeName = (typeof TYPES)[number];
type SubtypeName = (typeof SUBTYPES)[number];

const TYPE_CODES = new Map<string, bigint>(TYPES.map((t, i) => [t, BigInt(i)]));
const SUBTYPE_CODES = new Map<string, bigint>(SUBTYPES.map((t, i) => [t, BigInt(i)]));

/** A stored type or subtype: a code (a bigint: better-sqlite3 binds a JS number as a REAL), or a name not listed. */
export type KindCode = bigint | string | Buffer;

/** What `type_code` stores for a type. */
export function typeCode(type: string): KindCode {
  return TYPE_CODES.get(type) ?? unlisted(type);
}

/** What `subtype_code` stores for a subtype. */
export function subtypeCode(subtype: string): KindCode {
  return SUBTYPE_CODES.get(subtype) ?? unlisted(subtype);
}

/**
 * A name not listed, as stored: its text, or its UTF-8 bytes when it could read as a number (`5`, ` 1e3`),
 * which the columns' INTEGER affinity would store as one. The affinity is what lets a partial index on the
 * codes cover a count: SQLite treats a column its WHERE fixes (`type_code = 0`) as held by the index only
 * when the column has TEXT, NUMERIC or INTEGER affinity (measured: with none, every count read its rows).
 */
function unlisted(name: string): string | Buffer {
  return /^[\s\d.+\-eE]*$/.test(name) ? Buffer.from(name, 'utf8') : name;
}

/** The column definitions of `type_code`, `type`, `subtype_code` and `subtype`. */
export const KIND_COLUMNS = `type_code INTEGER NOT NULL,
  type GENERATED ALWAYS AS (${spelled('type_code', TYPES)}) VIRTUAL,
  subtype_code INTEGER NOT NULL,
  subtype GENERATED ALWAYS AS (${spelled('subtype_code', SUBTYPES)}) VIRTUAL`;

/**
 * A code's name. SQLite computes a table's VIRTUAL columns at every insert too, and a CASE of one WHEN per
 * name compared a name not listed with each of them (all 39 subtypes: ~1 µs of CPU per row measured on log
 * rows of an unlisted subtype, the ingest bench's): such a name (text or bytes, which SQLite orders after any
 * number) goes first, at one comparison.
 */
function spelled(column: string, names: readonly string[]): string {
  return `CASE WHEN ${column} >= ${names.length} THEN CAST(${column} AS TEXT) ELSE CASE ${column} ${names.map((n, i) => `WHEN ${i} THEN '${n}'`).join(' ')} ELSE CAST(${column} AS TEXT) END END`;
}

/** `type_code = 0 AND subtype_code IN (1, 2)`: rows of these kinds, in what a query filters on (codes, literal). */
export function kindIs(type: TypeName | readonly TypeName[], subtype?: SubtypeName | readonly SubtypeName[], alias = ''): string {
  const at = alias ? `${alias}.` : '';
  const term = (column: string, names: string | readonly string[], codes: Map<string, bigint>) =>
    typeof names === 'string' ? `${at}${column} = ${codes.get(names)}` : `${at}${column} IN (${names.map((n) => codes.get(n)).join(', ')})`;
  return subtype === undefined ? term('type_code', type, TYPE_CODES) : `${term('type_code', type, TYPE_CODES)} AND ${term('subtype_code', subtype, SUBTYPE_CODES)}`;
}

/** The type a `type_code` value stands for (a code as read, or the name itself). */
export function typeName(code: number | bigint | string | Buffer): string {
  return typeof code === 'number' || typeof code === 'bigint' ? TYPES[Number(code)]! : code.toString('utf8');
}

/** Functions for SQL that code a file's rows (the rebuild of a file of an earlier layout): the writer's own. */
export function registerKindCoders(db: Database.Database): void {
  db.function('type_code_of', { deterministic: true }, (name: unknown) => typeCode(String(name)));
  db.function('subtype_code_of', { deterministic: true }, (name: unknown) => subtypeCode(String(name)));
}
