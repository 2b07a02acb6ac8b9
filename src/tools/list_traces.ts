import { defineTool, READ_ONLY } from './define.js';
import { describeTrace } from './trace_module.js';

export const list_traces = defineTool({
  name: 'list_traces',
  title: 'List the active traces',
  description: 'Every active trace_module trace, per thread: the file it resolved to, the mechanism (wrappers, live-edit, breakpoints), its limits and calls so far, or why it stopped.',
  annotations: READ_ONLY,
  schema: {},
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
