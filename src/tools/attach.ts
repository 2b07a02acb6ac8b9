import { z } from 'zod';
import { renderTree } from '../query/tree.js';
import { ACTION, defineTool } from './define.js';
import { count, rows, text, treeView } from './output.js';

export const attach = defineTool({
  name: 'attach',
  title: 'Attach to a running process',
  description:
    'Attaches to a live Node.js process (a plain "node app.js" too) without pausing it; follows workers and child processes.',
  annotations: ACTION,
  schema: {
    target: z.string().min(1).describe('OS pid, inspector host:port or ws:// URL'),
    web: z.boolean().optional().describe('Record HTTP and WebSocket traffic (as configure web)'),
  },
  output: { pid: count, actor: text, tree: rows },
  async handler({ target, web }, ctx, progress) {
    const t = await ctx.attach(target, { web, progress });
    return { text: `Attached to pid ${t.pid} (actor ${t.actor}).\n${renderTree(t.tree)}`, data: { ...t, tree: treeView(t.tree) } };
  },
});
