// Actors and call sites stored as small integers (store layout 4). An event's actor is stored as `actor_code`,
// its place in `actor_codes` (the first actor seen is 0, the next 1, …: 0 and 1 take no bytes in an SQLite
// record); a call's (module, fn) as `site`, its place in `site_codes`. `actor`, `k_module` and `k_fn` are
// VIRTUAL columns that spell them back through functions of the connection (actor_name, site_module,
// site_fn), and so do `ref`, `corr` and `payload`, which are spelled from them. What a query filters, groups
// or orders on names the codes (`actor_code = ?`, bound from Store.actorCode): SQLite counts a query that
// names a generated column as reading every column of the table, so only a query on the codes is served by
// an index alone. Codes are never deleted or reused: a file keeps the codes it was written with.
// Measured on the storage bench (realistic mix): see bench/README.md, "Bytes on disk: actors and call sites
// stored as codes".
//
// A connection spells the codes it knows; the writer's connection knows every code it gave. Another
// connection (the reader of a file the writer thread writes) learns a code when a query names it
// (Store.actorCode, on its own connection, before the statement runs) or, for a code it meets while a
// statement runs (a function of the connection cannot run a statement on it), from a second read-only
// connection to the same file: it sees every code committed, and a code is committed with the first rows that
// use it.
import Database from 'better-sqlite3';
import { ownerOf } from './coded_columns.js';
import { kindIs } from './kinds.js';

export const NAME_TABLES = `
CREATE TABLE IF NOT EXISTS actor_codes (code INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS site_codes (code INTEGER PRIMARY KEY, module TEXT NOT NULL, fn TEXT NOT NULL, UNIQUE (module, fn));
CREATE TABLE IF NOT EXISTS wall_offsets (code INTEGER PRIMARY KEY, offset REAL NOT NULL UNIQUE);`;

/** The column definitions of `actor_code` and `actor`. */
export const ACTOR_COLUMNS = `actor_code INTEGER NOT NULL,
  actor GENERATED ALWAYS AS (actor_name(actor_code)) VIRTUAL`;

/**
 * An HTTP response has no call site: its `site` holds its status (store layout 5; a column of its own before,
 * and every row paid a byte of the record's header for it). Queries name `site` (events_http_status is on it).
 */
const RESPONSES = kindIs('http', 'response');

/**
 * The column definitions of `site`, `k_module`, `k_fn` and `k_status`: the names of the rows that have a site (calls and
 * their ends, and the agent's reports of what it traced: '' when a row has none), NULL on every other row
 * (read without calling a function).
 */
export const SITE_COLUMNS = `site INTEGER,
  k_module GENERATED ALWAYS AS (CASE WHEN site IS NOT NULL AND NOT (${RESPONSES}) THEN site_module(site) END) VIRTUAL,
  k_fn GENERATED ALWAYS AS (CASE WHEN site IS NOT NULL AND NOT (${RESPONSES}) THEN site_fn(site) END) VIRTUAL,
  k_status GENERATED ALWAYS AS (CASE WHEN ${RESPONSES} THEN site END) VIRTUAL`;

/**
 * The column definitions of `wall` and `wall_ms` (store layout 5). An event's wall time is its clock's offset
 * plus its ts_ns (wall_ms = offset + ts_ns / 1e6, as ingest computes it: src/trace/rows.ts), and the offset
 * is the same for every event of a host's clock until it drifts: `wall` stores its place in `wall_offsets`
 * (0 and 1 take no bytes in a record, a REAL 8) and `wall_ms` computes it back, the same double arithmetic,
 * so the same value. A wall time given with no offset, or one the sum does not give back exactly, is stored
 * as its REAL. (No type: a REAL in an INTEGER column that holds a whole number would read as a code.)
 */
export const WALL_COLUMNS = `wall NOT NULL,
  wall_ms GENERATED ALWAYS AS (CASE typeof(wall) WHEN 'integer' THEN wall_offset(wall) + ts_ns / 1e6 ELSE wall END) VIRTUAL`;

