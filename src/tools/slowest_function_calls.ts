import { z } from 'zod';
import { callView, renderCall } from '../query/calls.js';
import { paging } from '../query/page.js';
import { maxOf, timingNotes } from '../query/perf.js';
import { ms } from '../query/rows.js';
import { describeWindow, parseWindow } from '../query/time.js';
import { moduleName, optional, window } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { noCallsError } from './modules.js';
import { maybeText, rows } from './output.js';

export const slowest_function_calls = defineTool({
  name: 'slowest_function_calls',
  title: 'The slowest recorded calls',
  description:
    'Lists the slowest completed calls of traced modules, slowest first: time, calling actor, function with arguments, return value or thrown error, duration and call id. Optionally for one module and a time window.',
  annotations: READ_ONLY,
  schema: {
    limit: z.number().int().min(1).optional().describe('How many calls (default 10, max 200)'),
    module_name: optional(moduleName),
    ...window,
  },
  output: { calls: rows, module: maybeText },
  async handler(args, ctx) {
    const window = parseWindow(args.since, args.until);
    const { limit } = paging(1, args.limit ?? 10);
    const calls = ctx.query.slowestCalls({ module: args.module_name, window }, limit);
    const what = `${args.module_name ? ` of ${args.module_name}` : ''}${describeWindow(window)}`;
    // Timing-only traces have no single calls to list: their slowest is each function's max.
    const timings = ctx.query.functionTimings(args.module_name, window).filter((s) => s.max_ms !== null).sort((a, b) => b.max_ms! - a.max_ms!).slice(0, limit);
    const timed = timings.length
      ? [`Slowest of timing-only traces${what}, by max:`, ...timings.map((s) => `${s.module} ${s.fn}: max ${maxOf(s)} ms, p95 ~${ms(s.p95_ms!)} ms, ${s.calls} calls${s.timed === undefined ? '' : ` (${s.timed} timed)`}`), ...timingNotes(timings)]
      : [];
    const data = { calls: calls.map(callView), module: args.module_name ?? null, ...(timings.length ? { timings } : {}) };
    if (calls.length === 0 && timed.length) return { text: timed.join('\n'), data };
    if (calls.length === 0) {
      if (args.module_name && ctx.query.functionCalls({ module: args.module_name, window: { sinceMs: null, untilMs: null } }, paging(1, 1)).total === 0) {
        throw noCallsError(ctx, args.module_name);
      }
      const none = ctx.query.modulesWithCalls(1).length === 0;
      return { text: none ? 'No calls recorded yet: call trace_module first, then exercise the program.' : `No completed calls${what}: widen the window.`, data };
    }
    return { text: [`Slowest calls${what}: ${calls.length}`, ...calls.map(renderCall), ...timed].join('\n'), data };
  },
});
