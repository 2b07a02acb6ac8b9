import { defineTool, READ_ONLY } from './define.js';
import { rows } from './output.js';
import { describeTrace } from './trace_module.js';

export const list_traces = defineTool({
  name: 'list_traces',
  title: 'Active traces',
  description: 'Active module traces per thread: file, mechanism, limits, calls so far, or why stopped.',
  annotations: READ_ONLY,
  schema: {},
  output: { traces: rows },
  async handler(_args, ctx) {
    const traces = await ctx.traces();
    if (traces.length === 0) return { text: 'No trace is active. Start one with trace_module.', data: { traces: [] } };
    const rows = traces.map((t) => describeTrace(t.actor, t.value));
    const text = rows
      .map((r) => `- ${r.module} in ${r.actor}: ${r.via}, ${r.calls} calls${r.stopped ? `, stopped (${r.stopped})` : ''}; limits ${r.limits}${r.resolved ? `; ${r.resolved}` : ''}`)
      .join('\n');
    return { text: `Active traces (${rows.length}):\n${text}\nStop one with untrace_module.`, data: { traces: rows } };
  },
});
