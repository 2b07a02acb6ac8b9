import { renderActivity } from '../query/activity.js';
import { actor } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { activityOutput, activityView } from './output.js';

export const trace_process = defineTool({
  name: 'trace_process',
  title: 'What is recorded for an actor',
  description:
    "Counts what is recorded for an actor: a thread's messages, calls and lifecycle; a tracked object's method calls, emits and state snapshots.",
  annotations: READ_ONLY,
  schema: { pid_string: actor() },
  output: activityOutput,
  async handler({ pid_string }, ctx) {
    const row = ctx.resolveActor(pid_string);
    const activity = ctx.query.activity(row);
    const next =
      row.kind === 'object'
        ? `Next: get_state_timeline(pid_string: "${row.id}") or analyze_state_changes(pid_string: "${row.id}").`
        : `Next: get_execution_path(pid_string: "${row.id}").`;
    return { text: `${renderActivity(activity)}\n${next}`, data: activityView(activity) };
  },
});
