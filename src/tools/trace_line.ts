import { z } from 'zod';
import { DEFAULT_PROBE_LIMITS, type ProbeInfo } from '../trace/probes.js';
import { defineTool } from './define.js';

const d = DEFAULT_PROBE_LIMITS;

/** The lines every probe answer shares: where it is, how, its limits and what went wrong. */
export function describeProbe(p: ProbeInfo): string[] {
  const l = p.limits;
  const sites = p.sites.length
    ? p.sites.map((s) => `- ${s.actor}: ${s.state === 'waiting for the script' ? 'waiting for the script to load' : `breakpoint at ${s.url.replace(/^file:\/\//, '')}:${s.line}:${s.column}`} (${s.state}${s.stopped ? `: ${s.stopped}` : ''})`)
    : ['- no thread has loaded it yet: set in every thread that loads it'];
  return [
    ...sites,
    `Limits: ${l.perSecond} hit/s (burst ${l.burst}), the line's condition run at most ${l.evalsPerSecond}/s, ${l.globalPerSecond} hits/s per thread over all probes, ${l.maxHits} hits, ${l.durationMs / 1000} s, ${l.budgetMs} ms capture budget per hit.`,
    `Mechanism: ${p.mechanism}.`,
    ...p.rejected.map((r) => `Not captured (a probe must not change the program): ${r.expression} — ${r.reason}.`),
    ...p.errors.map((e) => `Failed in ${e.actor}: ${e.expression} — ${e.error}.`),
  ];
}

export const trace_line = defineTool({
  name: 'trace_line',
  title: 'Probe a source line without pausing',
  description:
    'Sets a probe (a non-pausing tracepoint or logpoint) at a line of the program, in every thread and process of the traced family that runs the file, now and later: each time the line runs and the optional condition holds, it records the local and closure variables in scope, `this`, the values of the named expressions, the stack (in the original source when there is a source map: TypeScript lines work) and the request id. The program never stops. Rate-limited like production tools (about 1 hit/s with a burst of 5 by default; on a line that runs all the time, one hit every 2–16 s, since each arming of its breakpoint costs the function its optimized code); the probe stops itself at its limits. Expressions must be side-effect free (no assignments, ++, delete, new, or calls other than reading methods): others are refused. Then ask get_probe_hits; remove with untrace_line.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  schema: {
    file: z.string().min(1).describe('The source file as a person names it: "src/payments.ts", "payments.ts", "./lib/cart.js", an absolute path or a file:// URL. TypeScript files are mapped through source maps (tsc output with .map files, tsx) or run as is (Node\'s type stripping).'),
    line: z.number().int().positive().describe('Line number in that file (1-based); a line without code moves to the next one that has some.'),
    condition: z.string().min(1).optional().describe('Record only when this JavaScript expression, evaluated at the line with its variables, is truthy ("total < 0"). One that throws counts as false and is reported.'),
    capture: z.array(z.string().min(1)).max(10).optional().describe('Expressions whose values each hit records as well ("order.total", "user.id").'),
    log: z.string().min(1).optional().describe('Logpoint: a message recorded with each hit, with {expression} placeholders ("total {total} for {order.id}").'),
    max_hits: z.number().int().positive().optional().describe(`Stop after this many hits in a thread (default ${d.maxHits}).`),
    rate: z.number().positive().optional().describe(`Hits recorded per second, sustained (default ${d.perSecond}).`),
    burst: z.number().int().positive().optional().describe(`Hits that may come at once before the rate applies (default ${d.burst}).`),
    duration_s: z.number().positive().optional().describe(`Stop after this many seconds (default ${d.durationMs / 1000}).`),
    budget_ms: z.number().positive().optional().describe(`Capture time per hit; values past it are cut (default ${d.budgetMs}).`),
  },
  async handler(args, ctx) {
    const limits = {
      ...d,
      ...(args.max_hits !== undefined ? { maxHits: args.max_hits } : {}),
      ...(args.rate !== undefined ? { perSecond: args.rate } : {}),
      ...(args.burst !== undefined ? { burst: args.burst } : {}),
      ...(args.duration_s !== undefined ? { durationMs: args.duration_s * 1000 } : {}),
      ...(args.budget_ms !== undefined ? { budgetMs: args.budget_ms } : {}),
    };
    const p = await ctx.traceLine({ file: args.file, line: args.line, condition: args.condition, capture: args.capture, log: args.log, limits });
    const moved = p.line !== args.line ? ` (line ${args.line} has no code)` : '';
    const text = [
      `Probe ${p.id} at ${p.file}:${p.line}${moved}${p.condition ? ` when ${p.condition}` : ''}${p.log ? `, logging "${p.log}"` : ''}:`,
      ...describeProbe(p),
      `Each hit records the locals and closure variables in scope, this, the source-mapped stack and the request id${p.capture.length ? `, and ${p.capture.join(', ')}` : ''}.`,
      `Next: exercise the program, then get_probe_hits(probe: "${p.id}"); untrace_line(probe: "${p.id}") removes it.`,
    ].join('\n');
    return { text, data: { probe: p } };
  },
});
