import { z } from 'zod';
import { DEFAULT_TRACE_LIMITS } from '../trace/tracer.js';
import { packageBins } from '../trace/module_names.js';
import type { ModuleReport } from '../agent/modules.js';
import { duration, readDuration } from './args.js';
import { ACTION, defineTool, ToolError } from './define.js';
import { rows, text } from './output.js';

/** The longest a trace may run unattended. */
const MAX_TRACE_MS = 24 * 3_600_000;

/** What mechanism costs per call (bench/README.md), for the answers. */
const MECHANISM_COST: Record<string, string> = {
  wrappers: 'wrappers on the exports (~1 µs per call)',
  'live-edit': 'instrumented in place by a live edit (~1 µs per call; every reference, results and errors included)',
  breakpoints: 'conditional breakpoints (~0.1 ms per call, arguments only, rate-limited)',
};

/** The same for timing only. */
const TIMING_COST: Record<string, string> = {
  ...MECHANISM_COST,
  wrappers: 'wrappers on the exports (~0.1 µs per call)',
  'live-edit': 'instrumented in place by a live edit (~0.1 µs per call; every reference)',
  breakpoints: 'conditional breakpoints: they see a call start, never its end, so nothing is timed for these',
};

/** One trace as list_traces and untrace_module print it. */
export function describeTrace(actor: string, r: ModuleReport) {
  return { actor, module: r.module, resolved: r.resolved, via: r.via ?? r.status, capture: r.capture === 'timing' ? 'timing only' : 'arguments and results', calls: r.calls ?? 0, stopped: r.stopped ?? null, limits: r.limits ? describeLimits(r.limits) : 'default', functions: [...r.functions, ...r.methods] };
}

/** A module with no function to wrap: no getter is run to look but esbuild's (tsx's), which only read a binding. */
const NOTHING_WRAPPED = 'no exported function it can wrap (an export read through a getter is looked at only when the getter just reads a binding, as esbuild and tsx write them)';

/** Timing only costs ~0.1 µs a call and sends no event per call: no call limits unless asked for. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

function describeLimits({ maxCalls, maxPerSecond, durationMs }: { maxCalls: number; maxPerSecond: number; durationMs: number }): string {
  const calls = maxCalls >= UNLIMITED ? 'no call limit' : `${maxCalls} calls`;
  return `${calls}${maxPerSecond >= UNLIMITED ? '' : `, ${maxPerSecond}/s`}, ${durationMs / 1000} s`;
}

/** A package named by its name is its main module: its command-line scripts are others, said so. */
function binsNote(name: string, resolved: string | null | undefined): string[] {
  const bins = resolved ? packageBins(name, resolved) : [];
  if (bins.length === 0) return [];
  return [`That is the main module of the package ${name}; its command-line script (${bins.join(', ')}) is another module: give its path to trace it.`];
}

