import { ESTIMATED_NOTE, renderStats, timingNotes } from '../query/perf.js';
import { describeWindow, parseWindow } from '../query/time.js';
import { moduleName, window } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { noCallsError } from './modules.js';
import { count, rows, text } from './output.js';

/** Functions listed per answer, by total time; a module exports rarely more. */
const MAX_FUNCTIONS = 50;

export const performance_analysis = defineTool({
  name: 'performance_analysis',
  title: 'Call statistics per function of a traced module',
  description:
    'Answers per function of a module traced with trace_module: calls, errors (throws), calls still running, and durations in ms (total, mean, p50, p95, max), from the recorded calls and their returns or throws; the function with the most total time first. Time window.',
  annotations: READ_ONLY,
  schema: {
    module_name: moduleName,
    ...window,
  },
  output: { module: text, functions: rows, total_functions: count.optional() },
  async handler(args, ctx) {
    const window = parseWindow(args.since, args.until);
    const stats = ctx.query.performanceAnalysis(args.module_name, window);
    if (stats.length === 0) {
      if (ctx.query.performanceAnalysis(args.module_name, { sinceMs: null, untilMs: null }).length === 0) throw noCallsError(ctx, args.module_name);
      return { text: `No calls of ${args.module_name}${describeWindow(window)}: widen the window.`, data: { module: args.module_name, functions: [] } };
    }
    const modules = [...new Set(stats.map((s) => s.module))];
    const shown = stats.slice(0, MAX_FUNCTIONS);
    const calls = stats.reduce((n, s) => n + s.calls, 0);
    const text = [
      `Performance of ${args.module_name}${describeWindow(window)}: ${calls} call${calls === 1 ? '' : 's'} of ${stats.length} function${stats.length === 1 ? '' : 's'} (module ${modules.join(', ')})`,
      ...shown.map(renderStats),
      ...(stats.length > shown.length ? [`…${stats.length - shown.length} more functions with less total time`] : []),
      ...timingNotes(shown),
      ...(shown.some((s) => s.estimated) ? [ESTIMATED_NOTE] : []),
      ...(shown.every((s) => s.timing_only) ? [] : ['get_function_calls lists the calls of one function; slowest_function_calls the slowest ones.']),
    ].join('\n');
    return { text, data: { module: args.module_name, functions: shown, total_functions: stats.length } };
  },
});
