// slowest_function_calls and performance_analysis read completions through events_end_key (module, fn,
// duration): their answers equal those of the reads over every completion they replaced, with ties, missing
// durations, several modules and functions, and windows.
import { describe, expect, it } from 'vitest';
import { performanceAnalysis, slowestCalls } from '../../src/query/perf.js';
import { Store, type EventRow } from '../../src/store/store.js';

const MODULES = ['/app/payments.js', '/app/cart.js', 'pkg'];
const FNS = ['charge', 'refund', 'quote'];

function store(): Store {
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
  const s = new Store();
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
      const d = mine.flatMap((e) => (e.ns === null ? [] : [e.ns / 1e6])).sort((a, b) => a - b);
      const st = stats.find((x) => x.fn === fn)!;
      expect({ errors: st.errors, total_ms: st.total_ms, max_ms: st.max_ms }).toEqual({ errors: mine.filter((e) => e.subtype === 'throw').length, total_ms: d.reduce((a, b) => a + b, 0), max_ms: Math.max(...d) });
    }
  });
});
