import { z } from 'zod';
import { actor } from './args.js';
import { ACTION, defineTool } from './define.js';
import { text } from './output.js';

export const evaluate = defineTool({
  name: 'evaluate',
  title: 'Evaluate an expression inside the live target',
  description:
    'Runs a JavaScript expression in a chosen thread of the live target (awaiting a promise) and answers its value through the bounded serializer. It executes code in someone\'s process, so it is refused unless the server was started with --allow-evaluate.',
  // It runs any code in someone's process.
  annotations: { ...ACTION, destructiveHint: true },
  schema: {
    expression: z.string().min(1).describe('A JavaScript expression ("globalThis.cart.items.length")'),
    pid_string: actor('The thread to run it in'),
  },
  // Any JSON value, spelled out: a schema with no keyword at all is one strict clients warn about.
  output: { actor: text, value: z.union([z.string(), z.number(), z.boolean(), z.null(), z.looseObject({}), z.array(z.union([z.string(), z.number(), z.boolean(), z.null(), z.looseObject({}), z.array(z.looseObject({}))]))]) },
  async handler({ expression, pid_string }, ctx) {
    const actor = ctx.resolveActor(pid_string);
    const { value, error } = await ctx.evaluate(actor.id, expression);
    if (error) throw new Error(`the expression threw in ${actor.id}: ${error}`);
    const text = JSON.stringify(value);
    return { text: `${actor.id} ⇒ ${text.length > 2000 ? `${text.slice(0, 2000)}…(cut)` : text}`, data: { actor: actor.id, value } };
  },
});
