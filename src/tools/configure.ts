import { z } from 'zod';
import { parseRetention } from '../config.js';
import { LEVELS } from '../shared/protocol.js';
import { ACTION, defineTool } from './define.js';
import { count, object, text } from './output.js';

export const configure = defineTool({
  name: 'configure',
  title: 'Change what is recorded, while tracing runs',
  description:
    'Changes the tracing level, the sampling rate, the event cap, per-type retention or HTTP capture (web) at run time, in every traced thread and for threads that appear later; answers the configuration now in force. Critical events (spawn, exit, crash) are never sampled.',
  annotations: ACTION,
  schema: {
    tracing_level: z.enum(LEVELS).optional().describe(`${LEVELS.join(', ')}: what is recorded from now on.`),
    sample_rate: z.number().min(0).max(1).optional().describe('Share of non-critical events kept, 0 to 1.'),
    max_events: z.number().int().positive().optional().describe('Events kept; the oldest are pruned first.'),
    retention: z.string().optional().describe('Per-type retention, e.g. "call=10m,log=1h"; merged with what is set.'),
    web: z.boolean().optional().describe('true: record HTTP server and client requests (node:http, fetch) and ws messages, with a request id per incoming request, from now on; false: stop.'),
  },
  output: { tracing_level: text, sample_rate: z.number(), max_events: count, retention: object, web: z.boolean(), events: count },
  async handler({ tracing_level, sample_rate, max_events, retention, web }, ctx) {
    const now = await ctx.configure({ level: tracing_level, sampleRate: sample_rate, maxEvents: max_events, retention: retention === undefined ? undefined : parseRetention(retention), web });
    const kept = Object.entries(now.retention).map(([t, ms]) => `${t} ${ms / 1000} s`).join(', ') || 'everything until max_events';
    return {
      text: `Now: tracing_level ${now.tracing_level}, sample_rate ${now.sample_rate}, max_events ${now.max_events}, retention: ${kept}, web ${now.web ? 'on' : 'off'}. ${now.events} events stored.`,
      data: { ...now },
    };
  },
});
