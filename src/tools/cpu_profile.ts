import { z } from 'zod';
import { MAX_PROFILE_MS } from '../trace/profile.js';
import { defineTool } from './define.js';

export const cpu_profile = defineTool({
  name: 'cpu_profile',
  title: 'Sample a thread\'s CPU for a while',
  description:
    'Runs V8\'s sampling profiler on one thread for a bounded time and answers the top functions by self and total time (a function V8 inlined is counted in its caller). The full profile is saved as a .cpuprofile file (opens in Chrome DevTools) whose path is returned. Sends progress notifications while it runs.',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  schema: {
    pid_string: z.string().min(1).describe('The thread to profile: "4242", "4242/w1", a bare pid or a name.'),
    duration: z.number().positive().max(MAX_PROFILE_MS / 1000).optional().describe(`Seconds to sample (default 2, at most ${MAX_PROFILE_MS / 1000}).`),
  },
  async handler({ pid_string, duration }, ctx, progress) {
    const actor = ctx.resolveActor(pid_string);
    const p = await ctx.cpuProfile(actor.id, (duration ?? 2) * 1000, progress);
    const row = (f: { function: string; url: string; line: number; self_ms: number; total_ms: number; self_pct: number }) =>
      `  ${f.function} ${f.url ? `(${f.url.replace(/^file:\/\//, '')}:${f.line})` : ''} — self ${f.self_ms} ms (${f.self_pct}%), total ${f.total_ms} ms`;
    const text = [
      `CPU profile of ${actor.id}: ${p.duration_ms} ms, ${p.samples} samples. Saved to ${p.file}`,
      'Top by self time:',
      ...p.top_self.map(row),
      'Top by total time:',
      ...p.top_total.slice(0, 5).map(row),
    ].join('\n');
    return { text, data: { actor: actor.id, ...p } };
  },
});
