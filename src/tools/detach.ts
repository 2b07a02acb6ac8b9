import { ACTION, defineTool } from './define.js';
import { rows } from './output.js';

export const detach = defineTool({
  name: 'detach',
  title: 'Detach from everything',
  description: 'Removes every patch and closes inspector ports nodescope opened; the programs keep running, the recording stays queryable.',
  annotations: ACTION,
  schema: {},
  output: { detached: rows },
  async handler(_args, ctx) {
    const { detached } = await ctx.detach();
    const text = detached.length === 0 ? 'Nothing was attached.' : `Detached from pid ${detached.join(', ')}. The recorded trace stays queryable.`;
    return { text, data: { detached } };
  },
});
