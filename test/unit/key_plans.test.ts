// Query plans of the filtered questions: each reads its rows by the key columns and partial indexes of the
// store (src/store/store.ts), never every row of a type, and pages come out of the index in order (no sort
// of every match). Exact plans: a planner change that loses an index fails here, not in production.
import { describe, expect, it } from 'vitest';
import { functionCalls } from '../../src/query/calls.js';
import { httpRequests } from '../../src/query/http.js';
import { messageFlow } from '../../src/query/messages.js';
import { eventsBetween } from '../../src/query/events.js';
import { executionPath } from '../../src/query/path.js';
import { EVENTS, recordPlans, setup, T0, webEvents } from '../query_fixture.js';

const ALL = { sinceMs: null, untilMs: null };
const PAGE = { limit: 10, offset: 0 };
// The store's call sites in (module, fn) order, each probed once in the index.
const PAIRS =
  'WITH pairs(m, f, s) AS ( SELECT module, fn, code FROM site_c => SCAN c USING COVERING INDEX sqlite_autoindex_site_codes_1; SEARCH events EXISTS USING COVERING INDEX events_call_key (site=?)';

function plansOf(run: (store: ReturnType<typeof setup>['store']) => unknown): string[] {
  const { store } = setup([...EVENTS, ...webEvents()]);
  const plans = recordPlans(store);
  run(store);
  return [...plans].filter(([sql]) => /FROM events/.test(sql) && !sql.includes('json_extract(payload, \'$.module\') LIKE')).map(([sql, plan]) => `${sql.slice(0, 60)} => ${plan}`);
}

