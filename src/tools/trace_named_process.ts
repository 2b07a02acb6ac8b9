import { z } from 'zod';
import { ActorNotFound } from '../query/actors.js';
import { renderActivity } from '../query/activity.js';
import { ACTION, defineTool } from './define.js';
import { activityView, rows } from './output.js';

export const trace_named_process = defineTool({
  name: 'trace_named_process',
  title: 'Trace by name, or track an object',
  description:
    'trace_process by name (worker, process title, register(name, obj)); or by path (globalThis.cart, ./src/cart.js#cart) to track an object: its calls and state after each.',
  annotations: ACTION,
  schema: {
    process_name: z.string().min(1).describe('A name or a path'),
  },
  output: { tracked: rows },
  async handler({ process_name }, ctx) {
    try {
      const actor = ctx.resolveActor(process_name);
      const activity = ctx.query.activity(actor);
      return { text: renderActivity(activity), data: { tracked: [], ...activityView(activity) } };
    } catch (error) {
      if (!(error instanceof ActorNotFound) || /names \d+ actors/.test(error.message)) throw error;
    }
    const found = await ctx.track(process_name);
    if (found.length === 0) {
      const name = process_name.length > 60 ? `${process_name.slice(0, 60)}…` : process_name;
      throw new Error(
        `nothing named "${name}" in any thread. Name it in the app with require("nodescope/register").register("${name}", obj), or pass a path such as globalThis.${name} or ./src/file.js#${name}; get_supervision_tree lists the named threads.`,
      );
    }
    const lines = found.map(({ actor, value: t }) => `- ${t.id} ${t.class} "${t.name}" in ${actor}${t.existing ? ' (already tracked)' : ''}; methods: ${t.methods.join(', ') || '(none)'}`);
    const text = [`Tracking ${found.length} object${found.length > 1 ? 's' : ''}:`, ...lines, `Next: get_state_timeline(pid_string: "${found[0]!.value.id}").`].join('\n');
    return { text, data: { tracked: found.map((f) => ({ thread: f.actor, ...f.value })) } };
  },
});
