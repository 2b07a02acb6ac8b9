import { z } from 'zod';
import { ACTION, defineTool } from './define.js';
import { rows } from './output.js';
import { describeTrace } from './trace_module.js';

export const untrace_module = defineTool({
  name: 'untrace_module',
  title: 'Stop tracing a module',
  description: "Stops a trace_module trace in every thread: the target's functions are the originals again. The recording stays queryable.",
  annotations: ACTION,
  schema: {
    module_name: z.string().min(1).describe('The module, spelled as for trace_module'),
  },
  output: { stopped: rows, active: rows },
  async handler({ module_name }, ctx) {
    const stopped = await ctx.untraceModule(module_name);
    const left = await ctx.traces();
    const text = [
      stopped.length === 0 ? `${module_name}: nothing was traced in a live thread.` : `Stopped ${module_name} in ${stopped.map((s) => `${s.actor} (${s.value.calls ?? 0} calls)`).join(', ')}.`,
      left.length === 0 ? 'No trace is active now.' : `Still traced: ${[...new Set(left.map((t) => t.value.module))].join(', ')}.`,
    ].join('\n');
    return { text, data: { stopped: stopped.map((s) => ({ actor: s.actor, module: s.value.module, calls: s.value.calls ?? 0 })), active: left.map((t) => describeTrace(t.actor, t.value)) } };
  },
});
