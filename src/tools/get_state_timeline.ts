import { changeView, renderSnapshot, renderTransition, snapshotView, type Transition } from '../query/states.js';
import { iso } from '../query/format.js';
import { describeWindow } from '../query/time.js';
import { listRequest, noStateInWindow, objectRef, paged, pagedAnswer, stateActor, window } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { pageOf } from './output.js';

export const get_state_timeline = defineTool({
  name: 'get_state_timeline',
  title: 'State snapshots of a tracked object',
  description:
    'State snapshots of a tracked object, oldest first, with the call that triggered each: the first state whole, then what changed. Paged.',
  annotations: READ_ONLY,
  schema: {
    pid_string: objectRef,
    ...window,
    ...paged(),
  },
  output: pageOf('snapshots'),
  async handler(args, ctx) {
    const actor = stateActor(ctx, args.pid_string);
    const { window, page } = listRequest(args);
    // A whole state repeated in every snapshot made a page 14k characters; the diffs are what a reader wants.
    const { transitions, snapshots, total } = ctx.query.stateChanges(actor.id, window, page);
    return pagedAnswer(
      { page, shown: snapshots.length, total },
      {
        head: `States of ${ctx.query.actorLabel(actor.id)}${describeWindow(window)}: ${total}`,
        lines: () => snapshots.map((s, i) => (i === 0 ? renderSnapshot(s) : renderTransition(transitions[i]!))),
        empty: () => noStateInWindow(ctx, actor.id, window),
        data: {
          actor: actor.id,
          snapshots: snapshots.map((s, i) => (i === 0 ? snapshotView(s) : changesView(transitions[i]!))),
        },
      },
    );
  },
});

function changesView(t: Transition): Record<string, unknown> {
  return { time: iso(t.wall_ms), ref: t.ref, trigger: t.trigger, changes: t.changes.map(changeView), more: t.more };
}
