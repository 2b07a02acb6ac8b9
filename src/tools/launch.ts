import { z } from 'zod';
import { renderTree } from '../query/tree.js';
import { defineTool } from './define.js';

export const launch = defineTool({
  name: 'launch',
  title: 'Launch a Node.js program under tracing',
  description:
    'Starts a command line that runs node (for example "node app.js" or "npm start") with the inspector on a random loopback port, paused until the nodescope agent is installed, so nothing from the first line on is missed. Worker threads and child Node processes are followed. Returns the process id to pass to other tools.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  schema: {
    command: z.string().min(1).describe('The command line, split on spaces; quote arguments with spaces ("node \\"my app.js\\""). Example: "node server.js --port 3000".'),
    cwd: z.string().optional().describe('Working directory for the program; defaults to the server\'s.'),
    web: z.boolean().optional().describe('Record HTTP and WebSocket traffic (node:http, fetch, ws) with a request id per incoming request, in every traced thread and those that appear later; the same switch as configure(web). Default: as configured (off unless --web).'),
    trace_modules: z.string().optional().describe('Modules to trace from the first line, comma-separated ("./src/payments.js,./src/cart.js"): their exports are wrapped as they are first required, before any caller keeps a reference.'),
  },
  async handler({ command, cwd, trace_modules, web }, ctx, progress) {
    const traceModules = trace_modules?.split(',').map((m) => m.trim()).filter(Boolean);
    const target = await ctx.launch(splitCommand(command), { cwd, traceModules, web, progress });
    return {
      text: `Launched pid ${target.pid} (actor ${target.actor}), agent installed before its first line.\n${renderTree(target.tree)}`,
      data: { ...target },
    };
  },
});

/** Splits a command line on spaces, honouring double and single quotes. */
export function splitCommand(line: string): string[] {
  const parts: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) parts.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return parts;
}
