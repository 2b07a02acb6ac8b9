import { MAX_PROFILE_MS } from '../trace/profile.js';
import { actor, duration, readDuration } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { count, number, rows, text } from './output.js';

/** Fewer than ~100 samples (one per ms) say nothing about where the time goes. */
const MIN_PROFILE_MS = 100;

export const cpu_profile = defineTool({
  name: 'cpu_profile',
  title: "Sample a thread's CPU for a while",
  description:
    "Runs V8's sampling profiler on one thread for a bounded time and answers the top functions by self and total time (a function V8 inlined is counted in its caller). The full profile is saved as a .cpuprofile file (opens in Chrome DevTools) whose path is returned. Sends progress notifications while it runs.",
  annotations: READ_ONLY,
  schema: {
    pid_string: actor('The thread to profile'),
    duration: duration(`How long to sample (default 2s, max ${MAX_PROFILE_MS / 1000}s)`, 'auto'),
  },
  output: { actor: text, file: text, duration_ms: number, samples: count, top_self: rows, top_total: rows },
  async handler({ pid_string, duration }, ctx, progress) {
    const actor = ctx.resolveActor(pid_string);
    const ms = readDuration('duration', duration, 'auto', { default: 2_000, min: MIN_PROFILE_MS, max: MAX_PROFILE_MS });
    const p = await ctx.cpuProfile(actor.id, ms, progress);
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
