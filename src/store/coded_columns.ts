// Columns stored coded and read as text. `ref` and `corr` are VIRTUAL generated columns (computed when read,
// and for the indexes on them when a row is written: an index keeps the text), computed from what a row stores:
// - `short_ref`: a call id `<actor>:c<n>` as n; a request id `<actor>:r<n>` as −n (n on an HTTP row; of a state snapshot, the
//   call of its object's thread, `<thread>:c<n>` for an actor `<thread>/o<k>`: store layout 5); a message's
//   id `<from>><to>#…` as a BLOB of what follows the pair (messageRef); anything else as its text.
// - `short_corr`: a request id `<pid>:r<n>` of the row's own process (the actor's first part) as n,
//   `<actor>:r<n>` as −n; anything else as its text.
// A value is coded only when its code spells it back exactly (the same text, character for character).
// Queries name ref and corr, generated columns, but none of them counts over an index: SQLite counts a query
// that names a generated column as using every column of the table, so no index can cover it
// (test/unit/key_plans.test.ts). Type and subtype are coded too, and queries name their codes (kinds.ts).
import type Database from 'better-sqlite3';
import { kindIs } from './kinds.js';

/**
 * The thread an object actor (`<thread>/o<k>`, src/agent/objects.ts) lives in, any other actor itself: a
 * snapshot's ref is the call of that thread that changed the object, stored as its number (−8 bytes a
 * snapshot on the storage bench's mix).
 */
export function ownerOf(actor: string): string {
  const m = OBJECT_ACTOR.exec(actor);
  return m === null ? actor : m[1]!;
}
const OBJECT_ACTOR = /^(.*)\/o[0-9]+$/s;

/** Whose call and request ids a row's ref is coded by (REF_COLUMNS): a snapshot's object's thread, else its actor. */
export function refOwner(type: string, actor: string): string {
  return type === 'state' ? ownerOf(actor) : actor;
}

/** The column definitions of `short_ref`, `ref`, `short_corr` and `corr`. */
export const REF_COLUMNS = `short_ref,
  ref GENERATED ALWAYS AS (CASE typeof(short_ref)
    WHEN 'integer' THEN iif(${kindIs('state')}, actor_owner(actor_code), actor)
      || CASE WHEN ${kindIs('http')} THEN ':r' || short_ref WHEN short_ref > 0 THEN ':c' || short_ref ELSE ':r' || -short_ref END
    WHEN 'blob' THEN from_actor || '>' || to_actor || CAST(short_ref AS TEXT)
    ELSE short_ref END) VIRTUAL,
  short_corr,
  corr GENERATED ALWAYS AS (CASE typeof(short_corr)
    WHEN 'integer' THEN iif(short_corr > 0, substr(actor, 1, instr(actor || '/', '/') - 1), actor) || ':r' || abs(short_corr)
    ELSE short_corr END) VIRTUAL`;

