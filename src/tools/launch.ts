import { z } from 'zod';
import { renderTree } from '../query/tree.js';
import { ACTION, defineTool } from './define.js';
import { count, rows, text, treeView } from './output.js';

export const launch = defineTool({
  name: 'launch',
  title: 'Launch a program under tracing',
  description:
    'Starts a command that runs node ("node app.js", "npm start") with the agent installed before its first line; follows workers and child processes.',
  annotations: ACTION,
  schema: {
    command: z.string().min(1).describe('Command line; quote arguments with spaces'),
    cwd: z.string().optional().describe("Working directory (default: the server's)"),
    trace_modules: z.string().optional().describe('Modules to trace from the start, comma-separated'),
    web: z.boolean().optional().describe('Record HTTP and WebSocket traffic (as configure web)'),
  },
  output: { pid: count, actor: text, tree: rows },
  async handler({ command, cwd, trace_modules, web }, ctx, progress) {
    const traceModules = trace_modules?.split(',').map((m) => m.trim()).filter(Boolean);
    const before = new Set(ctx.warnings());
    const target = await ctx.launch(splitCommand(command), { cwd, traceModules, web, progress });
    // What this launch could not trace (the node --test runner, which Node starts without an inspector).
    const warnings = ctx.warnings().filter((w) => !before.has(w));
    return {
      text: [`Launched pid ${target.pid} (actor ${target.actor}), agent installed before its first line.`, renderTree(target.tree), ...(warnings.length ? [`Warnings: ${warnings.join('; ')}`] : [])].join('\n'),
      data: { ...target, tree: treeView(target.tree) },
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
