import { z } from 'zod';
import { DEFAULT_TRACE_LIMITS } from '../trace/tracer.js';
import { defineTool } from './define.js';

export const trace_module = defineTool({
  name: 'trace_module',
  title: 'Start tracing a module\'s functions',
  description:
    'Records every call of a CommonJS module\'s exported functions and of its exported classes\' methods, in every thread of the traced family: arguments, return value (for a promise, its resolution or rejection), thrown error, duration and calling actor. Works for modules already loaded and modules loaded later. The trace stops itself at its limits and records why. Then ask get_function_calls.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  schema: {
    module_name: z.string().min(1).describe('A path relative to the target\'s working directory ("./src/payments.js"), a package name ("express"), or a file:// URL.'),
    max_calls: z.number().int().positive().optional().describe(`Stop after this many calls (default ${DEFAULT_TRACE_LIMITS.maxCalls}).`),
    max_rate: z.number().int().positive().optional().describe(`Stop if more calls than this arrive within one second (default ${DEFAULT_TRACE_LIMITS.maxPerSecond}).`),
    duration_s: z.number().positive().optional().describe(`Stop after this many seconds (default ${DEFAULT_TRACE_LIMITS.durationMs / 1000}).`),
  },
  async handler({ module_name, max_calls, max_rate, duration_s }, ctx) {
    const spec = {
      module: module_name,
      maxCalls: max_calls ?? DEFAULT_TRACE_LIMITS.maxCalls,
      maxPerSecond: max_rate ?? DEFAULT_TRACE_LIMITS.maxPerSecond,
      durationMs: duration_s !== undefined ? duration_s * 1000 : DEFAULT_TRACE_LIMITS.durationMs,
    };
    const threads = await ctx.traceModule(spec);
    const lines = threads.map(({ actor, value: r }) => {
      const what = [...r.functions, ...r.methods];
      if (r.status === 'traced' && r.via === 'breakpoints') return `- ${actor}: breakpoints on ${what.join(', ') || '(no exported functions found)'} — ${r.note}`;
      if (r.status === 'traced') return `- ${actor}: wrapped ${what.length ? what.join(', ') : '(no exported functions)'}`;
      return `- ${actor}: ${r.status}${r.note ? ` — ${r.note}` : ''}`;
    });
    const traced = threads.some((t) => t.value.status === 'traced' || t.value.status === 'pending');
    const resolved = threads.find((t) => t.value.resolved)?.value.resolved;
    const text = [
      `trace_module ${module_name}${resolved ? ` (${resolved})` : ''}:`,
      ...lines,
      `Limits: ${spec.maxCalls} calls, ${spec.maxPerSecond}/s, ${spec.durationMs / 1000} s; the trace stops itself when one trips (an agent/trace_stopped event says why).`,
      'Not captured: calls through references taken before tracing began (e.g. a destructured import), and calls inside the module that do not go through its exports.',
      traced ? `Next: get_function_calls(module_name: "${module_name}").` : 'Nothing could be traced; check the path (relative to the target\'s working directory).',
    ].join('\n');
    return { text, data: { module: module_name, resolved: resolved ?? null, limits: spec, threads: threads.map((t) => ({ actor: t.actor, ...t.value })) } };
  },
});
