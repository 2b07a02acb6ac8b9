import { z } from 'zod';
import { actor, optional } from './args.js';
import { ACTION, defineTool, ToolError } from './define.js';
import { rows } from './output.js';
import { describeTrace } from './trace_module.js';

/**
 * One tool stops every kind of trace — a module's (trace_module), a line probe (trace_line), a tracked
 * object (trace_named_process) — and, asked for none, lists what is active: three tools' worth of listing
 * would cost every conversation their schemas.
 */
export const untrace = defineTool({
  name: 'untrace',
  title: 'Stop a trace, or list the active ones',
  description: 'Stops a module trace, probe or tracked object everywhere (the originals run again); with no argument, lists what is traced.',
  annotations: ACTION,
  schema: {
    module_name: z.string().min(1).optional().describe('A traced module, any spelling'),
    probe: z.string().min(1).optional().describe('A probe id (p1), or "all"'),
    pid_string: optional(actor('A tracked object')),
  },
  output: { stopped: rows, active: rows, probes: rows },
  async handler({ module_name, probe, pid_string }, ctx) {
    const given = [module_name, probe, pid_string].filter((a) => a !== undefined).length;
    if (given > 1) throw new ToolError('give one of module_name, probe or pid_string');
    const stopped: string[] = [];
    const data: Record<string, unknown>[] = [];
    if (module_name !== undefined) {
      for (const s of await ctx.untraceModule(module_name)) {
        stopped.push(`${s.value.module} in ${s.actor} (${s.value.calls ?? 0} calls)`);
        data.push({ actor: s.actor, module: s.value.module, calls: s.value.calls ?? 0 });
      }
      if (stopped.length === 0) stopped.push(`${module_name}: nothing was traced in a live thread`);
    }
    if (probe !== undefined) {
      for (const p of await ctx.untraceLine(probe === 'all' ? undefined : probe)) {
        stopped.push(`probe ${p.id} at ${p.file}:${p.line} (${p.hits} hits)`);
        data.push({ probe: p.id, hits: p.hits });
      }
      if (stopped.length === 0) stopped.push('no probe was set');
    }
    if (pid_string !== undefined) {
      const id = ctx.resolveActor(pid_string).id;
      if (!(await ctx.untrack(id))) throw new ToolError(`${id} is not a tracked object in a live thread; untrace with no argument lists what is traced`);
      stopped.push(`object ${id}`);
      data.push({ actor: id });
    }
    const active = (await ctx.traces()).map((t) => describeTrace(t.actor, t.value));
    const probes = ctx.probes().filter((p) => p.state === 'active');
    const lines = [
      ...(stopped.length ? [`Stopped: ${stopped.join('; ')}.`] : []),
      ...active.map((r) => `- ${r.module} in ${r.actor}: ${r.via}, ${r.capture}, ${r.calls} calls${r.stopped ? `, stopped (${r.stopped})` : ''}; limits ${r.limits}${r.resolved && r.resolved !== r.module ? `; ${r.resolved}` : ''}`),
      ...probes.map((p) => `- probe ${p.id} at ${p.file}:${p.line}${p.condition ? ` when ${p.condition}` : ''}: ${p.hits} hits in ${p.sites.map((s) => s.actor).join(', ') || 'no thread yet'}; ${p.limits.perSecond}/s, ${p.limits.maxHits} hits, ${p.limits.durationMs / 1000} s`),
    ];
    const none = active.length === 0 && probes.length === 0;
    const text = [...lines, none ? 'Nothing is traced now.' : `Active: ${active.length} module traces, ${probes.length} probes; stop one with untrace(module_name) or untrace(probe).`].join('\n');
    return { text, data: { stopped: data, active, probes } };
  },
});
