import { renderTransition, transitionView } from '../query/states.js';
import { describeWindow } from '../query/time.js';
import { listRequest, noStateInWindow, objectRef, paged, pagedAnswer, stateActor, window } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { pageOf } from './output.js';

export const analyze_state_changes = defineTool({
  name: 'analyze_state_changes',
  title: 'What changed in an object, and why',
  description:
    'Each state snapshot of a tracked object diffed against the one before (items[2].qty: 1 → 3), with the call that triggered it. Paged.',
  annotations: READ_ONLY,
  schema: {
    pid_string: objectRef,
    ...window,
    ...paged(),
  },
  output: pageOf('transitions'),
  async handler(args, ctx) {
    const actor = stateActor(ctx, args.pid_string);
    const { window, page } = listRequest(args);
    const { transitions, total } = ctx.query.stateChanges(actor.id, window, page);
    const changed = transitions.filter((t) => t.changes.length > 0).length;
    return pagedAnswer(
      { page, shown: transitions.length, total },
      {
        head: `State changes of ${ctx.query.actorLabel(actor.id)}${describeWindow(window)}: ${total} snapshots, ${changed} with changes on this page`,
        lines: () => transitions.map(renderTransition),
        empty: () => noStateInWindow(ctx, actor.id, window),
        data: { actor: actor.id, transitions: transitions.map(transitionView) },
      },
    );
  },
});
