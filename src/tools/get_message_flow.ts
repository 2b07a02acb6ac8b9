import { z } from 'zod';
import { messageView, renderMermaid, renderMessage } from '../query/messages.js';
import { checkPage, footer, paging } from '../query/page.js';
import { describeWindow, parseWindow } from '../query/time.js';
import { limit, page, since, until } from './args.js';
import { defineTool, READ_ONLY } from './define.js';

export const get_message_flow = defineTool({
  name: 'get_message_flow',
  title: 'Messages between two actors',
  description:
    'Lists the messages between two actors in both directions, oldest first (postMessage, BroadcastChannel, IPC send, emit on tracked objects): direction, channel, payload summary, send time, and latency once received, or pending. format "mermaid" answers a sequence diagram.',
  annotations: READ_ONLY,
  schema: {
    from_pid: z.string().min(1).describe('One actor: an id from any tool (4242, 4242/w1, 4242/o3), a bare OS pid or a name'),
    to_pid: z.string().min(1).describe('The other actor, in the same forms; messages in both directions are listed'),
    since,
    until,
    page,
    limit,
    format: z.enum(['text', 'mermaid']).optional().describe('text (default): one line per message; mermaid: a sequenceDiagram'),
  },
  async handler(args, ctx) {
    const a = ctx.resolveActor(args.from_pid).id;
    const b = ctx.resolveActor(args.to_pid).id;
    if (a === b) throw new Error(`from_pid and to_pid both name ${a}: pass two different actors (get_supervision_tree lists them)`);
    const window = parseWindow(args.since, args.until);
    const p = paging(args.page, args.limit);
    const { messages, total } = ctx.query.messageFlow(a, b, window, p);
    const labelA = ctx.query.actorLabel(a);
    const labelB = ctx.query.actorLabel(b);
    const data = { from: a, to: b, messages: messages.map(messageView), total, page: p.page };
    if (total === 0) {
      return {
        text: `No messages between ${labelA} and ${labelB}${describeWindow(window)}. trace_process on either of them records its messages in and out.`,
        data,
      };
    }
    checkPage(p, total);
    const pending = messages.filter((m) => m.status === 'pending').length;
    const head = `Messages between ${labelA} and ${labelB}${describeWindow(window)}: ${total}${pending ? ` (${pending} pending on this page)` : ''}`;
    const body =
      args.format === 'mermaid'
        ? ['```mermaid', renderMermaid({ id: a, label: labelA }, { id: b, label: labelB }, messages), '```']
        : messages.map(renderMessage);
    return { text: [head, ...body, footer(p, total, messages.length)].join('\n'), data };
  },
});
