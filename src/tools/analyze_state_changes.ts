import { checkPage, footer, paging } from '../query/page.js';
import { renderTransition, transitionView } from '../query/states.js';
import { describeWindow, parseWindow } from '../query/time.js';
import { limit, noStateInWindow, objectRef, page, since, stateActor, until } from './args.js';
import { defineTool, READ_ONLY } from './define.js';

export const analyze_state_changes = defineTool({
  name: 'analyze_state_changes',
  title: 'What changed in a tracked object, and why',
  description:
    'Diffs each state snapshot of a tracked object against the one before it, as paths (items[2].qty: 1 → 3, + items[3]: …, - coupon), each with the call that triggered it (Cart#add("apple", 2)) and its call id. Time window; paged by snapshot.',
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
    const { transitions, total } = ctx.query.stateChanges(actor.id, window, p);
    const label = ctx.query.actorLabel(actor.id);
    const data = { actor: actor.id, transitions: transitions.map(transitionView), total, page: p.page };
    if (total === 0) {
      return { text: noStateInWindow(ctx, actor.id, window), data };
    }
    checkPage(p, total);
    const changed = transitions.filter((t) => t.changes.length > 0).length;
    const text = [
      `State changes of ${label}${describeWindow(window)}: ${total} snapshots, ${changed} with changes on this page`,
      ...transitions.map(renderTransition),
      footer(p, total, transitions.length),
    ].join('\n');
    return { text, data };
  },
});
