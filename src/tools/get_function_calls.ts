import { z } from 'zod';
import { callView, renderCall } from '../query/calls.js';
import { checkPage, footer, paging } from '../query/page.js';
import { describeWindow, parseWindow } from '../query/time.js';
import { limit, page, since, until } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { noCallsError } from './modules.js';

export const get_function_calls = defineTool({
  name: 'get_function_calls',
  title: 'Recorded calls of a traced module',
  description:
    'Lists the recorded calls of a module traced with trace_module, oldest first: time, calling actor, function, arguments, return value or thrown error, duration, and the call id. Filter by function, actor and time window; paged.',
  annotations: READ_ONLY,
  schema: {
    module_name: z.string().min(1).describe('The module as traced: a package name (express), a path (./src/payments.js, or just payments.js) or a file URL'),
    function_name: z.string().min(1).optional().describe('Only calls of this exported function or method (charge, or Cart#add)'),
    pid_string: z.string().min(1).optional().describe('Only calls made by this actor: an id from any tool (4242, 4242/w1, 4242/o3), a bare OS pid or a name; a thread includes the objects it owns'),
    request_id: z.string().min(1).optional().describe('Only calls made while serving this HTTP request: its id from get_http_requests (4242:r1)'),
    since,
    until,
    page,
    limit,
  },
  async handler(args, ctx) {
    const window = parseWindow(args.since, args.until);
    const p = paging(args.page, args.limit);
    const actor = args.pid_string ? ctx.resolveActor(args.pid_string).id : undefined;
    const actors = actor ? ctx.query.actorFamily(actor) : undefined;
    const { calls, total } = ctx.query.functionCalls({ module: args.module_name, fn: args.function_name, actors, corr: args.request_id, window }, p);
    const filters = `${args.function_name ? ` function ${args.function_name}` : ''}${actor ? ` by ${actor}` : ''}${args.request_id ? ` for request ${args.request_id}` : ''}${describeWindow(window)}`;
    if (total === 0) {
      const any = ctx.query.functionCalls({ module: args.module_name, window: { sinceMs: null, untilMs: null } }, paging(1, 1)).total;
      if (any === 0) throw noCallsError(ctx, args.module_name);
      return {
        text: `No calls of ${args.module_name} match${filters}; ${any} calls of it are recorded in all: widen the filters.`,
        data: { calls: [], total: 0, page: p.page },
      };
    }
    checkPage(p, total);
    const modules = [...new Set(calls.map((c) => c.module))];
    const text = [
      `Calls of ${args.module_name}${filters}: ${total} (module ${modules.join(', ')})`,
      ...calls.map(renderCall),
      footer(p, total, calls.length),
    ].join('\n');
    return { text, data: { calls: calls.map(callView), total, page: p.page } };
  },
});
