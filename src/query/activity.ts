// What one actor did, counted: the summary trace_process and trace_named_process answer with.
import type { ActorRow, Store } from '../store/store.js';

export interface Activity {
  actor: ActorRow;
  counts: Record<string, number>;
  first: string | null;
  last: string | null;
  /** Tracked objects owned by this thread. */
  objects: { id: string; name: string | null }[];
}

export function actorActivity(store: Store, actor: ActorRow): Activity {
  const counted = store.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'actor_counts'").get() !== undefined;
  const counts: Record<string, number> = {};
  let first = Infinity;
  let last = -Infinity;
  if (counted) {
    // Kept by the store as it writes and prunes; first and last are two probes of (actor, ts_ns).
    const rows = store.db.prepare('SELECT type, subtype, n FROM actor_counts WHERE actor = ? ORDER BY type, subtype').all(actor.id) as { type: string; subtype: string; n: number }[];
    for (const r of rows) counts[`${r.type}/${r.subtype}`] = r.n;
    const edge = (order: string) => (store.db.prepare(`SELECT wall_ms FROM events WHERE actor_code = ? ORDER BY ts_ns ${order}, id ${order} LIMIT 1`).get(store.actorCode(actor.id)) as { wall_ms: number } | undefined)?.wall_ms;
    first = edge('ASC') ?? Infinity;
    last = edge('DESC') ?? -Infinity;
  } else {
    // A file written before the counts existed, opened read-only.
    const rows = store.db
      .prepare(
        `SELECT type || '/' || subtype AS kind, count(*) AS n, min(wall_ms) AS first, max(wall_ms) AS last
         FROM events WHERE actor_code = ? GROUP BY type, subtype ORDER BY type, subtype`,
      )
      .all(store.actorCode(actor.id)) as { kind: string; n: number; first: number; last: number }[];
    for (const r of rows) {
      counts[r.kind] = r.n;
      first = Math.min(first, r.first);
      last = Math.max(last, r.last);
    }
  }
  const objects = store.db.prepare(`SELECT id, name FROM actors WHERE parent = ? AND kind = 'object' ORDER BY id`).all(actor.id) as { id: string; name: string | null }[];
  const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
  return { actor, counts, first: iso(first), last: iso(last), objects };
}

export function renderActivity(a: Activity): string {
  const what = Object.entries(a.counts).map(([k, n]) => `${k} ×${n}`).join(', ') || 'nothing yet';
  const objects = a.objects.length ? `\nTracked objects: ${a.objects.map((o) => `${o.id}${o.name ? ` "${o.name}"` : ''}`).join(', ')}` : '';
  return `${a.actor.id} ${a.actor.kind}${a.actor.name ? ` "${a.actor.name}"` : ''} — ${a.actor.status}\nRecorded: ${what}${a.first ? ` (${a.first} … ${a.last})` : ''}${objects}`;
}
