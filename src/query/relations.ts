// Who an actor is related to: its parent and children (the actors table), and the actors it exchanged
// messages with, counted in each direction from its own rows (sends are recorded by the sender, receipts by
// the receiver, so both directions come from the actor's part of a pair index).
import { kindIs } from '../store/kinds.js';
import type { ActorRow, Store } from '../store/store.js';

export interface Partner {
  actor: string;
  /** Messages this actor sent to the partner. */
  sent: number;
  /** Messages this actor received from the partner. */
  received: number;
}

export interface Relationships {
  actor: ActorRow;
  parent: ActorRow | null;
  children: ActorRow[];
  partners: Partner[];
}

export function relationships(store: Store, actor: ActorRow): Relationships {
  const children = store.db.prepare('SELECT * FROM actors WHERE parent = ? AND id <> parent ORDER BY started_ms, id').all(actor.id) as ActorRow[];
  // Each direction counted on its pair index alone (events_send_pair, events_receive_pair): through
  // (actor, ts_ns) every row of the thread was read (260 ms on 1 M events).
  const counts = store.db
    .prepare(
      `SELECT 'send' AS subtype, to_actor AS other, count(*) AS n FROM events INDEXED BY events_send_pair
       WHERE ${kindIs('message', 'send')} AND actor = :a GROUP BY to_actor
       UNION ALL
       SELECT 'receive', from_actor, count(*) FROM events INDEXED BY events_receive_pair
       WHERE ${kindIs('message', 'receive')} AND actor = :a GROUP BY from_actor`,
    )
    .all({ a: actor.id }) as { subtype: string; other: string | null; n: number }[];
  const partners = new Map<string, Partner>();
  for (const c of counts) {
    const id = c.other ?? '?';
    const p = partners.get(id) ?? { actor: id, sent: 0, received: 0 };
    if (c.subtype === 'send') p.sent += c.n;
    else p.received += c.n;
    partners.set(id, p);
  }
  return {
    actor,
    parent: actor.parent && actor.parent !== actor.id ? (store.actor(actor.parent) ?? null) : null,
    children,
    partners: [...partners.values()].sort((a, b) => b.sent + b.received - (a.sent + a.received) || a.actor.localeCompare(b.actor)),
  };
}