/** The functions that spell actor and site codes, on a connection to a file of layout 4 (every code read now). */
export function spellCodes(db: Database.Database): void {
  const actors = new Map(db.prepare('SELECT code, id FROM actor_codes').raw().all() as [number, string][]);
  const sites = new Map((db.prepare('SELECT code, module, fn FROM site_codes').raw().all() as [number, string, string][]).map(([c, m, f]) => [c, [m, f]]));
  db.function('actor_name', { deterministic: true }, (code: unknown) => actors.get(Number(code)) ?? null);
  db.function('site_module', { deterministic: true }, (code: unknown) => sites.get(Number(code))?.[0] ?? null);
  db.function('site_fn', { deterministic: true }, (code: unknown) => sites.get(Number(code))?.[1] ?? null);
}

/** The codes of a store's connection, both ways. */
export class Names {
  private readonly actorCodes = new Map<string, bigint>();
  private readonly actorIds: (string | undefined)[] = [];
  private readonly siteCodes = new Map<string, Map<string, bigint>>();
  private readonly sites: ([string, string] | undefined)[] = [];
  private readonly wallCodes = new Map<number, bigint>();
  private readonly offsets: (number | undefined)[] = [];
  /** Codes given in the transaction under way: forgotten if it fails (their rows are not written). */
  private readonly given: { actor?: string; site?: [string, string]; offset?: number; code: number }[] = [];
  private readonly findActor: Database.Statement;
  private readonly findSite: Database.Statement;
  private readonly giveActor: Database.Statement;
  private readonly giveSite: Database.Statement;
  private readonly findOffset: Database.Statement;
  private readonly giveOffset: Database.Statement;
  private lookup: Database.Database | undefined;

  /** `path`: the file, for the codes met while a statement runs (none for a store in memory: one connection). */
  constructor(
    private readonly db: Database.Database,
    private readonly path: string | undefined,
    writable: boolean,
  ) {
    db.function('actor_name', { deterministic: true }, (code: unknown) => this.actorId(Number(code)));
    db.function('site_module', { deterministic: true }, (code: unknown) => this.site(Number(code))[0]);
    db.function('site_fn', { deterministic: true }, (code: unknown) => this.site(Number(code))[1]);
    db.function('wall_offset', { deterministic: true }, (code: unknown) => this.offset(Number(code)));
    db.function('actor_owner', { deterministic: true }, (code: unknown) => ownerOf(this.actorId(Number(code))));
    this.findActor = db.prepare('SELECT code FROM actor_codes WHERE id = ?').pluck().safeIntegers();
    this.findSite = db.prepare('SELECT code FROM site_codes WHERE module = ? AND fn = ?').pluck().safeIntegers();
    // (The next code is one more than the largest: codes start at 0, which INTEGER PRIMARY KEY would not give.)
    this.giveActor = writable ? db.prepare('INSERT INTO actor_codes (code, id) SELECT coalesce(max(code) + 1, 0), ? FROM actor_codes RETURNING code').pluck().safeIntegers() : this.findActor;
    this.giveSite = writable ? db.prepare('INSERT INTO site_codes (code, module, fn) SELECT coalesce(max(code) + 1, 0), ?, ? FROM site_codes RETURNING code').pluck().safeIntegers() : this.findSite;
    this.findOffset = db.prepare('SELECT code FROM wall_offsets WHERE offset = ?').pluck().safeIntegers();
    this.giveOffset = writable ? db.prepare('INSERT INTO wall_offsets (code, offset) SELECT coalesce(max(code) + 1, 0), ? FROM wall_offsets RETURNING code').pluck().safeIntegers() : this.findOffset;
  }

  /** What `wall` stores for a wall time computed as `offset` + ts_ns / 1e6 (inside the writer's transaction). */
  wall(wallMs: number, tsNs: number, offset: number | undefined): bigint | number {
    if (offset === undefined || offset + tsNs / 1e6 !== wallMs) return wallMs;
    const known = this.wallCodes.get(offset);
    if (known !== undefined) return known;
    let code = this.findOffset.get(offset) as bigint | undefined;
    if (code === undefined) {
      code = this.giveOffset.get(offset) as bigint;
      this.given.push({ offset, code: Number(code) });
    }
    this.knowOffset(Number(code), offset);
    return code;
  }

  /** An actor's code, given one if it has none yet (`give`, inside the writer's transaction); else null. */
  actorCode(id: string, give = false): bigint | null {
    const known = this.actorCodes.get(id);
    if (known !== undefined) return known;
    let code = this.findActor.get(id) as bigint | undefined;
    if (code === undefined && give) {
      code = this.giveActor.get(id) as bigint;
      this.given.push({ actor: id, code: Number(code) });
    }
    if (code === undefined) return null;
    this.actorCodes.set(id, code);
    this.actorIds[Number(code)] = id;
    return code;
  }

