import { z } from 'zod';
import { actorActivity, renderActivity } from '../query/activity.js';
import { defineTool } from './define.js';

export const trace_process = defineTool({
  name: 'trace_process',
  title: 'Trace one actor: a process, thread or tracked object',
  description:
    'For a process or thread: its messages in and out, calls of traced modules made in it, and its lifecycle are recorded while nodescope is attached; for a tracked object: its method calls, its emits and a state snapshot after each call. Answers what has been recorded for it so far. Use get_execution_path, get_message_flow or get_state_timeline for the details.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  schema: {
    pid_string: z.string().min(1).describe('An actor id from any tool ("4242", "4242/w1", "4242/o1"), a bare OS pid, or a name.'),
  },
  async handler({ pid_string }, ctx) {
    const actor = ctx.resolveActor(pid_string);
    const activity = actorActivity(ctx.query.store, actor);
    const next =
      actor.kind === 'object'
        ? `Next: get_state_timeline(pid_string: "${actor.id}") or analyze_state_changes(pid_string: "${actor.id}").`
        : `Next: get_execution_path(pid_string: "${actor.id}").`;
    return { text: `${renderActivity(activity)}\n${next}`, data: { ...activity } };
  },
});
