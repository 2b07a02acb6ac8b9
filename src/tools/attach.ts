import { z } from 'zod';
import { renderTree } from '../query/tree.js';
import { defineTool } from './define.js';

export const attach = defineTool({
  name: 'attach',
  title: 'Attach to a running Node.js process',
  description:
    'Attaches to a live Node.js process without restarting it: by OS pid (works for a plain "node app.js": the inspector is opened with SIGUSR1 on loopback), by "host:port" of an open inspector, or by its ws:// URL. Installs the agent in every thread, and follows worker threads and child Node processes. Nothing is paused.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  schema: {
    target: z.string().min(1).describe('An OS pid ("4242"), an inspector address ("127.0.0.1:9229") or a ws:// URL.'),
    web: z.boolean().optional().describe('Record HTTP and WebSocket traffic (node:http, fetch, ws) with a request id per incoming request, in every traced thread and those that appear later; the same switch as configure(web). Default: as configured (off unless --web).'),
  },
  async handler({ target, web }, ctx, progress) {
    const t = await ctx.attach(target, { web, progress });
    return { text: `Attached to pid ${t.pid} (actor ${t.actor}).\n${renderTree(t.tree)}`, data: { ...t } };
  },
});
