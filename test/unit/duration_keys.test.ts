// slowest_function_calls and performance_analysis read completions through events_end_key (module, fn,
// duration) and the store's call_durations tallies: their answers equal those of the reads over every
// completion they replaced, with ties, missing durations, several modules and functions, windows and prunes.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXACT_PERCENTILES, performanceAnalysis, renderStats, slowestCalls, type FunctionStats } from '../../src/query/perf.js';
import { Store, type EventRow } from '../../src/store/store.js';
import { tempDir } from '../helpers.js';

const MODULES = ['/app/payments.js', '/app/cart.js', 'pkg'];
const FNS = ['charge', 'refund', 'quote'];

function store(path?: string): Store {
  let x = 11;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const rows: EventRow[] = [];
  for (let i = 0; i < 400; i++) {
    const module = MODULES[Math.floor(rand() * 3)]!;
    const fn = FNS[Math.floor(rand() * 3)]!;
    const actor = rand() < 0.5 ? '1' : '1/w1';
    const ref = `${actor}:c${i}`;
    const at = (k: number) => ({ ts_ns: 1_000_000 + i * 1_000 + k, wall_ms: 1_700_000_000_000 + i + k / 1000, actor, from_actor: null, to_actor: null, corr: null, ref });
    rows.push({ ...at(0), type: 'call', subtype: 'call', payload: JSON.stringify({ module, fn, args: [i], parent: null }) });
    if (rand() < 0.1) continue; // still running
    // durations repeat (ties), and some completions carry none
    const duration = rand() < 0.05 ? undefined : Math.floor(rand() * 20) * 1000;
    rows.push({ ...at(500), type: 'call', subtype: rand() < 0.2 ? 'throw' : 'return', payload: JSON.stringify({ module, fn, result: 1, duration_ns: duration, async: false }) });
  }
  const s = new Store({ path });
  s.write(rows, []);
  return s;
}

/** The slowest completions as the read over every completion ordered them. */
function reference(s: Store, limit: number, since: number | null): string[] {
  return (s.db
    .prepare(
      `SELECT ref FROM events WHERE type = 'call' AND subtype IN ('return', 'throw') AND ref IS NOT NULL AND (:since IS NULL OR wall_ms >= :since)
       ORDER BY json_extract(payload, '$.duration_ns') DESC, ts_ns, id LIMIT :limit`,
    )
    .all({ since, limit }) as { ref: string }[]).map((r) => r.ref);
}

