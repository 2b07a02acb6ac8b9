// The MCP server: registers every tool through one wrapper that owns the cross-cutting concerns —
// argument checks with a fix-it message, one call at a time (tools share inspector sessions), and errors
// turned into `isError` answers that say what to do next.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Progress, ToolContext, ToolDefinition } from './tools/define.js';
import { TOOLS } from './tools/registry.js';

export const SERVER_NAME = 'nodescope';
export const SERVER_VERSION = '0.1.0';

export function createServer(ctx: ToolContext, tools: readonly ToolDefinition<any>[] = TOOLS): { server: McpServer; cleanup: () => Promise<void> } {
  const server = new McpServer({ name: SERVER_NAME, version: SERVER_VERSION }, { capabilities: { tools: {} } });
  const run = serialized();
  for (const tool of tools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        // Loose, so that unknown arguments reach the wrapper and get a fix-it message instead of vanishing.
        inputSchema: z.looseObject(tool.schema),
        annotations: tool.annotations,
      },
      (args: Record<string, unknown>, extra) => {
        const token = extra._meta?.progressToken;
        // Notifications still being sent when the tool answers are awaited first: a client drops progress
        // that arrives after the answer to its request.
        const sending: Promise<unknown>[] = [];
        const progress: Progress =
          token === undefined
            ? () => undefined
            : (done, total, message) =>
                void sending.push(extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: done, total, message } }).catch(() => undefined));
        return run(async () => {
          const result = await callTool(tool, args, ctx, progress);
          await Promise.all(sending);
          return result;
        });
      },
    );
  }
  return { server, cleanup: async () => server.close() };
}

/** Validates and runs one tool call; never throws. Exported for the CLI's `call`. */
export async function callTool(tool: ToolDefinition<any>, args: Record<string, unknown>, ctx: ToolContext, progress: Progress = () => undefined): Promise<CallToolResult> {
  const unknown = Object.keys(args).filter((k) => !(k in tool.schema));
  if (unknown.length > 0) {
    const known = Object.keys(tool.schema);
    return errorResult(
      `${tool.name}: unknown argument${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}. ` +
        (known.length ? `It takes: ${known.join(', ')}.` : 'It takes no arguments.'),
    );
  }
  const parsed = z.object(tool.schema).safeParse(args);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`).join('; ');
    return errorResult(`${tool.name}: ${issues}`);
  }
  try {
    // `mcp --attach/--launch`: a call that arrives while attaching waits for it, not answering about nothing.
    await ctx.ready?.();
    // A question about the past includes everything up to the moment it is asked.
    if (tool.annotations.readOnlyHint) await ctx.sync();
    const answer = await tool.handler(parsed.data, ctx, progress);
    return { content: [{ type: 'text', text: answer.text }], structuredContent: answer.data };
  } catch (error) {
    return errorResult(`${tool.name} failed: ${(error as Error).message}`);
  }
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** Runs async jobs one after another. */
function serialized(): <T>(job: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (job) => {
    const result = tail.then(job, job);
    tail = result.catch(() => undefined);
    return result;
  };
}