describe('query plans on the key columns', () => {
  it('get_function_calls: distinct (module, fn) pairs walked through the index, then each pair read by its keys', () => {
    const plans = plansOf((store) => {
      const r = functionCalls(store, { module: 'payments.js', window: ALL }, PAGE);
      // the same count as reading every call's payload
      const json = store.db.prepare("SELECT count(*) AS n FROM events WHERE type = 'call' AND subtype = 'call' AND json_extract(payload, '$.module') LIKE '%/payments.js'").get() as { n: number };
      expect([r.total, r.calls.length]).toEqual([json.n, json.n]);
      expect(r.total).toBe(4);
    });
    expect(plans).toEqual([
      // one probe per call site the store named, not a scan of the call rows
      PAIRS,
      // (the count comes from the store's call_counts: no statement on events)
      // in ts_ns order from the index: no sort of every match
      'SELECT id, ts_ns, wall_ms, type, subtype, actor, from_actor, => SEARCH events USING INDEX events_call_key (site=?)',
      'SELECT id, subtype, ts_ns, ref, payload FROM events WHERE ac => SEARCH events USING INDEX events_actor_ts (actor_code=? AND ts_ns>?)',
    ]);
  });

  it('get_function_calls with a function and an actor', () => {
    const plans = plansOf((store) => functionCalls(store, { module: 'payments.js', fn: 'charge', actors: ['4242'], window: ALL }, PAGE));
    expect(plans).toEqual([
      // one probe per call site the store named, not a scan of the call rows
      PAIRS,
      // (the count comes from the store's call_counts: no statement on events)
      // in ts_ns order from the index: no sort of every match
      'SELECT id, ts_ns, wall_ms, type, subtype, actor, from_actor, => SEARCH events USING INDEX events_call_key (site=?)',
      'SELECT id, subtype, ts_ns, ref, payload FROM events WHERE ac => SEARCH events USING INDEX events_actor_ts (actor_code=? AND ts_ns>?)',
    ]);
  });

  it('get_message_flow: each direction is a range of events_send_pair; the count from the store\'s tally; receipts by message id', () => {
    const plans = plansOf((store) => {
      const r = messageFlow(store, '4242', '4242/w1', ALL, { limit: 1, offset: 0 });
      // the same count as the sends of both directions
      const exact = store.db.prepare("SELECT count(*) AS n FROM events NOT INDEXED WHERE type = 'message' AND subtype = 'send' AND actor IN ('4242', '4242/w1') AND to_actor IN ('4242', '4242/w1')").get() as { n: number };
      expect(r.total).toBe(exact.n);
      expect(r.total).toBeGreaterThan(1);
      messageFlow(store, '4242', '4242/w1', ALL, PAGE);
    }).filter((p) => !p.includes('NOT INDEXED'));
    expect(plans[0]).toEqual('SELECT id, ts_ns, wall_ms, type, subtype, actor, from_actor, => SEARCH events USING INDEX events_send_pair (actor_code=? AND to_actor=?)');
    // The receiver's first event (where its tracing began), by (actor, ts_ns)
    expect(plans[1]).toEqual('SELECT min(ts_ns) AS t FROM events WHERE actor_code = ? => SEARCH events USING COVERING INDEX events_actor_ts (actor_code=?)');
    // The sends and receipts of the page's ids, by id (a sort of those rows only: a few per id).
    expect(plans.slice(2, -1).length).toBeGreaterThan(0);
    expect(plans.slice(2, -1).every((p) => p.includes('SEARCH events USING INDEX events_message_ref (short_ref=?'))).toBe(true);
    // Sends without a receipt: their receiver's first event (is it traced from its start?), by (actor, ts_ns).
    expect(plans.at(-1)).toBe('SELECT ts_ns, payload FROM events WHERE actor_code = ? AND N => SEARCH events USING INDEX events_actor_ts (actor_code=?)');
  });

  it('a request: its path and its calls read by its id (events_corr), not the thread\'s history', () => {
    const path = plansOf((store) => executionPath(store, '4242', ALL, PAGE, '4242:r1'));
    expect(path.filter((p) => p.includes('events_actor_ts') && !p.startsWith('SELECT id, subtype'))).toEqual([]);
    expect(path.filter((p) => p.includes('events_corr (short_corr=?)'))).toHaveLength(2);
    const calls = plansOf((store) => functionCalls(store, { module: 'payments.js', corr: '4242:r1', window: ALL }, PAGE));
    expect(calls.slice(1, 3)).toEqual([
      "SELECT count(*) AS n FROM events INDEXED BY events_corr WHER => SEARCH events USING INDEX events_corr (short_corr=?)",
      // (the request's rows, from up to three ranges of events_corr, one per way its id is stored: sorted, a few rows)
      'SELECT id, ts_ns, wall_ms, type, subtype, actor, from_actor, => SEARCH events USING INDEX events_corr (short_corr=?); USE TEMP B-TREE FOR ORDER BY',
    ]);
  });

  it('get_http_requests by status or duration: responses from their key index in the order their requests started, each joined to its request by id', () => {
    const byStatus = plansOf((store) => httpRequests(store, { window: ALL, statusMin: 500 }, PAGE));
    const bySlow = plansOf((store) => httpRequests(store, { window: ALL, slowMs: 1 }, PAGE));
    const join = 'SELECT * FROM (SELECT q.id AS row_id, q.actor, q.ref, q.wall => SEARCH r USING INTEGER PRIMARY KEY (rowid=?); SEARCH q USING INTEGER PRIMARY KEY (rowid=?); CORRELATED SCALAR SUBQUERY 1; SEARCH x USING INDEX events_http_request (short_ref=? AND actor_code=? AND ts_ns<?)';
    const keyed = (plans: string[]) => plans.filter((p) => !p.startsWith('SELECT ts_ns, wall_ms FROM events WHERE id'));
    const count = (index: string, key: string) =>
      `SELECT count(*) AS n FROM (SELECT * FROM (SELECT q.id AS row => CO-ROUTINE (subquery-3); SEARCH r USING INDEX ${index} (${key}>?); SEARCH q USING INTEGER PRIMARY KEY (rowid=?); CORRELATED SCALAR SUBQUERY 1; SEARCH x USING INDEX events_http_request (short_ref=? AND actor_code=? AND ts_ns<?); SCAN (subquery-3)`;
    // the count joins each match (up to the bound); the sort is of the matching index entries only (both
    // indexes cover it: no row read to order them); the page joins its rows one by one
    expect(keyed(byStatus)).toEqual([count('events_http_status', 'site'), 'SELECT r.id FROM events AS r INDEXED BY events_http_status W => SEARCH r USING COVERING INDEX events_http_status (site>?); USE TEMP B-TREE FOR ORDER BY', join]);
    expect(keyed(bySlow)).toEqual([count('events_http_slow', 'k_ns'), 'SELECT r.id FROM events AS r INDEXED BY events_http_slow WHE => SEARCH r USING COVERING INDEX events_http_slow (k_ns>?); USE TEMP B-TREE FOR ORDER BY', join]);
  });

  it('get_execution_path: the actor family by (actor, ts_ns), the workers it started by events_spawned_by', () => {
    const plans = plansOf((store) => {
      const r = executionPath(store, '4242', ALL, PAGE);
      // the same total as counting the rows the path shows
      const family = r.family.map((f) => `'${f}'`).join(', ');
      const exact = store.db.prepare(`SELECT count(*) AS n FROM events WHERE (actor IN (${family}) OR (from_actor = '4242' AND type IN ('worker', 'child'))) AND NOT (type = 'call' AND subtype IN ('return', 'throw'))`).get() as { n: number };
      expect(r.total).toBe(exact.n);
    });
    expect(plans.filter((p) => !p.includes('FROM events WHERE (actor IN'))).toEqual([
      // in ts_ns order from each index, no sort of the whole history; the count from actor_counts
      'SELECT id, ts_ns, wall_ms, type, subtype, actor, from_actor, => SEARCH events USING INDEX events_spawned_by (from_actor=?)',
      'SELECT id, ts_ns, wall_ms, type, subtype, actor, from_actor, => SEARCH events USING INDEX events_actor_ts (actor_code=?)',
      'SELECT count(*) AS n FROM events WHERE from_actor = :self AN => SEARCH events USING INDEX events_spawned_by (from_actor=?)',
      // the completions of the calls on the page
      'SELECT id, subtype, ts_ns, ref, payload FROM events WHERE ac => SEARCH events USING INDEX events_actor_ts (actor_code=? AND ts_ns>?)',
    ]);
  });

  it('get_events_between: each type\'s (or actor\'s) part of the window read in ts_ns order from its index, at most a page of it, and merged', () => {
    const window = { sinceMs: T0 + 1, untilMs: T0 + 30 };
    const plans = (filter: { actors?: string[] }) =>
      plansOf((store) => {
        // every page equals the window's rows sorted whole
        const all = (store.db.prepare('SELECT id, actor FROM events NOT INDEXED WHERE wall_ms BETWEEN ? AND ? ORDER BY ts_ns, id').all(window.sinceMs, window.untilMs) as { id: number; actor: string }[])
          .filter((r) => !filter.actors || filter.actors.includes(r.actor))
          .map((r) => r.id);
        expect(all.length).toBeGreaterThan(12);
        for (let offset = 0; offset < all.length; offset += 5) {
          const r = eventsBetween(store, { window, ...filter }, { page: offset / 5 + 1, limit: 5, offset });
          expect([r.events.map((e) => e.id), r.total]).toEqual([all.slice(offset, offset + 5), all.length]);
        }
      }).filter((p) => /^SELECT (count|ts_ns, id|id)/.test(p) && !p.includes('NOT INDEXED'));
    // no USE TEMP B-TREE FOR ORDER BY: the page costs its rows, not the window's; then the page's rows by id
    const byId = 'SELECT id, ts_ns, wall_ms, type, subtype, actor, from_actor, => SEARCH events USING INTEGER PRIMARY KEY (rowid=?)';
    expect(plans({})).toEqual([
      'SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE type_c => CO-ROUTINE (subquery-1); SEARCH events USING INDEX events_type_ts (type_code=? AND ts_ns>? AND ts_ns<?); SCAN (subquery-1)',
      'SELECT ts_ns, id FROM events WHERE type_code = :key AND ts_n => SEARCH events USING INDEX events_type_ts (type_code=? AND ts_ns>? AND ts_ns<?)',
      byId,
    ]);
    expect(plans({ actors: ['4242', '4242/o1'] })).toEqual([
      'SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE actor_ => CO-ROUTINE (subquery-1); SEARCH events USING INDEX events_actor_ts (actor_code=? AND ts_ns>? AND ts_ns<?); SCAN (subquery-1)',
      'SELECT ts_ns, id FROM events WHERE actor_code = :key AND ts_ => SEARCH events USING INDEX events_actor_ts (actor_code=? AND ts_ns>? AND ts_ns<?)',
      byId,
    ]);
  });
});
