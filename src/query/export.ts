// A trace file people can look at: the Chrome Trace Event format, which ui.perfetto.dev and
// chrome://tracing open. One track per thread (pid = OS pid, tid = Node threadId), calls as slices,
// messages as flow arrows from send to receipt, HTTP requests as slices, state changes, logs and crashes as
// instant events. Times are microseconds on the shared monotonic clock.
import type { Store } from '../store/store.js';
import { eventTypes, windowRange } from './clock.js';
import { receiptsOf } from './messages.js';
import { inList, ROW_COLUMNS, type Row } from './rows.js';
import type { TimeWindow } from './time.js';

/** Enough for a long session; past it the file says where it stopped. */
export const MAX_EXPORT_EVENTS = 200_000;

export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 's' | 'f' | 'M';
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  s?: 't' | 'p' | 'g';
  id?: number;
  bp?: 'e';
  cat?: string;
  args?: Record<string, unknown>;
}

export interface TraceExport {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  metadata: { source: 'nodescope'; events: number; cut: boolean };
}

type RawRow = [number, number, number, string, string, string, string | null, string | null, string | null, string | null, string | null];

/** A row read as an array of ROW_COLUMNS, in their order. */
function rowOf([id, ts_ns, wall_ms, type, subtype, actor, from_actor, to_actor, corr, ref, payload]: RawRow): Row {
  return { id, ts_ns, wall_ms, type, subtype, actor, from_actor, to_actor, corr, ref, payload };
}

/** "4242/w1/o3" → pid 4242, tid 1: an object lives on its owner's track. */
export function track(actor: string): { pid: number; tid: number } {
  const [pid, second] = actor.split('/');
  const tid = second?.startsWith('w') ? Number(second.slice(1)) : 0;
  return { pid: Number(pid) || 0, tid: Number.isFinite(tid) ? tid : 0 };
}

