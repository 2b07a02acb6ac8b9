import { messageView, renderMermaid, renderMessage } from '../query/messages.js';
import { describeWindow } from '../query/time.js';
import { actor, format, listRequest, paged, pagedAnswer, window } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { pageOf } from './output.js';

export const get_message_flow = defineTool({
  name: 'get_message_flow',
  title: 'Messages between two actors',
  description:
    'Messages between two actors both ways, oldest first (postMessage, IPC, emit on tracked objects): direction, channel, payload, time, latency or pending. Paged.',
  annotations: READ_ONLY,
  schema: {
    from_pid: actor('One actor'),
    to_pid: actor('The other actor'),
    ...window,
    ...paged(),
    format,
  },
  output: pageOf('messages'),
  async handler(args, ctx) {
    const a = ctx.resolveActor(args.from_pid).id;
    const b = ctx.resolveActor(args.to_pid).id;
    if (a === b) throw new Error(`from_pid and to_pid both name ${a}: pass two different actors (get_supervision_tree lists them)`);
    const { window, page } = listRequest(args);
    const { messages, total } = ctx.query.messageFlow(a, b, window, page);
    const labelA = ctx.query.actorLabel(a);
    const labelB = ctx.query.actorLabel(b);
    // Known not received: a send to a receiver not traced, or from before its tracing began, may have been.
    const unreceived = messages.filter((m) => m.status === 'pending' || m.status === 'unread').length;
    return pagedAnswer(
      { page, shown: messages.length, total },
      {
        head: `Messages between ${labelA} and ${labelB}${describeWindow(window)}: ${total}${unreceived ? ` (${unreceived} not received on this page)` : ''}`,
        lines: () =>
          args.format === 'mermaid' ? ['```mermaid', renderMermaid({ id: a, label: labelA }, { id: b, label: labelB }, messages), '```'] : messages.map(renderMessage),
        empty: () => `No messages between ${labelA} and ${labelB}${describeWindow(window)}. trace_process on either of them records its messages in and out.`,
        data: { from: a, to: b, messages: messages.map(messageView) },
      },
    );
  },
});
