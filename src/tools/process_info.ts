import { actor as actorArg } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { count, object, text } from './output.js';

export const process_info = defineTool({
  name: 'process_info',
  title: 'Live facts about a process, thread or tracked object',
  description:
    'Reads from the live target: memory, CPU time, uptime, event-loop utilization and delay, active resources, argv and Node version of a process or thread; for a tracked object, its class, owning thread, the size of its last snapshot, and the same facts for its thread.',
  annotations: READ_ONLY,
  schema: {
    pid_string: actorArg(),
  },
  output: { actor: text, pid: count, memory: object, object: object.optional() },
  async handler({ pid_string }, ctx) {
    const actor = ctx.resolveActor(pid_string);
    const info = await ctx.processInfo(actor.id);
    const mem = info.memory as Record<string, number>;
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    const delay = info.event_loop_delay_ms as Record<string, number> | null;
    const lines = [
      `${actor.id} ${actor.kind}${actor.name ? ` "${actor.name}"` : ''} — pid ${info.pid}, thread ${info.threadId}, Node ${info.node}, up ${Math.round(Number(info.uptime_s))} s`,
      `memory: rss ${mb(mem.rss!)}, heap ${mb(mem.heapUsed!)} of ${mb(mem.heapTotal!)}, external ${mb(mem.external!)}`,
      `event loop: utilization ${info.event_loop_utilization}${delay ? `, delay p50 ${delay.p50} ms, p99 ${delay.p99} ms, max ${delay.max} ms` : ''}`,
      `active resources: ${(info.active_resources as string[] | null)?.join(', ') || 'none'}`,
      `argv: ${(info.argv as string[]).join(' ')}`,
    ];
    let object: Record<string, unknown> | undefined;
    if (actor.kind === 'object') {
      const bytes = ctx.query.lastSnapshotBytes(actor.id);
      const facts = actor.info ? (JSON.parse(actor.info) as { class?: string }) : {};
      object = { ...facts, owner: actor.parent, last_snapshot_bytes: bytes };
      lines.unshift(`object ${actor.id}: class ${facts.class ?? '?'}, owned by ${actor.parent}, last snapshot ${bytes ?? 0} bytes`);
    }
    return { text: lines.join('\n'), data: { actor: actor.id, ...info, ...(object ? { object } : {}) } };
  },
});
