import { z } from 'zod';
import { defineTool } from './define.js';

export const untrace_line = defineTool({
  name: 'untrace_line',
  title: 'Remove line probes',
  description:
    'Removes a probe set by trace_line (or all of them) from every thread: its breakpoints are gone when this answers. The hits recorded so far stay queryable with get_probe_hits. Without a probe id, lists and removes every probe.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  schema: {
    probe: z.string().min(1).optional().describe('The probe id trace_line answered (p1); omit to remove every probe.'),
  },
  async handler({ probe }, ctx) {
    const removed = await ctx.untraceLine(probe);
    const text = removed.length === 0
      ? 'No probe was set.'
      : [`Removed ${removed.map((p) => p.id).join(', ')}:`, ...removed.map((p) => `- ${p.id} at ${p.file}:${p.line}: ${p.hits} hits${p.stopped ? `, had stopped: ${p.stopped}` : ''}`)].join('\n');
    return { text, data: { removed } };
  },
});
