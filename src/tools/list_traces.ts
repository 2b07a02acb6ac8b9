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
    // trace_line's probes: listed with the module traces, removed with untrace_line.
    const probes = ctx.probes().filter((p) => p.state === 'active');
    if (traces.length === 0 && probes.length === 0) return { text: 'No trace is active. Start one with trace_module or trace_line.', data: { traces: [], probes: [] } };
    const rows = traces.map((t) => describeTrace(t.actor, t.value));
    const text = rows
      .map((r) => `- ${r.module} in ${r.actor}: ${r.via}, ${r.calls} calls${r.stopped ? `, stopped (${r.stopped})` : ''}; limits ${r.limits}${r.resolved ? `; ${r.resolved}` : ''}`)
      .join('\n');
    const probeText = probes.map((p) => `- probe ${p.id} at ${p.file}:${p.line}${p.condition ? ` when ${p.condition}` : ''} in ${p.sites.map((s) => `${s.actor} (${s.state})`).join(', ') || 'no thread yet'}: conditional breakpoint, ${p.hits} hits; limits ${p.limits.perSecond}/s (burst ${p.limits.burst}), ${p.limits.maxHits} hits, ${p.limits.durationMs / 1000} s`);
    const parts = [...(rows.length ? [`Active traces (${rows.length}):`, text, 'Stop one with untrace_module.'] : []), ...(probes.length ? [`Active probes (${probes.length}):`, ...probeText, 'Remove one with untrace_line.'] : [])];
    return { text: parts.join('\n'), data: { traces: rows, probes } };
  },
});
