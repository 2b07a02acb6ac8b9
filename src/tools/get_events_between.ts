import { z } from 'zod';
import { eventView, renderEvent } from '../query/events.js';
import { iso } from '../query/format.js';
import { actor, moduleName, optional, paged, pagedAnswer, ROWS } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { moment, parseSpan } from './moment.js';
import { pageOf, text } from './output.js';
import { paging } from '../query/page.js';

const TYPES = 'call, message, state, http, log, process, worker, child, error, agent, object';

export const get_events_between = defineTool({
  name: 'get_events_between',
  title: 'Every recorded event in a time window',
  description:
    'Every recorded event between two moments, oldest first, one line each: time, actor, type/subtype, the other actor of a message, a short payload, and its call, message or request id. Filter by type, actor and module; paged.',
  annotations: READ_ONLY,
  schema: {
    start: moment('Start (inclusive)'),
    end: moment('End (inclusive)'),
    type: z.string().min(1).optional().describe(`Only this type (${TYPES}) or type/subtype (call/throw)`),
    pid_string: optional(actor('Only events of this actor')),
    module_name: optional(moduleName),
    ...paged(),
  },
  output: pageOf('events', { start: text, end: text }),
  async handler(args, ctx) {
    // A list read as one type would match nothing and be answered as "none recorded".
    if (args.type && /[\s,|]/.test(args.type)) throw new Error(`type takes one type or type/subtype (${TYPES}), got a list "${args.type}": ask once per type, or leave type out for every type`);
    const [sinceMs, untilMs] = parseSpan(['start', args.start], ['end', args.end]);
    const window = { sinceMs, untilMs };
    const page = paging(args.page, args.limit ?? ROWS);
    const actor = args.pid_string ? ctx.resolveActor(args.pid_string).id : undefined;
    const actors = actor ? ctx.query.actorFamily(actor) : undefined;
    const { events, total, more, types } = ctx.query.eventsBetween({ window, type: args.type, actors, module: args.module_name }, page);
    const filters = [args.type ? `type ${args.type}` : '', actor ? `by ${actor}` : '', args.module_name ? `module ${args.module_name}` : ''].filter(Boolean).join(', ');
    const head = `Events from ${iso(sinceMs)} to ${iso(untilMs)}${filters ? ` (${filters})` : ''}`;
    return pagedAnswer(
      { page, shown: events.length, total, more },
      {
        head: `${head}: ${more ? 'more than ' : ''}${total}`,
        lines: () => events.map(renderEvent),
        empty: () => {
          const type = args.type?.split('/')[0];
          const hint = type && !types.includes(type) ? `no ${type} events are recorded at all; recorded types: ${types.join(', ') || 'none'}` : 'widen the window or drop a filter';
          return `${head}: none; ${hint}.`;
        },
        data: { start: iso(sinceMs), end: iso(untilMs), events: events.map(eventView) },
      },
    );
  },
});
