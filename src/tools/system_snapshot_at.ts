import { iso, renderValue } from '../query/format.js';
import { sendView } from '../query/messages.js';
import { renderInFlight } from '../query/queues.js';
import { defineTool, READ_ONLY } from './define.js';
import { moment, parseMoment } from './moment.js';
import { count, rows, text } from './output.js';

/** Rows per section; the rest is counted, and the narrower tools list it. */
const MAX_ROWS = 50;

function section<T>(title: string, rows: T[], line: (row: T) => string, more: string): string[] {
  if (rows.length === 0) return [`${title}: none`];
  const shown = rows.slice(0, MAX_ROWS).map((r) => `  ${line(r)}`);
  if (rows.length > MAX_ROWS) shown.push(`  …${rows.length - MAX_ROWS} more: ${more}`);
  return [`${title} (${rows.length}):`, ...shown];
}

export const system_snapshot_at = defineTool({
  name: 'system_snapshot_at',
  title: 'The whole system at a moment',
  description:
    'Answers what the system looked like at a moment: the processes and threads alive, the state each tracked object had then (with its trigger), the messages in flight (sent, not yet received), and the HTTP requests in progress (received, not yet answered).',
  annotations: READ_ONLY,
  schema: {
    timestamp: moment('The moment'),
  },
  output: { at: text, actors: rows, objects: rows, in_flight: rows, in_flight_total: count, requests: rows, requests_total: count },
  async handler(args, ctx) {
    const at = parseMoment('timestamp', args.timestamp);
    const s = ctx.query.systemSnapshot(at);
    const label = (id: string) => ctx.query.actorLabel(id);
    const text = [
      `System at ${iso(at)}`,
      ...section('Alive', s.actors, (a) => `${label(a.id)} ${a.kind}${a.started_ms !== null ? ` since ${iso(a.started_ms)}` : ''}`, 'get_supervision_tree lists them'),
      ...section(
        'Tracked objects',
        s.objects,
        (o) =>
          o.state.snapshot
            ? `${label(o.actor.id)}: ${renderValue(o.state.snapshot.state)} (since ${iso(o.state.snapshot.wall_ms)}, after ${o.state.snapshot.trigger_text}${o.state.snapshot.ref ? ` [${o.state.snapshot.ref}]` : ''})`
            : `${label(o.actor.id)}: no state recorded yet`,
        'get_state_at answers for one object',
      ),
      ...section('Messages in flight', s.in_flight, renderInFlight, 'get_message_flow lists them per pair of actors'),
      ...section('HTTP requests in progress', s.requests, (r) => `${iso(r.wall_ms)} ${r.actor} ${r.method} ${r.url} [${r.id}]`, 'get_http_requests lists them'),
    ].join('\n');
    const data = {
      at: iso(at),
      actors: s.actors.slice(0, MAX_ROWS).map((a) => ({ id: a.id, kind: a.kind, name: a.name, started: a.started_ms === null ? null : iso(a.started_ms) })),
      objects: s.objects.slice(0, MAX_ROWS).map((o) => ({
        id: o.actor.id,
        name: o.actor.name,
        state: o.state.snapshot ? renderValue(o.state.snapshot.state) : null,
        since: o.state.snapshot ? iso(o.state.snapshot.wall_ms) : null,
        trigger: o.state.snapshot?.trigger_text ?? null,
        ref: o.state.snapshot?.ref ?? null,
      })),
      in_flight: s.in_flight.slice(0, MAX_ROWS).map(sendView),
      in_flight_total: s.in_flight.length,
      requests: s.requests.slice(0, MAX_ROWS).map((r) => ({ id: r.id, actor: r.actor, time: iso(r.wall_ms), method: r.method, url: r.url })),
      requests_total: s.requests.length,
    };
    return { text, data };
  },
});
