import { z } from 'zod';
import { DEFAULT_PROBE_LIMITS, type ProbeInfo } from '../trace/probes.js';
import { readDuration } from './args.js';
import { ACTION, defineTool, ToolError } from './define.js';
import { object } from './output.js';

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

/** "hits=100 rate=1 burst=5 for=15m budget=15ms", any of them, in any order → the probe's limits. */
export function readLimits(text: string | undefined): typeof d {
  const limits = { ...d };
  for (const part of (text ?? '').split(/[\s,;]+/).filter(Boolean)) {
    const m = /^(hits|rate|burst|for|budget)=(.+)$/.exec(part);
    if (!m) throw new ToolError(`limits: "${part.slice(0, 40)}" is not one of hits=N, rate=N, burst=N, for=DURATION, budget=MS`);
    const [, key, value] = m;
    if (key === 'for') limits.durationMs = readDuration('limits for', value, 's', { default: d.durationMs, min: 1, max: 24 * 3_600_000 });
    else {
      const n = Number(value!.replace(/ms$|\/s$/, ''));
      if (!(n > 0)) throw new ToolError(`limits: ${key} wants a positive number, got "${value!.slice(0, 20)}"`);
      if (key === 'hits') limits.maxHits = Math.floor(n);
      if (key === 'rate') limits.perSecond = n;
      if (key === 'burst') limits.burst = Math.floor(n);
      if (key === 'budget') limits.budgetMs = n;
    }
  }
  return limits;
}

export const trace_line = defineTool({
  name: 'trace_line',
  title: 'Probe a source line without pausing',
  description:
    'Non-pausing tracepoint or logpoint at a source line (TypeScript too) in every thread running it: each hit records locals, closure, this, captured values, stack, request id. About 1 hit/s; side-effect-free expressions only.',
  annotations: ACTION,
  schema: {
    file: z.string().min(1).describe('Source file: src/pay.ts, pay.ts, absolute path or file URL'),
    line: z.number().int().positive().describe('Line number (1-based)'),
    condition: z.string().min(1).optional().describe('Record only when this expression is truthy (total < 0)'),
    capture: z.array(z.string().min(1)).max(10).optional().describe('Expressions to record too (order.total)'),
    log: z.string().min(1).optional().describe('Logpoint message with {expression} placeholders'),
    limits: z.string().optional().describe(`e.g. "hits=${d.maxHits} rate=${d.perSecond} burst=${d.burst} for=${d.durationMs / 60_000}m budget=${d.budgetMs}ms" (the defaults)`),
  },
  output: { probe: object },
  async handler(args, ctx) {
    const limits = readLimits(args.limits);
    const p = await ctx.traceLine({ file: args.file, line: args.line, condition: args.condition, capture: args.capture, log: args.log, limits });
    const moved = p.line !== args.line ? ` (line ${args.line} has no code)` : '';
    const text = [
      `Probe ${p.id} at ${p.file}:${p.line}${moved}${p.condition ? ` when ${p.condition}` : ''}${p.log ? `, logging "${p.log}"` : ''}:`,
      ...describeProbe(p),
      `Each hit records the locals and closure variables in scope, this, the source-mapped stack and the request id${p.capture.length ? `, and ${p.capture.join(', ')}` : ''}.`,
      `Next: exercise the program, then get_probe_hits(probe: "${p.id}"); untrace(probe: "${p.id}") removes it.`,
    ].join('\n');
    return { text, data: { probe: p } };
  },
});
