import { pathEntryView, renderPathEntry } from '../query/path.js';
import { describeWindow } from '../query/time.js';
import { actor, listRequest, paged, pagedAnswer, requestId, window } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { pageOf } from './output.js';

export const get_execution_path = defineTool({
  name: 'get_execution_path',
  title: 'What an actor did',
  description:
    'What an actor and its objects did, oldest first: calls nested under callers, messages sent (→) and received (←), states, lifecycle, errors, output. Paged.',
  annotations: READ_ONLY,
  schema: {
    pid_string: actor(),
    request_id: requestId,
    ...window,
    ...paged(),
  },
  output: pageOf('entries'),
  async handler(args, ctx) {
    const actor = ctx.resolveActor(args.pid_string).id;
    const { window, page } = listRequest(args);
    const { entries, total, family } = ctx.query.executionPath(actor, window, page, args.request_id);
    const label = `${ctx.query.actorLabel(actor)}${args.request_id ? ` for request ${args.request_id}` : ''}`;
    const owned = family.length > 1 ? ` (with ${family.slice(1).join(', ')})` : '';
    return pagedAnswer(
      { page, shown: entries.length, total },
      {
        head: `Execution path of ${label}${owned}${describeWindow(window)}: ${total} events`,
        lines: () => entries.map(renderPathEntry),
        empty: () =>
          `Nothing recorded for ${label}${describeWindow(window)}. ${args.request_id ? 'get_http_requests lists request ids, each with the thread that served it' : `trace_process("${actor}") records its calls, messages and lifecycle`}.`,
        data: { actor, family, entries: entries.map(pathEntryView) },
      },
    );
  },
});
