import { z } from 'zod';
import { checkPage, footer, paging } from '../query/page.js';
import { probeHitView, renderProbeHit } from '../query/probes.js';
import { describeWindow, parseWindow } from '../query/time.js';
import { actor, optional, paged, requestId, since } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { pageOf, rows } from './output.js';
import { describeProbe } from './trace_line.js';

export const get_probe_hits = defineTool({
  name: 'get_probe_hits',
  title: 'What a line probe saw',
  description:
    'Hits of trace_line probes, oldest first: time, thread, request id, captured values, locals, closure, this, and the stack in the original source.',
  annotations: READ_ONLY,
  schema: {
    probe: z.string().min(1).optional().describe('Probe id (p1); all when omitted'),
    pid_string: optional(actor('Only in this thread or process')),
    request_id: requestId,
    since,
    ...paged(),
  },
  output: pageOf('hits', { probes: rows }),
  async handler(args, ctx) {
    await ctx.sync();
    const window = parseWindow(args.since, undefined);
    const p = paging(args.page, args.limit ?? 20);
    const actor = args.pid_string ? ctx.resolveActor(args.pid_string).id : undefined;
    const { hits, total, more } = ctx.query.probeHits({ probe: args.probe, actors: actor ? ctx.query.actorFamily(actor) : undefined, corr: args.request_id, window }, p);
    const probes = ctx.probes().filter((x) => args.probe === undefined || x.id === args.probe);
    if (args.probe && probes.length === 0 && total === 0) throw new Error(`no probe ${args.probe}; probes: ${ctx.probes().map((x) => x.id).join(', ') || 'none (set one with trace_line)'}`);
    const status = probes.flatMap((x) => [`${x.id} at ${x.file}:${x.line}${x.condition ? ` when ${x.condition}` : ''}: ${x.state}${x.stopped ? ` (${x.stopped})` : ''}, ${x.hits} hits`, ...(args.probe ? describeProbe(x) : [])]);
    const head = `Hits${args.probe ? ` of ${args.probe}` : ''}${actor ? ` in ${actor}` : ''}${args.request_id ? ` for request ${args.request_id}` : ''}${describeWindow(window)}: ${more ? 'more than ' : ''}${total}`;
    if (total > 0) checkPage(p, total);
    const text = [...status, head, ...hits.map(renderProbeHit), ...(total > 0 ? [footer(p, total, hits.length, more)] : ['None yet: the line has not run with its condition true, or the program has not been exercised.'])].join('\n');
    return { text, data: { probes, hits: hits.map(probeHitView), total, ...(more ? { more: true } : {}), page: p.page } };
  },
});
