import type { ActorRow } from '../store/store.js';
import { actor as actorArg } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { count, object, rows } from './output.js';

/** Children and partners listed per answer. */
const MAX_ROWS = 50;

export const process_relationships = defineTool({
  name: 'process_relationships',
  title: 'Parent, children and message partners of an actor',
  description:
    'Answers how an actor relates to the others: its parent, its children (worker threads, child processes, tracked objects) with their status, and the actors it exchanged messages with, counted in each direction.',
  annotations: READ_ONLY,
  schema: {
    pid_string: actorArg(),
  },
  output: { actor: object, parent: object.nullable(), children: rows, partners: rows, total_children: count, total_partners: count },
  async handler(args, ctx) {
    const actor = ctx.resolveActor(args.pid_string);
    const r = ctx.query.relationships(actor);
    const label = (a: ActorRow) => `${ctx.query.actorLabel(a.id)} ${a.kind}, ${a.status}`;
    const children = r.children.slice(0, MAX_ROWS);
    const partners = r.partners.slice(0, MAX_ROWS);
    const text = [
      `Relationships of ${label(actor)}`,
      `parent: ${r.parent ? label(r.parent) : 'none recorded'}`,
      ...(children.length ? [`children (${r.children.length}):`, ...children.map((c) => `  ${label(c)}`)] : ['children: none']),
      ...(r.children.length > MAX_ROWS ? [`  …${r.children.length - MAX_ROWS} more: get_supervision_tree lists them`] : []),
      ...(partners.length
        ? [`messages exchanged with (${r.partners.length}):`, ...partners.map((p) => `  ${ctx.query.actorLabel(p.actor)}: ${p.sent} sent to it, ${p.received} received from it`)]
        : ['messages exchanged: none recorded']),
      ...(r.partners.length > MAX_ROWS ? [`  …${r.partners.length - MAX_ROWS} more`] : []),
      ...(partners.length ? ['get_message_flow lists the messages between two of them.'] : []),
    ].join('\n');
    const view = (a: ActorRow) => ({ id: a.id, kind: a.kind, name: a.name, status: a.status });
    return {
      text,
      data: { actor: view(actor), parent: r.parent ? view(r.parent) : null, children: children.map(view), partners, total_children: r.children.length, total_partners: r.partners.length },
    };
  },
});
