import { iso } from '../query/format.js';
import { renderPair, type Mailbox } from '../query/queues.js';
import { ms } from '../query/rows.js';
import { defineTool, READ_ONLY } from './define.js';
import { count, maybeText, rows } from './output.js';

/** Pairs listed as slow consumers. */
const SLOWEST = 5;
/** Rows per section. */
const MAX_ROWS = 50;
/**
 * How long the answer waits for a thread's event-loop delay. Each is a round trip to the target: a few ms to
 * a thread that idles; during a postMessage flood 80 ms (median) to 1.5 s on a loaded 2-core machine, when
 * the store's part of the answer took 12 ms of CPU and the question had already waited 15 ms for the agents
 * (the 50 ms bar of issue 10). A thread that does not answer in time is named as busy.
 */
export const THREAD_WAIT_MS = 10;

/** The line under a capped section: how many were left out, and where to see them. */
function more(total: number, what: string): string[] {
  return total > MAX_ROWS ? [`  …${total - MAX_ROWS} more ${what}; get_message_flow lists the messages of one pair`] : [];
}

const mailboxView = (p: Mailbox) => ({ actor: p.actor, count: p.count, oldest: p.oldest_ms === null ? null : iso(p.oldest_ms) });

type Delay = { min: number; mean: number; p50: number; p99: number; max: number; samples?: number };

export const message_queue_analysis = defineTool({
  name: 'message_queue_analysis',
  title: 'Mailboxes: pending messages, latency, event-loop delay',
  description:
    'Answers the Node meaning of mailboxes: per actor, messages sent to it and not yet received (count, oldest); per sender → receiver pair, messages sent, received and pending with mean and max latency; the slowest consumers; and the event-loop delay (min, mean, p50, p99, max) of each live thread, read from the target.',
  annotations: READ_ONLY,
  schema: {},
  output: { pending: rows, unread: rows, pairs: rows, slow_consumers: rows, sampled: count, as_of: maybeText, event_loop_delay_ms: rows, skipped: rows },
  async handler(_args, ctx) {
    const threads = ctx.supervisionTree().flatMap(function walk(n): { id: string; status: string; kind: string }[] {
      return [n, ...n.children.flatMap(walk)];
    }).filter((n) => n.kind !== 'object' && n.status === 'running');
    // All threads asked at once, before the store is read: each answer is a round trip to a thread that may
    // be busy. One the question found busy with a flood is not asked (nor waited for).
    const known = new Set(ctx.busyThreads?.());
    let timer: NodeJS.Timeout | undefined;
    const late =
      known.size < threads.length ? new Promise<'late'>((resolve) => (timer = setTimeout(resolve, THREAD_WAIT_MS, 'late'))) : Promise.resolve('late' as const);
    const asked = Promise.allSettled(threads.map((t) => (known.has(t.id) ? late : Promise.race([ctx.processInfo(t.id), late]))));
    const stats = ctx.query.mailboxStats();
    const asOf = stats.as_of_ms;
    const age = (sent: number) => (asOf === null ? '' : `, ${ms(Math.max(0, asOf - sent))} ms before the last recorded event`);
    const sent = (at: number | null) => (at === null ? 'oldest send not recorded' : `oldest sent ${iso(at)}${age(at)}`);
    const slow = stats.pairs.filter((p) => p.mean_latency_ms !== null).sort((a, b) => b.mean_latency_ms! - a.mean_latency_ms!).slice(0, SLOWEST);
    const delays: { actor: string; delay: Delay | null }[] = [];
    const skipped: { actor: string; reason: string }[] = [];
    const busy: string[] = [];
    const infos = await asked;
    clearTimeout(timer);
    infos.forEach((info, i) => {
      const actor = threads[i]!.id;
      if (info.status === 'rejected') skipped.push({ actor, reason: (info.reason as Error).message });
      else if (info.value === 'late') busy.push(actor);
      else delays.push({ actor, delay: (info.value.event_loop_delay_ms as Delay | null | undefined) ?? null });
    });
    const lines = [
      `Message queues (latency over the latest ${stats.sampled} sends${stats.sampled ? `, ${stats.per_pair} per pair at most` : ''})`,
      ...(stats.pending.length
        ? [
            'Pending per receiver:',
            ...stats.pending.slice(0, MAX_ROWS).map((p) => `  ${ctx.query.actorLabel(p.actor)}: ${p.count} pending, ${sent(p.oldest_ms)}`),
            ...more(stats.pending.length, 'receivers'),
          ]
        : ['Pending per receiver: none']),
      ...(stats.unread.length
        ? [
            'Never read (the receiver ended first):',
            ...stats.unread.slice(0, MAX_ROWS).map((p) => `  ${ctx.query.actorLabel(p.actor)}: ${p.count} never read, ${sent(p.oldest_ms)}`),
            ...more(stats.unread.length, 'receivers'),
          ]
        : []),
      ...(stats.pairs.length
        ? ['Pairs:', ...stats.pairs.slice(0, MAX_ROWS).map((p) => `  ${renderPair(p)}`), ...more(stats.pairs.length, 'pairs')]
        : ['Pairs: no messages recorded; trace_process records the messages of an actor']),
      ...(slow.length ? ['Slowest consumers (mean latency):', ...slow.map((p) => `  ${p.to} from ${p.from}: ${ms(p.mean_latency_ms!)} ms`)] : []),
      ...(delays.length
        ? ['Event-loop delay (ms):', ...delays.map((d) => `  ${d.actor}: ${d.delay ? `min ${d.delay.min}, mean ${d.delay.mean}, p50 ${d.delay.p50}, p99 ${d.delay.p99}, max ${d.delay.max}${d.delay.samples ? ` (${d.delay.samples} samples)` : ''}` : 'not measured'}`)]
        : [`Event-loop delay: no live thread answered${busy.length ? ` within ${THREAD_WAIT_MS} ms` : ''}`]),
      ...(busy.length ? [`Busy, no answer within ${THREAD_WAIT_MS} ms: ${busy.join(', ')} (process_info waits for one)`] : []),
      ...(skipped.length ? [`Not attached, skipped: ${skipped.map((s) => s.actor).join(', ')} (attach reads them live)`] : []),
    ];
    const data = {
      pending: stats.pending.slice(0, MAX_ROWS).map(mailboxView),
      unread: stats.unread.slice(0, MAX_ROWS).map(mailboxView),
      pairs: stats.pairs.slice(0, MAX_ROWS),
      total_pending: stats.pending.length,
      total_unread: stats.unread.length,
      total_pairs: stats.pairs.length,
      slow_consumers: slow.map((p) => ({ actor: p.to, from: p.from, mean_latency_ms: p.mean_latency_ms })),
      sampled: stats.sampled,
      as_of: asOf === null ? null : iso(asOf),
      event_loop_delay_ms: delays,
      skipped: [...skipped, ...busy.map((actor) => ({ actor, reason: `busy: no answer within ${THREAD_WAIT_MS} ms` }))],
    };
    return { text: lines.join('\n'), data };
  },
});
