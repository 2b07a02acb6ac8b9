import { z } from 'zod';
import { checkPage, footer, paging } from '../query/page.js';
import { pathEntryView, renderPathEntry } from '../query/path.js';
import { describeWindow, parseWindow } from '../query/time.js';
import { limit, page, since, until } from './args.js';
import { defineTool, READ_ONLY } from './define.js';

export const get_execution_path = defineTool({
  name: 'get_execution_path',
  title: 'What an actor did, in order',
  description:
    "Lists what an actor did, oldest first: calls of traced modules nested under their callers with results and durations, messages sent (→) and received (←), state snapshots, lifecycle events, errors and console output. A thread's path includes the tracked objects it owns. Time window; paged.",
  annotations: READ_ONLY,
  schema: {
    pid_string: z.string().min(1).describe('The actor: an id from any tool (4242, 4242/w1, 4242/o3), a bare OS pid or a name'),
    request_id: z.string().min(1).optional().describe('Only what was done while serving this HTTP request: its id from get_http_requests (4242:r1); pid_string is then the thread that served it'),
    since,
    until,
    page,
    limit,
  },
  async handler(args, ctx) {
    const actor = ctx.resolveActor(args.pid_string).id;
    const window = parseWindow(args.since, args.until);
    const p = paging(args.page, args.limit);
    const { entries, total, family } = ctx.query.executionPath(actor, window, p, args.request_id);
    const label = `${ctx.query.actorLabel(actor)}${args.request_id ? ` for request ${args.request_id}` : ''}`;
    const data = { actor, family, entries: entries.map(pathEntryView), total, page: p.page };
    if (total === 0) {
      const hint = args.request_id ? `get_http_requests lists request ids, each with the thread that served it` : `trace_process("${actor}") records its calls, messages and lifecycle`;
      return { text: `Nothing recorded for ${label}${describeWindow(window)}. ${hint}.`, data };
    }
    checkPage(p, total);
    const owned = family.length > 1 ? ` (with ${family.slice(1).join(', ')})` : '';
    const text = [`Execution path of ${label}${owned}${describeWindow(window)}: ${total} events`, ...entries.map(renderPathEntry), footer(p, total, entries.length)].join('\n');
    return { text, data };
  },
});
