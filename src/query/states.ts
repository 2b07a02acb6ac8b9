// State snapshots of a tracked object (`state/snapshot`, one after each method call: the call is the
// trigger, like a GenServer's handle_call) and the diffs between consecutive ones.
import { kindIs } from '../store/kinds.js';
import type { Store } from '../store/store.js';
import { diffStates, renderChange, type Change } from './diff.js';
import { iso, parseJson, renderTrigger, renderValue } from './format.js';
import type { Page } from './page.js';
import { tsRange } from './clock.js';
import { countedEvents, objectInfo, ROW_COLUMNS, type Row } from './rows.js';
import { WINDOW_SQL, windowParams, type TimeWindow } from './time.js';

export interface Snapshot {
  id: number;
  ts_ns: number;
  wall_ms: number;
  /** Call id of the trigger. */
  ref: string | null;
  state: unknown;
  trigger: unknown;
  /** `Cart#add("apple", 2)`, or `tracking began`. */
  trigger_text: string;
}

export function snapshot(row: Row, className: string | null): Snapshot {
  const p = (parseJson(row.payload) ?? {}) as Record<string, unknown>;
  const trigger = p.trigger ?? null;
  return { id: row.id, ts_ns: row.ts_ns, wall_ms: row.wall_ms, ref: row.ref, state: p.state, trigger, trigger_text: renderTrigger(trigger, className) };
}

// `+type`: one object's rows come from the (actor, ts_ns) index, not every snapshot of every object.
export const SNAPSHOTS = `actor_code = :actor_code AND +${kindIs('state', 'snapshot')}`;

export function snapshotCount(store: Store, actor: string): number {
  return (
    countedEvents(store, "actor = :actor AND type = 'state' AND subtype = 'snapshot'", { actor }) ??
    (store.db.prepare(`SELECT count(*) AS n FROM events WHERE ${SNAPSHOTS}`).get({ actor_code: store.actorCode(actor) }) as { n: number }).n
  );
}

/** Bytes of the JSON of an object's last snapshot, or null when it has none. */
export function lastSnapshotBytes(store: Store, actor: string): number | null {
  const row = store.db.prepare(`SELECT length(payload) AS bytes FROM events WHERE ${SNAPSHOTS} ORDER BY ts_ns DESC LIMIT 1`).get({ actor_code: store.actorCode(actor) }) as { bytes: number } | undefined;
  return row?.bytes ?? null;
}

export function stateTimeline(store: Store, actor: string, window: TimeWindow, page: Page): { snapshots: Snapshot[]; total: number } {
  const className = objectInfo(store.actor(actor)).class;
  // The window as a ts_ns range of (actor, ts_ns) (clock.ts), and without one the store's count: an object's
  // snapshots were counted by reading them all (20k rows, 61–139 ms on 1 M events).
  const windowed = window.sinceMs !== null || window.untilMs !== null;
  const range = windowed ? tsRange(store, window) : { lo: Number.MIN_SAFE_INTEGER, hi: Number.MAX_SAFE_INTEGER };
  const params = { actor_code: store.actorCode(actor), ...windowParams(window), lo: range.lo, hi: range.hi };
  const cond = `${SNAPSHOTS} AND ts_ns >= :lo AND ts_ns <= :hi AND ${WINDOW_SQL}`;
  const total = (windowed ? undefined : countedEvents(store, "actor = :actor AND type = 'state' AND subtype = 'snapshot'", { actor })) ??
    (store.db.prepare(`SELECT count(*) AS n FROM events WHERE ${cond}`).get(params) as { n: number }).n;
  const rows = store.db
    .prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE ${cond} ORDER BY ts_ns, id LIMIT :limit OFFSET :offset`)
    .all({ ...params, limit: page.limit, offset: page.offset }) as Row[];
  return { snapshots: rows.map((r) => snapshot(r, className)), total };
}

/** The snapshot just before another one, whatever the window: the first change in a window has a "before". */
function previousSnapshot(store: Store, actor: string, s: Snapshot, className: string | null): Snapshot | undefined {
  const row = store.db
    .prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE ${SNAPSHOTS} AND (ts_ns < :ts OR (ts_ns = :ts AND id < :id)) ORDER BY ts_ns DESC, id DESC LIMIT 1`)
    .get({ actor_code: store.actorCode(actor), ts: s.ts_ns, id: s.id }) as Row | undefined;
  return row ? snapshot(row, className) : undefined;
}

/** Changes shown per transition; the rest is counted. */
export const MAX_CHANGES = 20;

export interface Transition {
  wall_ms: number;
  ref: string | null;
  trigger: string;
  /** The first snapshot ever recorded: nothing to compare with. */
  initial: boolean;
  /** The whole state, for the initial snapshot only. */
  state?: unknown;
  changes: Change[];
  /** Changes left out past MAX_CHANGES. */
  more: number;
}

/** One transition per snapshot in the window: its diff against the snapshot before it (and the snapshots). */
export function stateChanges(store: Store, actor: string, window: TimeWindow, page: Page): { transitions: Transition[]; snapshots: Snapshot[]; total: number } {
  const className = objectInfo(store.actor(actor)).class;
  const { snapshots, total } = stateTimeline(store, actor, window, page);
  const transitions = snapshots.map((s, i): Transition => {
    const prev = i > 0 ? snapshots[i - 1] : previousSnapshot(store, actor, s, className);
    if (!prev) return { wall_ms: s.wall_ms, ref: s.ref, trigger: s.trigger_text, initial: true, state: s.state, changes: [], more: 0 };
    const changes = diffStates(prev.state, s.state);
    return { wall_ms: s.wall_ms, ref: s.ref, trigger: s.trigger_text, initial: false, changes: changes.slice(0, MAX_CHANGES), more: Math.max(0, changes.length - MAX_CHANGES) };
  });
  return { transitions, snapshots, total };
}

/** `2026-…Z after Cart#add("apple", 2) [4242:c7]: Cart {…}` */
export function renderSnapshot(s: Snapshot): string {
  return `${iso(s.wall_ms)} after ${s.trigger_text}${s.ref ? ` [${s.ref}]` : ''}: ${renderValue(s.state)}`;
}

export function snapshotView(s: Snapshot): Record<string, unknown> {
  return { time: iso(s.wall_ms), ref: s.ref, trigger: s.trigger_text, state: renderValue(s.state) };
}

/** A heading line, then one indented line per change. */
export function renderTransition(t: Transition): string {
  const head = `${iso(t.wall_ms)} after ${t.trigger}${t.ref ? ` [${t.ref}]` : ''}`;
  if (t.initial) return `${head}: first state recorded: ${renderValue(t.state)}`;
  if (t.changes.length === 0) return `${head}: no change`;
  const lines = t.changes.map((c) => `  ${renderChange(c)}`);
  if (t.more > 0) lines.push(`  …${t.more} more changes`);
  return `${head}:\n${lines.join('\n')}`;
}

export function transitionView(t: Transition): Record<string, unknown> {
  return {
    time: iso(t.wall_ms),
    ref: t.ref,
    trigger: t.trigger,
    initial: t.initial,
    ...(t.initial ? { state: renderValue(t.state) } : {}),
    changes: t.changes.map(changeView),
    more: t.more,
  };
}

export function changeView(c: Change): Record<string, unknown> {
  return {
    path: c.path,
    kind: c.kind,
    ...(c.kind !== 'added' ? { before: renderValue(c.before) } : {}),
    ...(c.kind !== 'removed' ? { after: renderValue(c.after) } : {}),
  };
}
