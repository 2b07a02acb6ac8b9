import { z } from 'zod';
import { DEFAULT_TRACE_LIMITS } from '../trace/tracer.js';
import type { ModuleReport } from '../agent/modules.js';
import { defineTool, ToolError } from './define.js';

/** What mechanism costs per call (bench/README.md), for the answers. */
const MECHANISM_COST: Record<string, string> = {
  wrappers: 'wrappers on the exports (~1 µs per call)',
  'live-edit': 'instrumented in place by a live edit (~1 µs per call; every reference, results and errors included)',
  breakpoints: 'conditional breakpoints (~0.1 ms per call, arguments only, rate-limited)',
};

/** One trace as list_traces and untrace_module print it. */
export function describeTrace(actor: string, r: ModuleReport) {
  const limits = r.limits ? `${r.limits.maxCalls} calls, ${r.limits.maxPerSecond}/s, ${r.limits.durationMs / 1000} s` : 'default';
  return { actor, module: r.module, resolved: r.resolved, via: r.via ?? r.status, calls: r.calls ?? 0, stopped: r.stopped ?? null, limits, functions: [...r.functions, ...r.methods] };
}

export const trace_module = defineTool({
  name: 'trace_module',
  title: 'Start tracing a module\'s functions',
  description:
    'Records every call of a module\'s exported functions and of its exported classes\' methods (CommonJS, ES modules, TypeScript), in every thread of the traced family: arguments, return value (for a promise, its resolution or rejection), thrown error, duration and calling actor. Works for modules already loaded and modules loaded later. The trace stops itself at its limits and records why. Then ask get_function_calls.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  schema: {
    module_name: z.string().min(1).describe('The module as you would name it: a path relative to the target\'s working directory or main script ("src/payments.ts"), a unique basename of a loaded module ("payments.cjs"), an absolute path, a file:// URL, or a package name ("express").'),
    function_names: z.string().optional().describe('Comma-separated functions to trace besides the exports, non-exported ones included ("applyCoupon,Cart#total"); ES modules only.'),
    max_calls: z.number().int().positive().optional().describe(`Stop after this many calls (default ${DEFAULT_TRACE_LIMITS.maxCalls}).`),
    max_rate: z.number().int().positive().optional().describe(`Stop if more calls than this arrive within one second (default ${DEFAULT_TRACE_LIMITS.maxPerSecond}).`),
    duration_s: z.number().positive().optional().describe(`Stop after this many seconds (default ${DEFAULT_TRACE_LIMITS.durationMs / 1000}).`),
  },
  async handler({ module_name, function_names, max_calls, max_rate, duration_s }, ctx) {
    const functions = function_names?.split(',').map((f) => f.trim()).filter(Boolean);
    const spec = {
      module: module_name,
      ...(functions?.length ? { functions } : {}),
      maxCalls: max_calls ?? DEFAULT_TRACE_LIMITS.maxCalls,
      maxPerSecond: max_rate ?? DEFAULT_TRACE_LIMITS.maxPerSecond,
      durationMs: duration_s !== undefined ? duration_s * 1000 : DEFAULT_TRACE_LIMITS.durationMs,
    };
    const threads = await ctx.traceModule(spec);
    const lines = threads.map(({ actor, value: r }) => {
      const what = [...r.functions, ...r.methods];
      if (r.status === 'traced') return `- ${actor}: ${what.length ? what.join(', ') : '(no exported functions)'} — ${MECHANISM_COST[r.via ?? 'wrappers']}${r.note && r.via !== 'wrappers' ? `; ${r.note}` : ''}`;
      return `- ${actor}: ${r.status}${r.note ? ` — ${r.note}` : ''}`;
    });
    const traced = threads.some((t) => t.value.status === 'traced' || t.value.status === 'pending');
    const resolved = threads.find((t) => t.value.resolved)?.value.resolved;
    const text = [
      `trace_module ${module_name}${resolved ? ` (${resolved})` : ''}:`,
      ...lines,
      `Limits: ${spec.maxCalls} calls, ${spec.maxPerSecond}/s, ${spec.durationMs / 1000} s; the trace stops itself when one trips (an agent/trace_stopped event says why).`,
      ...(threads.some((t) => t.value.via === 'wrappers') ? ['Wrappers miss calls through references taken before tracing began (a destructured require) and calls inside the module.'] : []),
      traced ? `Next: get_function_calls(module_name: "${module_name}").` : 'Nothing could be traced; check the path (relative to the target\'s working directory).',
    ].join('\n');
    // An answer that traced nothing is a failure: `nodescope call` exits non-zero, a client sees isError.
    if (!traced) throw new ToolError(text);
    return { text, data: { module: module_name, resolved: resolved ?? null, limits: spec, threads: threads.map((t) => ({ actor: t.actor, ...t.value })) } };
  },
});
