import { z } from 'zod';
import { ActorNotFound } from '../query/actors.js';
import { actorActivity, renderActivity } from '../query/activity.js';
import { defineTool } from './define.js';

export const trace_named_process = defineTool({
  name: 'trace_named_process',
  title: 'Trace an actor by name, or start tracking an object by path',
  description:
    'Like trace_process, by name: a worker\'s name, a process title or script, a name given in the app with register(name, obj) from "nodescope/register", or a path the agent resolves in the target ("globalThis.cart", "cart", "./src/cart.js#cart"), which starts tracking that object: its method calls and a state snapshot after each. Names and paths are looked up in every thread; several matches are listed.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  schema: {
    process_name: z.string().min(1).describe('A name ("pricing", "cart") or a path ("globalThis.cart", "./src/cart.js#cart").'),
  },
  async handler({ process_name }, ctx) {
    try {
      const actor = ctx.resolveActor(process_name);
      const activity = actorActivity(ctx.query.store, actor);
      return { text: renderActivity(activity), data: { tracked: [], ...activity } };
    } catch (error) {
      if (!(error instanceof ActorNotFound) || /names \d+ actors/.test(error.message)) throw error;
    }
    const found = await ctx.track(process_name);
    if (found.length === 0) {
      throw new Error(
        `nothing named "${process_name}" in any thread. Name it in the app with require("nodescope/register").register("${process_name}", obj), or pass a path such as globalThis.${process_name} or ./src/file.js#${process_name}; get_supervision_tree lists the named threads.`,
      );
    }
    const lines = found.map(({ actor, value: t }) => `- ${t.id} ${t.class} "${t.name}" in ${actor}${t.existing ? ' (already tracked)' : ''}; methods: ${t.methods.join(', ') || '(none)'}`);
    const text = [`Tracking ${found.length} object${found.length > 1 ? 's' : ''}:`, ...lines, `Next: get_state_timeline(pid_string: "${found[0]!.value.id}").`].join('\n');
    return { text, data: { tracked: found.map((f) => ({ thread: f.actor, ...f.value })) } };
  },
});