describe('completions by duration', () => {
  it('slowest_function_calls returns what ordering every completion gave', () => {
    const s = store();
    for (const limit of [1, 5, 40, 1000]) {
      for (const since of [null, 1_700_000_000_000 + 250]) {
        const window = { sinceMs: since, untilMs: null };
        expect(slowestCalls(s, { window }, limit).map((c) => c.ref)).toEqual(reference(s, limit, since));
      }
    }
    const payments = slowestCalls(s, { module: 'payments.js', window: { sinceMs: null, untilMs: null } }, 1000);
    expect(payments.length).toBeGreaterThan(50);
    expect(payments.every((c) => c.module === '/app/payments.js')).toBe(true);
    expect(payments.map((c) => c.ref)).toEqual(reference(s, 1000, null).filter((ref) => payments.some((c) => c.ref === ref)));
  });

  it('performance_analysis counts every completion of the module', () => {
    const s = store();
    const stats = performanceAnalysis(s, 'payments.js', { sinceMs: null, untilMs: null });
    const ends = s.db.prepare("SELECT json_extract(payload, '$.fn') AS fn, subtype, json_extract(payload, '$.duration_ns') AS ns FROM events WHERE subtype IN ('return', 'throw') AND json_extract(payload, '$.module') = '/app/payments.js'").all() as { fn: string; subtype: string; ns: number | null }[];
    for (const fn of FNS) {
      const mine = ends.filter((e) => e.fn === fn);
      const ns = mine.flatMap((e) => (e.ns === null ? [] : [e.ns])).sort((a, b) => a - b);
      const rank = (p: number) => ns[Math.ceil(p * ns.length) - 1]! / 1e6;
      const st = stats.find((x) => x.fn === fn)!;
      expect({ errors: st.errors, total_ms: st.total_ms, max_ms: st.max_ms, p50_ms: st.p50_ms, p95_ms: st.p95_ms, estimated: st.estimated }).toEqual({
        errors: mine.filter((e) => e.subtype === 'throw').length,
        total_ms: ns.reduce((a, b) => a + b, 0) / 1e6,
        max_ms: Math.max(...ns) / 1e6,
        p50_ms: rank(0.5),
        p95_ms: rank(0.95),
        estimated: undefined,
      });
    }
  });

  it('performance_analysis reads its tallies as it reads every completion, through pruning, and estimates past EXACT_PERCENTILES', () => {
    const s = store();
    // a busy function: its percentiles come from the histogram, within 25 %
    const rows: EventRow[] = [];
    for (let i = 0; i < EXACT_PERCENTILES + 500; i++) {
      const at = { ts_ns: 9_000_000 + i * 10, wall_ms: 1_700_000_010_000 + i / 100, actor: '1', from_actor: null, to_actor: null, corr: null, ref: `1:b${i}` };
      rows.push({ ...at, type: 'call', subtype: 'call', payload: JSON.stringify({ module: '/app/payments.js', fn: 'busy', args: [], parent: null }) });
      rows.push({ ...at, ts_ns: at.ts_ns + 5, type: 'call', subtype: 'return', payload: JSON.stringify({ module: '/app/payments.js', fn: 'busy', result: 1, duration_ns: 1_000 + ((i * 7919) % 5_000) * 100, async: false }) });
    }
    s.write(rows, []);
    const everything = { sinceMs: 0, untilMs: null }; // a window: read from the completions
    const shape = (st: FunctionStats[]) => st.map(({ estimated, p50_ms, p95_ms, total_ms, mean_ms, ...rest }) => ({ ...rest, total_ns: Math.round(total_ms * 1e6), mean_ns: mean_ms === null ? null : Math.round(mean_ms * 1e6) }));
    const check = () => {
      const tallied = performanceAnalysis(s, 'payments.js', { sinceMs: null, untilMs: null });
      const read = performanceAnalysis(s, 'payments.js', everything);
      expect(shape(tallied)).toEqual(shape(read));
      for (const t of tallied) {
        const r = read.find((x) => x.fn === t.fn)!;
        if (!t.estimated) expect([t.p50_ms, t.p95_ms]).toEqual([r.p50_ms, r.p95_ms]);
        else for (const p of ['p50_ms', 'p95_ms'] as const) expect(Math.abs(t[p]! - r[p]!) / r[p]!).toBeLessThan(0.25);
      }
      return tallied;
    };
    const busy = check().find((x) => x.fn === 'busy')!;
    expect(busy).toMatchObject({ calls: EXACT_PERCENTILES + 500, estimated: true });
    expect(renderStats(busy)).toContain('p50 ~');
    s.maxEvents = s.eventCount() - 3_000;
    s.prune();
    check();
    s.retention = { call: 0 };
    s.pruneByAge();
    expect(performanceAnalysis(s, 'payments.js', { sinceMs: null, untilMs: null })).toEqual([]);
    expect(s.db.prepare('SELECT count(*) AS n FROM call_durations').get()).toEqual({ n: 0 });
  });

  it('performance_analysis has the tallies of a file written before them, counted once when it is opened', () => {
    const path = join(tempDir(), 'trace.db');
    const first = store(path);
    const whole = { sinceMs: null, untilMs: null };
    const before = performanceAnalysis(first, 'payments.js', whole);
    first.db.exec('DROP TABLE call_durations');
    first.close();
    const again = new Store({ path });
    expect(performanceAnalysis(again, 'payments.js', whole)).toEqual(before);
    again.close();
  });
});
