import { z } from 'zod';
import { callView, renderCall } from '../query/calls.js';
import { paging } from '../query/page.js';
import { renderStats, timingNotes } from '../query/perf.js';
import { describeWindow } from '../query/time.js';
import { actor, listRequest, moduleName, optional, paged, pagedAnswer, requestId, window } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { noCallsError } from './modules.js';
import { pageOf } from './output.js';

export const get_function_calls = defineTool({
  name: 'get_function_calls',
  title: 'Calls of a traced module',
  description:
    'Calls of a module traced with trace_module, oldest first: time, actor, function, arguments, result or error, duration, call id. Paged.',
  annotations: READ_ONLY,
  schema: {
    module_name: moduleName,
    function_name: z.string().min(1).optional().describe('Only this function or method (charge, Cart#add)'),
    pid_string: optional(actor('Only calls by this actor')),
    request_id: requestId,
    ...window,
    ...paged(),
  },
  output: pageOf('calls'),
  async handler(args, ctx) {
    const { window, page } = listRequest(args);
    const actor = args.pid_string ? ctx.resolveActor(args.pid_string).id : undefined;
    const actors = actor ? ctx.query.actorFamily(actor) : undefined;
    const { calls, total } = ctx.query.functionCalls({ module: args.module_name, fn: args.function_name, actors, corr: args.request_id, window }, page);
    const filters = `${args.function_name ? ` function ${args.function_name}` : ''}${actor ? ` by ${actor}` : ''}${args.request_id ? ` for request ${args.request_id}` : ''}${describeWindow(window)}`;
    const modules = [...new Set(calls.map((c) => c.module))];
    // A timing-only trace records no single call (nor its request): its sums per function stand in.
    const timings = args.request_id ? [] : ctx.query.functionTimings(args.module_name, window, { fn: args.function_name, actors });
    const timed = timings.length ? [`Timing-only sums of ${args.module_name}${filters}:`, ...timings.map(renderStats), ...timingNotes(timings)] : [];
    if (total === 0 && timed.length) return { text: timed.join('\n'), data: { calls: [], total: 0, page: page.page, timings } };
    return pagedAnswer(
      { page, shown: calls.length, total },
      {
        head: `Calls of ${args.module_name}${filters}: ${total} (module ${modules.join(', ')})`,
        lines: () => calls.map(renderCall),
        empty: () => {
          const any = ctx.query.functionCalls({ module: args.module_name, window: { sinceMs: null, untilMs: null } }, paging(1, 1)).total;
          if (any === 0) throw noCallsError(ctx, args.module_name);
          return `No calls of ${args.module_name} match${filters}; ${any} calls of it are recorded in all: widen the filters.`;
        },
        data: { calls: calls.map(callView), ...(timings.length ? { timings } : {}) },
        after: timed,
      },
    );
  },
});