export const trace_module = defineTool({
  name: 'trace_module',
  title: "Start tracing a module's functions",
  description:
    "Records every call of a module's exported functions and methods (CJS, ESM, TypeScript) in every thread, now and later, until its limits.",
  annotations: ACTION,
  schema: {
    module_name: z.string().min(1).describe('Path from the cwd or main script (src/pay.ts), basename, package or file URL'),
    function_names: z.string().optional().describe('More functions, unexported too, comma-separated; * for all'),
    max_calls: z.number().int().positive().optional().describe(`Stop after this many calls (default ${DEFAULT_TRACE_LIMITS.maxCalls})`),
    max_rate: z.number().int().positive().optional().describe(`Stop past this many calls/s (default ${DEFAULT_TRACE_LIMITS.maxPerSecond})`),
    duration_s: duration(`Stop after this long (default ${DEFAULT_TRACE_LIMITS.durationMs / 1000}s)`, 's'),
    capture: z.enum(['args', 'timing']).optional().describe('args (default), or timing: counts and durations only, no call limits'),
  },
  output: { module: text, threads: rows },
  async handler({ module_name, function_names, max_calls, max_rate, duration_s, capture }, ctx) {
    const functions = function_names?.split(',').map((f) => f.trim()).filter(Boolean);
    const timing = capture === 'timing';
    const spec = {
      module: module_name,
      ...(functions?.length ? { functions } : {}),
      ...(timing ? { capture: 'timing' as const } : {}),
      maxCalls: max_calls ?? (timing ? UNLIMITED : DEFAULT_TRACE_LIMITS.maxCalls),
      maxPerSecond: max_rate ?? (timing ? UNLIMITED : DEFAULT_TRACE_LIMITS.maxPerSecond),
      durationMs: readDuration('duration_s', duration_s, 's', { default: DEFAULT_TRACE_LIMITS.durationMs, min: 1, max: MAX_TRACE_MS }),
    };
    const threads = await ctx.traceModule(spec);
    const said = threads.map(({ actor, value: r }): [string, string] => {
      const what = [...r.functions, ...r.methods];
      // A note already says which function went which way, what each costs, and what it misses.
      if (r.status === 'traced' && r.note) return [actor, r.note];
      if (r.status === 'traced' && what.length === 0) return [actor, NOTHING_WRAPPED];
      if (r.status === 'traced') return [actor, `${what.join(', ')} — ${(r.capture === 'timing' ? TIMING_COST : MECHANISM_COST)[r.via ?? 'wrappers']}`];
      return [actor, `${r.status}${r.note ? ` — ${r.note}` : ''}`];
    });
    // Threads that answered alike (a pool's workers, the processes that have not loaded it) share a line.
    const byAnswer = new Map<string, string[]>();
    for (const [actor, answer] of said) byAnswer.set(answer, [...(byAnswer.get(answer) ?? []), actor]);
    const lines = [...byAnswer].map(([answer, actors]) => `- ${actors.join(', ')}: ${answer}`);
    // Every process traced so far has ended: the trace waits for the next one, as for a thread to come.
    if (threads.length === 0) lines.push('- no thread is running now: traced in the processes and threads launched or attached later');
    // A trace that wraps no function records nothing: not a success.
    const traced = threads.length === 0 || threads.some((t) => (t.value.status === 'traced' && t.value.functions.length + t.value.methods.length > 0) || t.value.status === 'pending');
    const resolved = threads.find((t) => t.value.resolved)?.value.resolved;
    const text = [
      `trace_module ${module_name}${resolved ? ` (${resolved})` : ''}:`,
      ...lines,
      ...binsNote(module_name, resolved),
      ...(timing ? ['Timing only: calls, errors and durations per function are summed in the target and sent each second (a hot function timed on a sample of its calls); arguments and results are not recorded.'] : []),
      `Limits: ${describeLimits(spec)}; the trace stops itself when one trips (an agent/trace_stopped event says why).`,
      ...(threads.some((t) => t.value.via === 'wrappers' && !t.value.note) ? ['Wrappers miss calls through references taken before tracing began (a destructured require) and calls inside the module.'] : []),
      traced
        ? `Next: ${timing ? 'performance_analysis' : 'get_function_calls'}(module_name: "${module_name}").`
        : resolved
          ? 'Nothing could be traced; trace_line still reaches its lines.'
          : 'Nothing could be traced; check the path (relative to the target\'s working directory).',
    ].join('\n');
    // An answer that traced nothing is a failure: `nodescope call` exits non-zero, a client sees isError.
    if (!traced) throw new ToolError(text);
    // Per thread what differs: its status and what it wraps, not the module's name and path again.
    const view = threads.map(({ actor, value: { module: _m, resolved: _r, ...rest } }) => ({ actor, ...rest }));
    const { module: _, ...limits } = spec;
    return { text, data: { module: module_name, resolved: resolved ?? null, limits, threads: view } };
  },
});
