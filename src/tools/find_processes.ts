import { z } from 'zod';
import { ACTION, defineTool } from './define.js';
import { rows } from './output.js';

export const find_processes = defineTool({
  name: 'find_processes',
  title: 'Find threads running a file, or live instances of a class',
  description:
    'With module: the processes and worker threads whose script is that file. With class_name: the live instances of that class in every traced thread, found by walking the heap (Runtime.queryObjects; a moment of work in the target), each tracked and given an id the other tools accept (at most 50 per thread).',
  // It starts tracking the instances it finds.
  annotations: ACTION,
  schema: {
    module: z.string().optional().describe('A script path or its end ("app.js", "./src/worker.js").'),
    class_name: z.string().optional().describe('A class name as the code spells it ("Cart"): a global or an export of a loaded CommonJS module.'),
  },
  output: { threads: rows, instances: rows },
  async handler({ module, class_name }, ctx) {
    if (!module && !class_name) throw new Error('give module (a script) or class_name (a class), or both');
    const lines: string[] = [];
    const threads = module ? ctx.query.threadsRunning(module) : [];
    if (module) {
      lines.push(threads.length ? `Running ${module}: ${threads.map((t) => `${t.id} ${t.kind}${t.name ? ` "${t.name}"` : ''}`).join(', ')}` : `No traced process or worker runs ${module}.`);
    }
    const instances = class_name ? await ctx.findInstances(class_name) : [];
    if (class_name) {
      lines.push(instances.length ? `Live ${class_name} instances: ${instances.length}` : `No live instance of ${class_name} (the class must be a global or an export of a loaded CommonJS module).`);
      for (const { actor, value } of instances) lines.push(`- ${value.id} in ${actor}${value.existing ? ' (already tracked)' : ''}; methods: ${value.methods.join(', ') || '(none)'}`);
      if (instances.length) lines.push(`Next: get_state_timeline(pid_string: "${instances[0]!.value.id}").`);
    }
    return { text: lines.join('\n'), data: { threads, instances: instances.map((i) => ({ thread: i.actor, ...i.value })) } };
  },
});
