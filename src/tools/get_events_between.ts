import { z } from 'zod';
import { eventView, renderEvent } from '../query/events.js';
import { iso } from '../query/format.js';
import { checkPage, footer, paging } from '../query/page.js';
import { limit, page } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { moment, parseSpan } from './moment.js';

export const get_events_between = defineTool({
  name: 'get_events_between',
  title: 'Every recorded event in a time window',
  description:
    'Lists every recorded event between two moments, oldest first, one line each: time, actor, type/subtype, the other actor of a message, a short payload, and its call, message or request id. Filter by type, actor and module; paged. For one kind of question, the narrower tools answer better.',
  annotations: READ_ONLY,
  schema: {
    start: moment('Start of the window (inclusive)'),
    end: moment('End of the window (inclusive)'),
    type: z.string().min(1).optional().describe('Only this type (call, message, state, http, log, process, worker, child, error, agent, object) or type/subtype (call/throw, http/response, log/error)'),
    pid_string: z.string().min(1).optional().describe('Only events recorded by this actor: an id from any tool (4242, 4242/w1, 4242/o3), a bare OS pid or a name; a thread includes the objects it owns'),
    module_name: z.string().min(1).optional().describe('Only events naming this module (calls, trace start): a package name, a path (./src/payments.js, or payments.js) or a file URL'),
    page,
    limit,
  },
  async handler(args, ctx) {
    const [sinceMs, untilMs] = parseSpan(['start', args.start], ['end', args.end]);
    const window = { sinceMs, untilMs };
    const p = paging(args.page, args.limit);
    const actor = args.pid_string ? ctx.resolveActor(args.pid_string).id : undefined;
    const actors = actor ? ctx.query.actorFamily(actor) : undefined;
    const { events, total, types } = ctx.query.eventsBetween({ window, type: args.type, actors, module: args.module_name }, p);
    const filters = [args.type ? `type ${args.type}` : '', actor ? `by ${actor}` : '', args.module_name ? `module ${args.module_name}` : ''].filter(Boolean).join(', ');
    const head = `Events from ${iso(sinceMs)} to ${iso(untilMs)}${filters ? ` (${filters})` : ''}`;
    const data = { start: iso(sinceMs), end: iso(untilMs), events: events.map(eventView), total, page: p.page };
    if (total === 0) {
      const type = args.type?.split('/')[0];
      const hint = type && !types.includes(type) ? `no ${type} events are recorded at all; recorded types: ${types.join(', ') || 'none'}` : 'widen the window or drop a filter';
      return { text: `${head}: none; ${hint}.`, data };
    }
    checkPage(p, total);
    return { text: [`${head}: ${total}`, ...events.map(renderEvent), footer(p, total, events.length)].join('\n'), data };
  },
});
