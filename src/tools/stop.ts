import { z } from 'zod';
import { ACTION, defineTool } from './define.js';
import { count, maybeText } from './output.js';

export const stop = defineTool({
  name: 'stop',
  title: 'Stop tracing and clean up',
  description:
    'Stops tracing everything: every patch and agent removed, inspector ports nodescope opened closed, child processes no longer followed, and a persisted trace file checkpointed so it is complete on its own. The programs keep running; the recorded trace stays queryable.',
  annotations: ACTION,
  schema: {},
  output: { detached: z.array(z.number().int()), events: count, file: maybeText },
  async handler(_args, ctx) {
    const r = await ctx.stop();
    const what = r.detached.length ? `Stopped tracing pid ${r.detached.join(', ')}.` : 'Nothing was being traced.';
    return { text: `${what} ${r.events} events recorded${r.file ? ` in ${r.file}` : ' (not persisted)'}; they stay queryable.`, data: { ...r } };
  },
});
