import type { StateAt } from '../query/at.js';
import { renderChange } from '../query/diff.js';
import { iso, renderValue } from '../query/format.js';
import { requestView, renderRequest } from '../query/http.js';
import { checkPage, footer, paging } from '../query/page.js';
import { pathEntryView, renderPathEntry } from '../query/path.js';
import { changeView } from '../query/states.js';
import { objectRef, paged, ROWS, stateActor } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { moment, parseSpan } from './moment.js';
import { count, object, rows, text } from './output.js';

function describe(s: StateAt): string {
  if (!s.snapshot) return `no state yet (the first is at ${s.first ? iso(s.first.wall_ms) : '?'})`;
  return `recorded at ${iso(s.snapshot.wall_ms)} after ${s.snapshot.trigger_text}${s.snapshot.ref ? ` [${s.snapshot.ref}]` : ''}`;
}

export const analyze_state_change = defineTool({
  name: 'analyze_state_change',
  title: 'Why a tracked object changed between two moments',
  description:
    'Diffs the state of a tracked object at one moment against a later one (items[2].qty: 1 → 3), and lists what touched it in between: its calls, messages, snapshots and the HTTP requests those calls served. Paged by event.',
  annotations: READ_ONLY,
  schema: {
    pid_string: objectRef,
    before: moment('The earlier moment'),
    after: moment('The later moment'),
    ...paged(),
  },
  output: { actor: text, before: object.nullable(), after: object.nullable(), changes: rows, more: count, requests: rows, entries: rows, total: count, page: count },
  async handler(args, ctx) {
    const actor = stateActor(ctx, args.pid_string);
    const [beforeMs, afterMs] = parseSpan(['before', args.before], ['after', args.after]);
    const p = paging(args.page, args.limit ?? ROWS);
    const c = ctx.query.stateChange(actor.id, beforeMs, afterMs, p);
    const label = ctx.query.actorLabel(actor.id);
    if (!c.after.snapshot) {
      throw new Error(`no state recorded for ${label} before ${iso(afterMs)}; the first is at ${iso(c.after.first!.wall_ms)}: pass an "after" at or past it`);
    }
    checkPage(p, c.total);
    const same = c.before.snapshot?.id === c.after.snapshot.id;
    const changes = !c.before.snapshot
      ? [`Whole state at ${iso(afterMs)}: ${renderValue(c.after.snapshot.state)}`]
      : same
        ? ['No change: the same snapshot is in force at both moments.']
        : c.changes.length === 0
          ? ['No change in the state, though snapshots were taken in between.']
          : [`Changes (${c.changes.length + c.more}):`, ...c.changes.map((x) => `  ${renderChange(x)}`), ...(c.more ? [`  …${c.more} more changes`] : [])];
    const text = [
      `State of ${label} from ${iso(beforeMs)} to ${iso(afterMs)}`,
      `before: ${describe(c.before)}`,
      `after: ${describe(c.after)}`,
      ...changes,
      ...(c.requests.length ? [`Requests served by its calls (${c.requests.length}):`, ...c.requests.map((r) => `  ${renderRequest(r)}`)] : []),
      `What touched it in between: ${c.total} events`,
      ...c.entries.map(renderPathEntry),
      ...(c.total ? [footer(p, c.total, c.entries.length)] : []),
    ].join('\n');
    const view = (s: StateAt) => (s.snapshot ? { time: iso(s.snapshot.wall_ms), trigger: s.snapshot.trigger_text, ref: s.snapshot.ref, state: renderValue(s.snapshot.state) } : null);
    const data = {
      actor: actor.id,
      before: view(c.before),
      after: view(c.after),
      changes: c.changes.map(changeView),
      more: c.more,
      requests: c.requests.map(requestView),
      entries: c.entries.map(pathEntryView),
      total: c.total,
      page: p.page,
    };
    return { text, data };
  },
});