export function exportTrace(store: Store, window: TimeWindow): { trace: TraceExport; counts: Record<string, number> } {
  // Each type's part of (type, ts_ns) within the window: without an index on ts_ns alone, `ts_ns BETWEEN`
  // read the whole table whatever the window.
  const kinds = eventTypes(store);
  const range = windowRange(store, window, kinds);
  const types = inList('t', kinds.map((k) => store.typeCode(k)));
  const read = store.db.prepare(
    `SELECT ${ROW_COLUMNS} FROM events WHERE type_code IN (${types.sql}) AND ts_ns BETWEEN :lo AND :hi
     AND (:since IS NULL OR wall_ms >= :since) AND (:until IS NULL OR wall_ms <= :until)
     ORDER BY ts_ns, id LIMIT ${MAX_EXPORT_EVENTS + 1}`,
  );
  // Rows as arrays, made objects here: better-sqlite3's row objects cost twice as much (4.5 vs 9 ms for the
  // 1,000 rows of a 100 ms window).
  read.raw(true);
  const rows = (read.all({ ...types.params, lo: range.lo, hi: range.hi, since: window.sinceMs, until: window.untilMs }) as RawRow[]).map(rowOf);
  const cut = rows.length > MAX_EXPORT_EVENTS;
  if (cut) rows.length = MAX_EXPORT_EVENTS;
  const us = (ns: number) => ns / 1000;
  const out: TraceEvent[] = [];
  const counts: Record<string, number> = { calls: 0, messages: 0, requests: 0, instants: 0 };

  for (const a of store.actors()) {
    const t = track(a.id);
    if (a.kind === 'process') out.push({ name: 'process_name', ph: 'M', pid: t.pid, tid: 0, ts: 0, args: { name: `${a.id} ${a.name ?? ''}`.trim() } });
    if (a.kind !== 'object') out.push({ name: 'thread_name', ph: 'M', pid: t.pid, tid: t.tid, ts: 0, args: { name: a.kind === 'worker' ? `${a.id} ${a.name ?? 'worker'}` : `${a.id} main` } });
  }

  // Calls not yet ended, with their parsed payloads, per thread and call id.
  const open = new Map<string, { row: Row; p: Record<string, any> }[]>();
  const requests = new Map<string, Row>();
  const sends: Row[] = [];
  for (const r of rows) {
    const p = r.payload ? JSON.parse(r.payload) : {};
    const t = track(r.actor);
    if (r.type === 'call') {
      const key = `${r.actor}\0${r.ref}`;
      if (r.subtype === 'call') {
        open.set(key, [...(open.get(key) ?? []), { row: r, p }]);
        // A breakpoint trace records the call only: an instant, since there is no end to draw.
        if (p.via === 'breakpoint') {
          out.push({ name: p.fn, ph: 'i', s: 't', cat: 'call', ...t, ts: us(r.ts_ns), args: { actor: r.actor, module: p.module, args: p.args } });
          counts.calls!++;
        }
        continue;
      }
      const started = open.get(key)?.pop();
      if (!started) continue;
      const { row: start, p: sp } = started;
      out.push({
        name: sp.fn, ph: 'X', cat: 'call', ...t, ts: us(start.ts_ns), dur: Math.max(us(r.ts_ns - start.ts_ns), 0.001),
        args: { actor: r.actor, module: sp.module, args: sp.args, [r.subtype === 'throw' ? 'error' : 'result']: r.subtype === 'throw' ? p.error : p.result, async: p.async, call: r.ref },
      });
      counts.calls!++;
    } else if (r.type === 'message' && r.subtype === 'send') {
      sends.push(r);
    } else if (r.type === 'http' && r.subtype === 'request' && r.ref) {
      requests.set(r.ref, r);
    } else if (r.type === 'http' && r.subtype === 'response' && r.ref && requests.has(r.ref)) {
      const start = requests.get(r.ref)!;
      out.push({ name: `${p.method} ${p.route ?? p.url}`, ph: 'X', cat: 'http', ...t, ts: us(start.ts_ns), dur: Math.max(us(r.ts_ns - start.ts_ns), 0.001), args: { status: p.status, url: p.url, request: r.ref } });
      counts.requests!++;
    } else if (r.type !== 'message') {
      out.push({ name: `${r.type}/${r.subtype}`, ph: 'i', s: r.type === 'process' || r.type === 'error' ? 'p' : 't', cat: r.type, ...t, ts: us(r.ts_ns), args: { actor: r.actor, ...p } });
      counts.instants!++;
    }
  }

  const receipts = receiptsOf(store, sends);
  let flow = 0;
  for (const s of sends) {
    const p = s.payload ? JSON.parse(s.payload) : {};
    const from = track(s.actor);
    const name = `${p.channel ?? 'message'} → ${s.to_actor}`;
    // Flow arrows bind to slices: a 1 µs slice marks each end.
    out.push({ name, ph: 'X', cat: 'message', ...from, ts: us(s.ts_ns), dur: 1, args: { from: s.from_actor, to: s.to_actor, message: p.message, ref: s.ref } });
    const receipt = receipts.get(s.id);
    counts.messages!++;
    if (!receipt || !s.to_actor) continue;
    const to = track(s.to_actor);
    const id = ++flow;
    out.push({ name: `receive ← ${s.from_actor}`, ph: 'X', cat: 'message', ...to, ts: us(receipt.ts_ns), dur: 1, args: { from: s.from_actor, to: s.to_actor, ref: s.ref } });
    out.push({ name, ph: 's', cat: 'message', id, ...from, ts: us(s.ts_ns) });
    out.push({ name, ph: 'f', bp: 'e', cat: 'message', id, ...to, ts: us(receipt.ts_ns) });
  }
  return { trace: { traceEvents: out, displayTimeUnit: 'ms', metadata: { source: 'nodescope', events: rows.length, cut } }, counts };
}
