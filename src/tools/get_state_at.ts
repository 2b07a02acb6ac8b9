import { iso, renderValue } from '../query/format.js';
import { objectRef, stateActor } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { moment, parseMoment } from './moment.js';
import { maybeText, text } from './output.js';

/** Characters of the one state this tool answers with (the whole point of the answer). */
const STATE_CAP = 2_000;

export const get_state_at = defineTool({
  name: 'get_state_at',
  title: 'The state of a tracked object at a moment',
  description:
    'Answers the state a tracked object had at a given moment: the last snapshot at or before it, with the call that triggered it, its call id and its time. Says when no state had been recorded yet, and when the first one was.',
  annotations: READ_ONLY,
  schema: {
    pid_string: objectRef,
    timestamp: moment('The moment'),
  },
  output: { actor: text, at: text, state: maybeText, first: maybeText.optional(), recorded: text.optional(), trigger: text.optional(), ref: maybeText.optional() },
  async handler(args, ctx) {
    const actor = stateActor(ctx, args.pid_string);
    const at = parseMoment('timestamp', args.timestamp);
    const { snapshot, first } = ctx.query.stateAt(actor.id, at);
    const label = ctx.query.actorLabel(actor.id);
    if (!snapshot) {
      return {
        text: `No state recorded for ${label} before ${iso(at)}; the first is at ${iso(first!.wall_ms)} (after ${first!.trigger_text}): ask for a moment at or after it.`,
        data: { actor: actor.id, at: iso(at), state: null, first: iso(first!.wall_ms) },
      };
    }
    const state = renderValue(snapshot.state, STATE_CAP);
    const text = [
      `State of ${label} at ${iso(at)}: recorded at ${iso(snapshot.wall_ms)} after ${snapshot.trigger_text}${snapshot.ref ? ` [${snapshot.ref}]` : ''}`,
      state,
    ].join('\n');
    return {
      text,
      data: { actor: actor.id, at: iso(at), recorded: iso(snapshot.wall_ms), trigger: snapshot.trigger_text, ref: snapshot.ref, state },
    };
  },
});