  /** A site's code, given one if it has none yet (`give`); else null. */
  siteCode(module: string, fn: string, give = false): bigint | null {
    const known = this.siteCodes.get(module)?.get(fn);
    if (known !== undefined) return known;
    let code = this.findSite.get(module, fn) as bigint | undefined;
    if (code === undefined && give) {
      code = this.giveSite.get(module, fn) as bigint;
      this.given.push({ site: [module, fn], code: Number(code) });
    }
    if (code === undefined) return null;
    let byFn = this.siteCodes.get(module);
    if (byFn === undefined) this.siteCodes.set(module, (byFn = new Map()));
    byFn.set(fn, code);
    this.sites[Number(code)] = [module, fn];
    return code;
  }

  /** Every code in the file, known from now on (after codes were given in SQL: the rebuild of an older file). */
  loadAll(): void {
    for (const { code, id } of this.db.prepare('SELECT code, id FROM actor_codes').all() as { code: number; id: string }[]) this.knowActor(code, id);
    for (const { code, module, fn } of this.db.prepare('SELECT code, module, fn FROM site_codes').all() as { code: number; module: string; fn: string }[]) this.knowSite(code, module, fn);
    for (const { code, offset } of this.db.prepare('SELECT code, offset FROM wall_offsets').all() as { code: number; offset: number }[]) this.knowOffset(code, offset);
  }

  /** The transaction that gave codes was committed. */
  committed(): void {
    this.given.length = 0;
  }

  /** The transaction that gave codes failed: they were not written. */
  rolledBack(): void {
    for (const g of this.given) {
      if (g.actor !== undefined) {
        this.actorCodes.delete(g.actor);
        this.actorIds[g.code] = undefined;
      } else if (g.offset !== undefined) {
        this.wallCodes.delete(g.offset);
        this.offsets[g.code] = undefined;
      } else {
        this.siteCodes.get(g.site![0])?.delete(g.site![1]);
        this.sites[g.code] = undefined;
      }
    }
    this.given.length = 0;
  }

  close(): void {
    this.lookup?.close();
  }

  private actorId(code: number): string {
    let id = this.actorIds[code];
    if (id === undefined) {
      this.learn();
      id = this.actorIds[code];
      if (id === undefined) throw new Error(`nodescope: no actor of code ${code} in this store`);
    }
    return id;
  }

  private site(code: number): [string, string] {
    let site = this.sites[code];
    if (site === undefined) {
      this.learn();
      site = this.sites[code];
      if (site === undefined) throw new Error(`nodescope: no call site of code ${code} in this store`);
    }
    return site;
  }

  private offset(code: number): number {
    let offset = this.offsets[code];
    if (offset === undefined) {
      this.learn();
      offset = this.offsets[code];
      if (offset === undefined) throw new Error(`nodescope: no wall clock offset of code ${code} in this store`);
    }
    return offset;
  }

  /** Every code committed, read from a connection of its own (a statement of this one is running). */
  private learn(): void {
    if (this.path === undefined) return;
    this.lookup ??= new Database(this.path, { readonly: true, fileMustExist: true });
    for (const { code, id } of this.lookup.prepare('SELECT code, id FROM actor_codes').all() as { code: number; id: string }[]) this.knowActor(code, id);
    for (const { code, module, fn } of this.lookup.prepare('SELECT code, module, fn FROM site_codes').all() as { code: number; module: string; fn: string }[]) this.knowSite(code, module, fn);
    for (const { code, offset } of this.lookup.prepare('SELECT code, offset FROM wall_offsets').all() as { code: number; offset: number }[]) this.knowOffset(code, offset);
  }

  private knowOffset(code: number, offset: number): void {
    this.offsets[code] = offset;
    this.wallCodes.set(offset, BigInt(code));
  }

  private knowActor(code: number, id: string): void {
    this.actorIds[code] = id;
    this.actorCodes.set(id, BigInt(code));
  }

  private knowSite(code: number, module: string, fn: string): void {
    this.sites[code] = [module, fn];
    let byFn = this.siteCodes.get(module);
    if (byFn === undefined) this.siteCodes.set(module, (byFn = new Map()));
    byFn.set(fn, BigInt(code));
  }
}
