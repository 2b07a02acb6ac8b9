// trace_line's hits (`probe/hit` events): what a probe saw each time its line ran and its condition held —
// locals, closure variables, `this`, values of named expressions, the source-mapped stack, the request.
import { kindIs } from '../store/kinds.js';
import type { Store } from '../store/store.js';
import { cap, COUNT_BOUND } from './page.js';
import { iso, parseJson, renderStack, renderValue, showKey } from './format.js';
import type { Page } from './page.js';
import { actorCodes, countedEvents, inList, ROW_COLUMNS, type Row } from './rows.js';
import { WINDOW_SQL, windowParams, type TimeWindow } from './time.js';

export interface ProbeHitFilter {
  /** A probe id (p1); all probes when absent. */
  probe?: string;
  actors?: readonly string[];
  corr?: string;
  window: TimeWindow;
}

export interface ProbeHit {
  id: number;
  wall_ms: number;
  actor: string;
  corr: string | null;
  probe: string;
  file: string;
  line: number;
  message: string | null;
  locals: Record<string, unknown>;
  closure: Record<string, unknown>;
  this: unknown;
  values: Record<string, unknown>;
  errors: Record<string, string>;
  stack: string[];
  budget_exceeded: boolean;
}

/**
 * A page of hits, oldest first, and how many: from the store's counts when only threads are asked for, else
 * counted up to COUNT_BOUND past the page's end, then `more` (counting every hit read each one: 36–43 ms of
 * CPU for 20k hits in 10 M events).
 */
export function probeHits(store: Store, filter: ProbeHitFilter, page: Page): { hits: ProbeHit[]; total: number; more: boolean } {
  const actors = filter.actors?.length ? inList('a', filter.actors) : undefined;
  const codes = filter.actors?.length ? inList('ac', actorCodes(store, filter.actors)) : undefined;
  const where = `${kindIs('probe', 'hit')} AND ${WINDOW_SQL}${filter.probe ? " AND json_extract(payload, '$.probe') = :probe" : ''}${codes ? ` AND actor_code IN (${codes.sql})` : ''}${filter.corr ? ' AND corr = :corr' : ''}`;
  const params = { ...windowParams(filter.window), ...(filter.probe ? { probe: filter.probe } : {}), ...codes?.params, ...(filter.corr ? { corr: filter.corr } : {}) };
  const plain = filter.window.sinceMs === null && filter.window.untilMs === null && !filter.probe && !filter.corr;
  const counted = plain ? countedEvents(store, `type = 'probe' AND subtype = 'hit'${actors ? ` AND actor IN (${actors.sql})` : ''}`, { ...actors?.params }) : undefined;
  const bound = page.offset + page.limit + COUNT_BOUND;
  const n = counted ?? (store.db.prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE ${where} LIMIT :bound)`).get({ ...params, bound: bound + 1 }) as { n: number }).n;
  const rows = store.db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE ${where} ORDER BY ts_ns, id LIMIT :limit OFFSET :offset`).all({ ...params, limit: page.limit, offset: page.offset }) as Row[];
  const more = counted === undefined && n > bound;
  return { hits: rows.map(probeHit), total: more ? bound : n, more };
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function probeHit(r: Row): ProbeHit {
  const p = obj(parseJson(r.payload));
  return {
    id: r.id,
    wall_ms: r.wall_ms,
    actor: r.actor,
    corr: r.corr,
    probe: String(p.probe ?? '?'),
    file: String(p.file ?? '?'),
    line: typeof p.line === 'number' ? p.line : 0,
    message: typeof p.message === 'string' ? p.message : null,
    locals: obj(p.locals),
    closure: obj(p.closure),
    this: p.this ?? null,
    values: obj(p.values),
    errors: obj(p.errors) as Record<string, string>,
    stack: renderStack(p.stack, 6),
    budget_exceeded: p.budget_exceeded === true,
  };
}

function bindings(values: Record<string, unknown>, max = 600): string {
  return cap(Object.entries(values).map(([k, v]) => `${showKey(k)} = ${renderValue(v, 160)}`).join(', '), max);
}

/** One line: what an execution path shows of a hit among calls and messages. */
export function renderProbeLine(payload: unknown): string {
  const p = obj(payload);
  const where = `${String(p.file ?? '?').split('/').slice(-2).join('/')}:${p.line}`;
  const what = typeof p.message === 'string' ? JSON.stringify(p.message) : bindings({ ...obj(p.values), ...obj(p.locals) }, 200);
  return `probe ${p.probe} hit at ${where}: ${what}`;
}

/** A hit as a few indented lines. */
export function renderProbeHit(h: ProbeHit): string {
  const lines = [`${iso(h.wall_ms)} ${h.actor} ${h.probe} at ${h.file}:${h.line}${h.corr ? ` (request ${h.corr})` : ''} [#${h.id}]`];
  if (h.message !== null) lines.push(`  message: ${cap(h.message, 400)}`);
  if (Object.keys(h.values).length) lines.push(`  values: ${bindings(h.values)}`);
  lines.push(`  locals: ${bindings(h.locals) || '(none)'}`);
  if (Object.keys(h.closure).length) lines.push(`  closure: ${bindings(h.closure)}`);
  if (h.this !== null) lines.push(`  this: ${renderValue(h.this, 300)}`);
  if (Object.keys(h.errors).length) lines.push(`  failed: ${Object.entries(h.errors).map(([k, v]) => `${k} → ${v}`).join('; ')}`);
  if (h.budget_exceeded) lines.push('  (capture budget exceeded: some values were cut)');
  if (h.stack.length) lines.push(`  stack: ${h.stack.join(' ← ')}`);
  return lines.join('\n');
}

export function probeHitView(h: ProbeHit): Record<string, unknown> {
  const render = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, renderValue(v)]));
  return {
    id: h.id,
    time: iso(h.wall_ms),
    actor: h.actor,
    probe: h.probe,
    file: h.file,
    line: h.line,
    corr: h.corr,
    ...(h.message !== null ? { message: h.message } : {}),
    values: render(h.values),
    locals: render(h.locals),
    closure: render(h.closure),
    this: h.this === null ? null : renderValue(h.this),
    errors: h.errors,
    stack: h.stack,
  };
}
