// Small pieces every read query shares: the stored row shape, SQL fragments and actor families.
import type { ActorRow, Store, StoredEvent } from '../store/store.js';

/** A stored event row as the queries select it (all columns). */
export type Row = StoredEvent;

export const ROW_COLUMNS = 'id, ts_ns, wall_ms, type, subtype, actor, from_actor, to_actor, corr, ref, payload';

/** `:p0, :p1, …` for an IN list, with the matching named parameters. */
export function inList<V = string>(prefix: string, values: readonly V[]): { sql: string; params: Record<string, V> } {
  const params: Record<string, V> = {};
  values.forEach((v, i) => (params[`${prefix}${i}`] = v));
  return { sql: values.map((_, i) => `:${prefix}${i}`).join(', '), params };
}

/** An escaped LIKE pattern piece (with ESCAPE '\'): file names are full of `_`. */
export function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** What a query binds to compare with `actor_code`, for each actor (src/store/names.ts; null: no events). */
export function actorCodes(store: Store, ids: readonly string[]): (bigint | null)[] {
  return ids.map((id) => store.actorCode(id));
}

/**
 * An actor and the tracked objects it owns: a thread's own events are recorded under its id, its objects'
 * method calls, emits and snapshots under theirs (docs/events.md).
 */
export function actorFamily(store: Store, id: string): string[] {
  const owned = store.db.prepare("SELECT id FROM actors WHERE parent = ? AND kind = 'object' ORDER BY id").all(id) as { id: string }[];
  return [id, ...owned.map((r) => r.id)];
}

export interface ObjectInfo {
  class: string | null;
  path: string | null;
}

/** The `info` JSON of an actor row (`{"class":"Cart","path":"globalThis.cart"}` for tracked objects). */
export function objectInfo(actor: ActorRow | undefined): ObjectInfo {
  if (!actor?.info) return { class: null, path: null };
  try {
    const info = JSON.parse(actor.info) as Record<string, unknown>;
    return { class: typeof info.class === 'string' ? info.class : null, path: typeof info.path === 'string' ? info.path : null };
  } catch {
    return { class: null, path: null };
  }
}

/** `4242/o1 "cart" (Cart)`, `4242/w1 "pricing"`, `4242`: an id other tools accept, with what helps a reader. */
export function actorLabel(store: Store, id: string): string {
  const a = store.actor(id);
  if (!a) return id;
  const name = a.name ? ` "${a.name}"` : '';
  const cls = a.kind === 'object' ? objectInfo(a).class : null;
  return `${id}${name}${cls ? ` (${cls})` : ''}`;
}

/** Milliseconds with three significant digits: 0.0123, 1.23, 123, 1230. */
export function ms(value: number): string {
  return String(Number(value.toPrecision(3)));
}

/**
 * How many events the store counted (actor_counts: kept as it writes and prunes, by actor, type and subtype)
 * match `where` on those three columns: a count without reading the events. Undefined on a file opened
 * read-only from a version before the counts.
 */
export function countedEvents(store: Store, where: string, params: Record<string, unknown>): number | undefined {
  if (store.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'actor_counts'").get() === undefined) return undefined;
  return (store.db.prepare(`SELECT coalesce(sum(n), 0) AS n FROM actor_counts WHERE ${where}`).get(params) as { n: number }).n;
}
