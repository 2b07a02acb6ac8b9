import { checkPage, footer, paging } from '../query/page.js';
import { renderSnapshot, snapshotView } from '../query/states.js';
import { describeWindow, parseWindow } from '../query/time.js';
import { limit, noStateInWindow, objectRef, page, since, stateActor, until } from './args.js';
import { defineTool, READ_ONLY } from './define.js';

export const get_state_timeline = defineTool({
  name: 'get_state_timeline',
  title: 'State snapshots of a tracked object',
  description:
    'Lists the state snapshots of a tracked object, oldest first: time, the call that triggered each one (method and arguments) with its call id, and the state (capped). Time window; paged.',
  annotations: READ_ONLY,
  schema: {
    pid_string: objectRef,
    since,
    until,
    page,
    limit,
  },
  async handler(args, ctx) {
    const actor = stateActor(ctx, args.pid_string);
    const window = parseWindow(args.since, args.until);
    const p = paging(args.page, args.limit);
    const { snapshots, total } = ctx.query.stateTimeline(actor.id, window, p);
    const label = ctx.query.actorLabel(actor.id);
    const data = { actor: actor.id, snapshots: snapshots.map(snapshotView), total, page: p.page };
    if (total === 0) {
      return { text: noStateInWindow(ctx, actor.id, window), data };
    }
    checkPage(p, total);
    const text = [`States of ${label}${describeWindow(window)}: ${total}`, ...snapshots.map(renderSnapshot), footer(p, total, snapshots.length)].join('\n');
    return { text, data };
  },
});