/** `n` when `s` is the decimal spelling of a whole number from 1 up (no sign, no leading zero) from `at` on. */
function counter(s: string, at: number): number | undefined {
  if (s.length - at > 15 || !(s.charCodeAt(at) >= 49 && s.charCodeAt(at) <= 57)) return undefined;
  let n = 0;
  for (let i = at; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n;
}

/** `<prefix>:<letter><n>` → n, when `s` is spelled so. */
function numbered(s: string, prefix: string, letter: number): number | undefined {
  const at = prefix.length;
  if (s.length < at + 3 || !s.startsWith(prefix) || s.charCodeAt(at) !== 58 || s.charCodeAt(at + 1) !== letter) return undefined;
  return counter(s, at + 2);
}

const C = 99; // 'c'
const R = 114; // 'r'

// Codes are bigints: better-sqlite3 binds a JS number as a REAL, which a column with no type keeps as one
// (8 bytes, and typeof 'real').

/** What `short_ref` stores for a row's ref (the writer's rule, and the rebuild's of an earlier layout's rows). */
export function storedRef(type: string, ref: string | null, actor: string, from: string | null, to: string | null): string | bigint | Buffer | null {
  if (type === 'message') return messageRef(ref, from, to);
  return type === 'http' ? httpRef(ref, actor) : shortRef(ref, refOwner(type, actor));
}

/**
 * An HTTP row's ref: a request id of its own actor `<actor>:r<n>` as n (store layout 5; −n before, which put
 * every new request at the start of events_http_request: its pages split half empty, 2.2 → 2.8 bytes an
 * event), anything else as its text.
 */
export function httpRef(ref: string | null, actor: string): string | bigint | null {
  if (ref === null) return null;
  const request = numbered(ref, actor, R);
  return request !== undefined ? BigInt(request) : ref;
}

/** A call id `<owner>:c<n>` as n, a request id `<owner>:r<n>` as −n, anything else as its text. */
export function shortRef(ref: string | null, owner: string): string | bigint | null {
  if (ref === null) return null;
  const call = numbered(ref, owner, C);
  if (call !== undefined) return BigInt(call);
  const request = numbered(ref, owner, R);
  return request !== undefined ? BigInt(-request) : ref;
}

/**
 * A message's ref, `<from>><to>#…` of its own pair, as a BLOB of what follows the pair, when `from` holds no
 * `>` and `to` no `#` (store layout 5: the ref alone then says where the pair ends, messageRefCodes); anything
 * else as its text. One value for a (ref, from, to): events_message_ref is read by `short_ref =
 * message_ref(:ref, :from, :to)`, a range in ts order (its text before: 5 → 3 bytes an event on the storage
 * bench's mix).
 */
export function messageRef(ref: string | null, from: string | null, to: string | null): string | Buffer | null {
  if (ref === null) return null;
  if (from === null || to === null || from.includes('>') || to.includes('#')) return ref;
  const at = from.length + 1 + to.length;
  if (ref.length > at && ref.startsWith(from) && ref.charCodeAt(from.length) === 62 && ref.startsWith(to, from.length + 1) && ref.charCodeAt(at) === 35) {
    return Buffer.from(ref.slice(at), 'utf8');
  }
  return ref;
}


/** What `short_corr` stores for a row's corr. */
export function shortCorr(corr: string | null, actor: string): string | bigint | null {
  if (corr === null) return null;
  const slash = actor.indexOf('/');
  const ofProcess = numbered(corr, slash < 0 ? actor : actor.slice(0, slash), R);
  if (ofProcess !== undefined) return BigInt(ofProcess);
  const ofActor = numbered(corr, actor, R);
  return ofActor !== undefined ? BigInt(-ofActor) : corr;
}

/**
 * Every `short_corr` a row with this corr can have, whatever its actor: for `<p>:r<n>`, n (a row of process
 * p), −n (a row of actor p) and the text; else the text (three times: one IN list for all).
 */
export function corrCodes(corr: string): [bigint | string, bigint | string, string] {
  const at = corr.lastIndexOf(':r');
  const n = at > 0 ? counter(corr, at + 2) : undefined;
  return n === undefined ? [corr, corr, corr] : [BigInt(n), BigInt(-n), corr];
}

/**
 * Functions for the queries of every connection: `message_ref(ref, from, to)`, what a message row of that pair
 * stores for that ref; `request_ref(ref, actor)`, what an HTTP row of that actor does.
 */
export function registerRefFunctions(db: Database.Database): void {
  const text = (v: unknown) => (v === null ? null : String(v));
  db.function('message_ref', { deterministic: true }, (ref: unknown, from: unknown, to: unknown) => messageRef(text(ref), text(from), text(to)));
  db.function('request_ref', { deterministic: true }, (ref: unknown, actor: unknown) => httpRef(text(ref), String(actor)));
}

/**
 * Functions for SQL that code a file's rows (the rebuild of a file written before these columns, in one
 * INSERT … SELECT): the same as the writer's.
 */
export function registerCoders(db: Database.Database): void {
  db.function('short_ref', { deterministic: true }, (ref: unknown, type: unknown, actor: unknown, from: unknown, to: unknown) =>
    storedRef(String(type), ref === null ? null : String(ref), String(actor), from === null ? null : String(from), to === null ? null : String(to)),
  );
  db.function('short_corr', { deterministic: true }, (corr: unknown, actor: unknown) => shortCorr(corr === null ? null : String(corr), String(actor)));
}
