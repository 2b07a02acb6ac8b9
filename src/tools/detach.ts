import { defineTool } from './define.js';

export const detach = defineTool({
  name: 'detach',
  title: 'Detach from every traced process',
  description:
    'Removes the agent and every patch from every traced thread, closes inspector ports nodescope opened, and disconnects; the programs keep running unchanged. What was recorded stays queryable.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  schema: {},
  async handler(_args, ctx) {
    const { detached } = await ctx.detach();
    const text = detached.length === 0 ? 'Nothing was attached.' : `Detached from pid ${detached.join(', ')}. The recorded trace stays queryable.`;
    return { text, data: { detached } };
  },
});
