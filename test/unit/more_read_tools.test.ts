// QUERY-LAYER TESTS for the tools of issue 4 (time travel, performance, process relationships, web traffic,
// logs) and the tool categories. The store is filled by hand (test/query_fixture.ts) with rows shaped exactly
// as docs/events.md says, to test the read side on its own; capture is tested against real fixture processes.
import { describe, expect, it } from 'vitest';
import { callTool } from '../../src/server.js';
import { kindIs } from '../../src/store/kinds.js';
import { analyze_state_change } from '../../src/tools/analyze_state_change.js';
import { CATEGORIES, parseCategories, selectTools, TOOL_CATEGORIES } from '../../src/tools/categories.js';
import { READ_ONLY, type ToolContext, type ToolDefinition } from '../../src/tools/define.js';
import { get_events_between } from '../../src/tools/get_events_between.js';
import { get_http_requests } from '../../src/tools/get_http_requests.js';
import { get_logs } from '../../src/tools/get_logs.js';
import { get_state_at } from '../../src/tools/get_state_at.js';
import { message_queue_analysis } from '../../src/tools/message_queue_analysis.js';
import { performance_analysis } from '../../src/tools/performance_analysis.js';
import { process_relationships } from '../../src/tools/process_relationships.js';
import { TOOLS } from '../../src/tools/registry.js';
import { slowest_function_calls } from '../../src/tools/slowest_function_calls.js';
import { system_snapshot_at } from '../../src/tools/system_snapshot_at.js';
import { expectToolConforms } from '../protocol/conform.js';
import { Store } from '../../src/store/store.js';
import { contextOf, ev, recordPlans, setup, T0, webEvents } from '../query_fixture.js';

const NEW_TOOLS: ToolDefinition<any>[] = [
  analyze_state_change, get_events_between, get_http_requests, get_logs, get_state_at, message_queue_analysis,
  performance_analysis, process_relationships, slowest_function_calls, system_snapshot_at,
];
const ALL = [...TOOLS.filter((t) => !NEW_TOOLS.some((n) => n.name === t.name)), ...NEW_TOOLS].sort((a, b) => a.name.localeCompare(b.name));

async function call(ctx: ToolContext, name: string, args: Record<string, unknown>) {
  const tool = ALL.find((t) => t.name === name);
  if (!tool) throw new Error(`no tool ${name}`);
  const result = await callTool(tool, args, ctx);
  if (!result.isError) expectToolConforms(tool, result.structuredContent);
  const text = (result.content as { type: string; text: string }[]).map((c) => c.text).join('\n');
  return { text, data: result.structuredContent as any, isError: result.isError ?? false };
}

/** The fixture's story with web traffic and console output. */
function web() {
  return setup(webEvents());
}

describe('query layer (hand-written rows): get_state_at', () => {
  it('answers the state in force at a moment, with its trigger, call id and time', async () => {
    const { ctx } = web();
    const r = await call(ctx, 'get_state_at', { pid_string: 'cart', timestamp: T0 + 5 });
    expect(r.text).toBe(
      [
        'State of 4242/o1 "cart" (Cart) at 2026-11-22T16:00:00.005Z: recorded at 2026-11-22T16:00:00.003Z after Cart#add("apple", 2) [4242:c2]',
        'Cart {items: [{sku: "apple", qty: 2}], total: 6}',
      ].join('\n'),
    );
    expect(r.data).toEqual({
      actor: '4242/o1', at: '2026-11-22T16:00:00.005Z', recorded: '2026-11-22T16:00:00.003Z', trigger: 'Cart#add("apple", 2)', ref: '4242:c2',
      state: 'Cart {items: [{sku: "apple", qty: 2}], total: 6}',
    });
    // A snapshot taken exactly at the moment is in force at it.
    expect((await call(ctx, 'get_state_at', { pid_string: '4242/o1', timestamp: T0 + 10.011 })).data.trigger).toBe('Cart#applyCoupon("SAVE")');
  });

  it('says when nothing was recorded yet, and when the first state was', async () => {
    const { ctx } = web();
    expect(await call(ctx, 'get_state_at', { pid_string: 'cart', timestamp: T0 + 1 })).toEqual({
      text: 'No state recorded for 4242/o1 "cart" (Cart) before 2026-11-22T16:00:00.001Z; the first is at 2026-11-22T16:00:00.002Z (after tracking began): ask for a moment at or after it.',
      data: { actor: '4242/o1', at: '2026-11-22T16:00:00.001Z', state: null, first: '2026-11-22T16:00:00.002Z' },
      isError: false,
    });
    expect((await call(ctx, 'get_state_at', { pid_string: 'cart', timestamp: 'yesterday' })).text).toBe(
      'get_state_at failed: timestamp: cannot read time "yesterday": use ISO 8601 (2026-11-22T16:00:00Z), epoch ms ("1795000000000") or a time relative to now like "-5m" (-500ms, -30s, -5m, -2h, -1d)',
    );
    expect((await call(ctx, 'get_state_at', { pid_string: '4242/o2', timestamp: T0 })).text).toBe(
      'get_state_at failed: no state recorded for 4242/o2 yet; call trace_process("4242/o2") or trace_named_process first, then exercise the program',
    );
  });
});

describe('query layer (hand-written rows): get_events_between', () => {
  it('counts a busy window up to a bound past the page, then says "more than"', async () => {
    // 2,000 log lines in 2 ms: a burst's second holds ~90k, which counting whole took 63–85 ms.
    const { ctx } = setup(Array.from({ length: 2000 }, (_, i) => ev(1 + i, 'log', 'log', '4242', { text: `line ${i}` })));
    const first = await call(ctx, 'get_events_between', { start: T0, end: T0 + 10, limit: 2 });
    expect(first.text.split('\n')).toEqual([
      'Events from 2026-11-22T16:00:00.000Z to 2026-11-22T16:00:00.010Z: more than 1002',
      '2026-11-22T16:00:00.000Z 4242 log/log {text: "line 0"}',
      '2026-11-22T16:00:00.000Z 4242 log/log {text: "line 1"}',
      'showing 1–2 of more than 1002; page=2 for more',
    ]);
    expect(first.data).toMatchObject({ total: 1002, more: true, page: 1 });
    // A later page counts from where it is: its rows are exact.
    const late = await call(ctx, 'get_events_between', { start: T0, end: T0 + 10, limit: 200, page: 10 });
    expect(late.text.split('\n').at(-1)).toBe('showing 1801–2000 of 2000');
  });

  it('lists every event of the window, one line each, with the request it served', async () => {
    const { ctx } = web();
    const r = await call(ctx, 'get_events_between', { start: T0 + 4, end: '2026-11-22T16:00:00.007Z' });
    expect(r.text).toBe(
      [
        'Events from 2026-11-22T16:00:00.004Z to 2026-11-22T16:00:00.007Z: 9',
        '2026-11-22T16:00:00.004Z 4242 message/send → 4242/w1 {channel: "worker", message: {op: "price", sku: "apple"}} [m1]',
        '2026-11-22T16:00:00.004Z 4242/w1 message/receive ← 4242 {channel: "worker", message: {op: "price", sku: "apple"}} [m1]',
        '2026-11-22T16:00:00.004Z 4242/w1 call/call {module: "/app/node_modules/pricing-lib/index.js", fn: "quote", args: ["apple"], parent: null, thread: "4242/w1"} [4242/w1:c1]',
        '2026-11-22T16:00:00.004Z 4242/w1 call/return {module: "/app/node_modules/pricing-lib/index.js", fn: "quote", result: 3, duration_ns: 50000, async: false} [4242/w1:c1]',
        '2026-11-22T16:00:00.005Z 4242/w1 message/send → 4242 {channel: "worker", message: {sku: "apple", price: 3}} [m2]',
        '2026-11-22T16:00:00.005Z 4242 http/client_request {method: "GET", url: "http://rates.local/eur"} [4242:q1] (request 4242:r1)',
        '2026-11-22T16:00:00.005Z 4242 http/client_response {status: 200, duration_ns: 400000} [4242:q1] (request 4242:r1)',
        '2026-11-22T16:00:00.006Z 4242 message/receive ← 4242/w1 {channel: "worker", message: {sku: "apple", price: 3}} [m2]',
        '2026-11-22T16:00:00.007Z 4242 call/call {module: "/app/src/payments.js", fn: "charge", args: [6, "EUR"], parent: "4242:c1", thread: "4242"} [4242:c3] (request 4242:r1)',
        'showing 1–9 of 9',
      ].join('\n'),
    );
    expect(r.data.events[5]).toEqual({
      id: 17, time: '2026-11-22T16:00:00.005Z', actor: '4242', event: 'http/client_request', from: null, to: null, ref: '4242:q1', corr: '4242:r1',
      payload: '{method: "GET", url: "http://rates.local/eur"}',
    });
  });

  it('filters by type or type/subtype, by actor and by module, and pages', async () => {
    const { ctx } = web();
    expect((await call(ctx, 'get_events_between', { start: T0, end: T0 + 20, type: 'http/response' })).text.split('\n')).toEqual([
      'Events from 2026-11-22T16:00:00.000Z to 2026-11-22T16:00:00.020Z (type http/response): 2',
      '2026-11-22T16:00:00.009Z 4242 http/response {method: "POST", url: "/checkout?u=u1", route: "/checkout", status: 500, duration_ns: 6200000} [4242:r1]',
      '2026-11-22T16:00:00.011Z 4242 http/response {method: "GET", url: "/items/7", route: "/items/:id", status: 200, duration_ns: 300000} [4242:r2]',
      'showing 1–2 of 2',
    ]);
    const cart = await call(ctx, 'get_events_between', { start: T0, end: T0 + 20, pid_string: 'cart', module_name: 'cart.js', type: 'call/call' });
    expect(cart.text.split('\n')).toEqual([
      'Events from 2026-11-22T16:00:00.000Z to 2026-11-22T16:00:00.020Z (type call/call, by 4242/o1, module cart.js): 2',
      '2026-11-22T16:00:00.003Z 4242/o1 call/call {module: "/app/src/cart.js", fn: "Cart#add", args: ["apple", 2], parent: "4242:c1", thread: "4242"} [4242:c2] (request 4242:r1)',
      '2026-11-22T16:00:00.010Z 4242/o1 call/call {module: "/app/src/cart.js", fn: "Cart#applyCoupon", args: ["SAVE"], parent: null, thread: "4242"} [4242:c4]',
      'showing 1–2 of 2',
    ]);
    const paged = await call(ctx, 'get_events_between', { start: T0, end: T0 + 40, type: 'log', page: 2, limit: 3 });
    expect(paged.text.split('\n')).toEqual([
      'Events from 2026-11-22T16:00:00.000Z to 2026-11-22T16:00:00.040Z (type log): 4',
      '2026-11-22T16:00:00.013Z 4242 log/info {text: "checkout failed"}',
      'showing 4–4 of 4',
    ]);
  });

  it('says what exists when nothing matches, and refuses a window given backwards', async () => {
    const { ctx } = web();
    expect((await call(ctx, 'get_events_between', { start: T0, end: T0 + 40, type: 'websocket' })).text).toBe(
      'Events from 2026-11-22T16:00:00.000Z to 2026-11-22T16:00:00.040Z (type websocket): none; no websocket events are recorded at all; recorded types: call, http, log, message, object, process, state, worker.',
    );
    expect((await call(ctx, 'get_events_between', { start: T0 + 31, end: T0 + 40 })).text).toBe(
      'Events from 2026-11-22T16:00:00.031Z to 2026-11-22T16:00:00.040Z: none; widen the window or drop a filter.',
    );
    expect((await call(ctx, 'get_events_between', { start: T0 + 40, end: T0 })).text).toBe(
      'get_events_between failed: start (2026-11-22T16:00:00.040Z) is after end (2026-11-22T16:00:00.000Z): swap them',
    );
  });
});

describe('query layer (hand-written rows): system_snapshot_at', () => {
  it('shows, between a send and its receipt, the message in flight, the request in progress and every state', async () => {
    const { ctx } = web();
    const r = await call(ctx, 'system_snapshot_at', { timestamp: T0 + 4.2 });
    expect(r.text).toBe(
      [
        'System at 2026-11-22T16:00:00.004Z',
        'Alive (2):',
        '  4242 "app.js" process since 2026-11-22T16:00:00.000Z',
        '  4242/w1 "pricing" worker since 2026-11-22T16:00:00.001Z',
        'Tracked objects (2):',
        '  4242/o1 "cart" (Cart): Cart {items: [{sku: "apple", qty: 2}], total: 6} (since 2026-11-22T16:00:00.003Z, after Cart#add("apple", 2) [4242:c2])',
        '  4242/o2 (Ledger): no state recorded yet',
        'Messages in flight (1):',
        '  2026-11-22T16:00:00.004Z 4242 → 4242/w1 [worker] {op: "price", sku: "apple"} · received 0.42 ms after it was sent [msg m1]',
        'HTTP requests in progress (1):',
        '  2026-11-22T16:00:00.002Z 4242 POST /checkout?u=u1 [4242:r1]',
      ].join('\n'),
    );
    expect(r.data.in_flight).toEqual([
      { ref: 'm1', from: '4242', to: '4242/w1', channel: 'worker', message: '{op: "price", sku: "apple"}', sent: '2026-11-22T16:00:00.004Z', received: '2026-11-22T16:00:00.004Z', corr: null },
    ]);
    expect(r.data.requests).toEqual([{ id: '4242:r1', actor: '4242', time: '2026-11-22T16:00:00.002Z', method: 'POST', url: '/checkout?u=u1' }]);
  });

  it('once received, a message is no longer in flight; one never received stays; exited workers are gone', async () => {
    const { ctx } = web();
    const later = await call(ctx, 'system_snapshot_at', { timestamp: T0 + 12.7 });
    expect(later.text.split('\n').slice(7)).toEqual([
      'Messages in flight (1):',
      '  2026-11-22T16:00:00.012Z 4242 → 4242/w1 [worker] {op: "stop"} [msg m3]',
      'HTTP requests in progress (1):',
      '  2026-11-22T16:00:00.012Z 4242 GET /slow [4242:r3]',
    ]);
    const end = await call(ctx, 'system_snapshot_at', { timestamp: T0 + 40 });
    expect(end.text.split('\n').slice(0, 3)).toEqual(['System at 2026-11-22T16:00:00.040Z', 'Alive (1):', '  4242 "app.js" process since 2026-11-22T16:00:00.000Z']);
    const before = await call(ctx, 'system_snapshot_at', { timestamp: T0 - 1000 });
    expect(before.text).toBe(
      ['System at 2026-11-22T15:59:59.000Z', 'Alive: none', 'Tracked objects: none', 'Messages in flight: none', 'HTTP requests in progress: none'].join('\n'),
    );
  });

  it('pairs identical messages first in, first out', async () => {
    const send = (us: number) => ev(us, 'message', 'send', '4242', { channel: 'worker', message: 'tick' }, { from: '4242', to: '4242/w1', ref: 'h1' });
    const recv = (us: number) => ev(us, 'message', 'receive', '4242/w1', { channel: 'worker', message: 'tick' }, { from: '4242', to: '4242/w1', ref: 'h1' });
    const { ctx } = setup([ev(0, 'worker', 'start', '4242/w1', {}), send(10), send(20), recv(30), send(40), recv(50), recv(60)]);
    const lines = async (ms: number) => (await call(ctx, 'system_snapshot_at', { timestamp: T0 + ms })).text.split('\n').filter((l) => l.includes('tick'));
    // At 35 µs: two sends, one receipt, which was the first send's.
    expect(await lines(0.035)).toEqual(['  2026-11-22T16:00:00.000Z 4242 → 4242/w1 [worker] "tick" · received 0.03 ms after it was sent [msg h1]']);
    expect(await lines(0.045)).toEqual([
      '  2026-11-22T16:00:00.000Z 4242 → 4242/w1 [worker] "tick" · received 0.03 ms after it was sent [msg h1]',
      '  2026-11-22T16:00:00.000Z 4242 → 4242/w1 [worker] "tick" · received 0.02 ms after it was sent [msg h1]',
    ]);
    expect(await lines(0.07)).toEqual([]);
  });
});

describe('query layer (hand-written rows): analyze_state_change', () => {
  it('diffs the states in force at two moments and lists what touched the object in between, with the requests served', async () => {
    const { ctx } = web();
    const r = await call(ctx, 'analyze_state_change', { pid_string: 'cart', before: T0 + 2.5, after: T0 + 10.5 });
    expect(r.text).toBe(
      [
        'State of 4242/o1 "cart" (Cart) from 2026-11-22T16:00:00.002Z to 2026-11-22T16:00:00.010Z',
        'before: recorded at 2026-11-22T16:00:00.002Z after tracking began',
        'after: recorded at 2026-11-22T16:00:00.010Z after Cart#applyCoupon("SAVE") [4242:c4]',
        'Changes (3):',
        '  + items[0]: {sku: "apple", qty: 2}',
        '  total: 0 → 5',
        '  + coupon: "SAVE"',
        'Requests served by its calls (1):',
        '  2026-11-22T16:00:00.002Z 4242 POST /checkout?u=u1 → 500 in 6.2 ms (route /checkout) [4242:r1]',
        'What touched it in between: 4 events',
        '2026-11-22T16:00:00.003Z 4242/o1 Cart#add("apple", 2) → 6 (0.12 ms) [4242:c2]',
        '2026-11-22T16:00:00.003Z 4242/o1 state after Cart#add("apple", 2): Cart {items: [{sku: "apple", qty: 2}], total: 6} [4242:c2]',
        '2026-11-22T16:00:00.010Z 4242/o1 Cart#applyCoupon("SAVE") → undefined (0.01 ms) [4242:c4]',
        '2026-11-22T16:00:00.010Z 4242/o1 state after Cart#applyCoupon("SAVE"): Cart {items: [{sku: "apple", qty: 2}], total: 5, coupon: "SAVE"} [4242:c4]',
        'showing 1–4 of 4',
      ].join('\n'),
    );
    expect(r.data.changes).toEqual([
      { path: 'items[0]', kind: 'added', after: '{sku: "apple", qty: 2}' },
      { path: 'total', kind: 'changed', before: '0', after: '5' },
      { path: 'coupon', kind: 'added', after: '"SAVE"' },
    ]);
    expect(r.data.before).toEqual({ time: '2026-11-22T16:00:00.002Z', trigger: 'tracking began', ref: null, state: 'Cart {items: [], total: 0}' });
    expect(r.data.requests.map((q: any) => [q.id, q.status])).toEqual([['4242:r1', 500]]);
  });

  it('says when nothing changed, when there was no state yet, and refuses moments given backwards', async () => {
    const { ctx } = web();
    expect((await call(ctx, 'analyze_state_change', { pid_string: 'cart', before: T0 + 4, after: T0 + 9 })).text.split('\n').slice(1, 5)).toEqual([
      'before: recorded at 2026-11-22T16:00:00.003Z after Cart#add("apple", 2) [4242:c2]',
      'after: recorded at 2026-11-22T16:00:00.003Z after Cart#add("apple", 2) [4242:c2]',
      'No change: the same snapshot is in force at both moments.',
      'What touched it in between: 0 events',
    ]);
    expect((await call(ctx, 'analyze_state_change', { pid_string: 'cart', before: T0, after: T0 + 2.5 })).text.split('\n').slice(1, 4)).toEqual([
      'before: no state yet (the first is at 2026-11-22T16:00:00.002Z)',
      'after: recorded at 2026-11-22T16:00:00.002Z after tracking began',
      'Whole state at 2026-11-22T16:00:00.002Z: Cart {items: [], total: 0}',
    ]);
    expect((await call(ctx, 'analyze_state_change', { pid_string: 'cart', before: T0, after: T0 + 1 })).text).toBe(
      'analyze_state_change failed: no state recorded for 4242/o1 "cart" (Cart) before 2026-11-22T16:00:00.001Z; the first is at 2026-11-22T16:00:00.002Z: pass an "after" at or past it',
    );
    expect((await call(ctx, 'analyze_state_change', { pid_string: 'cart', before: T0 + 9, after: T0 + 4 })).text).toBe(
      'analyze_state_change failed: before (2026-11-22T16:00:00.009Z) is after after (2026-11-22T16:00:00.004Z): swap them',
    );
  });
});

describe('query layer (hand-written rows): performance_analysis and slowest_function_calls', () => {
  it('answers calls, errors, running calls and duration statistics per function', async () => {
    const { ctx } = web();
    const r = await call(ctx, 'performance_analysis', { module_name: 'payments.js' });
    expect(r.text).toBe(
      [
        'Performance of payments.js: 2 calls of 1 function (module /app/src/payments.js)',
        'charge: 2 calls, 1 error, 1 running; total 1.5 ms, mean 1.5, p50 1.5, p95 1.5, max 1.5 ms',
        'get_function_calls lists the calls of one function; slowest_function_calls the slowest ones.',
      ].join('\n'),
    );
    expect(r.data).toEqual({
      module: 'payments.js',
      functions: [{ module: '/app/src/payments.js', fn: 'charge', calls: 2, errors: 1, running: 1, total_ms: 1.5, mean_ms: 1.5, p50_ms: 1.5, p95_ms: 1.5, max_ms: 1.5 }],
      total_functions: 1,
    });
  });

  it('takes nearest-rank percentiles, the function with the most total time first', async () => {
    const rows = [];
    for (let i = 1; i <= 20; i++) {
      const ref = `4242:c${i}`;
      rows.push(ev(i * 100, 'call', 'call', '4242', { module: '/app/src/db.js', fn: 'query', args: [i], parent: null }, { ref }));
      rows.push(ev(i * 100 + 50, 'call', i === 20 ? 'throw' : 'return', '4242', { module: '/app/src/db.js', fn: 'query', duration_ns: i * 1e6 }, { ref }));
    }
    rows.push(ev(5000, 'call', 'call', '4242', { module: '/app/src/db.js', fn: 'connect', args: [], parent: null }, { ref: '4242:c99' }));
    const { ctx } = setup(rows);
    expect((await call(ctx, 'performance_analysis', { module_name: 'db.js' })).text.split('\n').slice(0, 3)).toEqual([
      'Performance of db.js: 21 calls of 2 functions (module /app/src/db.js)',
      'query: 20 calls, 1 error; total 210 ms, mean 10.5, p50 10, p95 19, max 20 ms',
      'connect: 1 call, 0 errors, 1 running; no duration recorded',
    ]);
  });

  it('says which modules have calls when one has none', async () => {
    const { ctx } = web();
    expect((await call(ctx, 'performance_analysis', { module_name: 'orders.js' })).text).toBe(
      'performance_analysis failed: no calls recorded for module "orders.js". Modules with recorded calls: /app/node_modules/pricing-lib/index.js, /app/src/cart.js, /app/src/checkout.js, /app/src/payments.js. Pass one of these, or call trace_module first.',
    );
    expect((await call(ctx, 'performance_analysis', { module_name: 'payments.js', since: '2026-11-22T17:00:00Z' })).text).toBe(
      'No calls of payments.js since 2026-11-22T17:00:00.000Z: widen the window.',
    );
  });

  it('lists the slowest completed calls with arguments, outcome and actor', async () => {
    const { ctx } = web();
    const r = await call(ctx, 'slowest_function_calls', { limit: 3 });
    expect(r.text).toBe(
      [
        'Slowest calls: 3',
        '2026-11-22T16:00:00.003Z 4242 checkout("u1") → {ok: false} (6 ms, async) [4242:c1]',
        '2026-11-22T16:00:00.007Z 4242 charge(6, "EUR") ✗ Error: card declined (1.5 ms, async) [4242:c3]',
        '2026-11-22T16:00:00.003Z 4242/o1 Cart#add("apple", 2) → 6 (0.12 ms) [4242:c2]',
      ].join('\n'),
    );
    expect(r.data.calls[1]).toMatchObject({ ref: '4242:c3', actor: '4242', args: ['6', '"EUR"'], outcome: 'threw', duration_ms: 1.5, corr: '4242:r1' });
    expect((await call(ctx, 'slowest_function_calls', { module_name: 'cart.js' })).data.calls.map((c: any) => c.ref)).toEqual(['4242:c2', '4242:c4']);
    expect((await call(ctx, 'slowest_function_calls', { module_name: 'orders.js' })).isError).toBe(true);
    expect((await call(setup([]).ctx, 'slowest_function_calls', {})).text).toBe('No calls recorded yet: call trace_module first, then exercise the program.');
  });
});

describe('query layer (hand-written rows): message_queue_analysis and process_relationships', () => {
  it('answers messages not received per receiver (never read: the receiver ended), per-pair latency, slow consumers and event-loop delay', async () => {
    const { ctx } = web();
    ctx.processInfo = async (id) => ({ event_loop_delay_ms: id === '4242' ? { min: 1, mean: 2.5, p50: 2, p99: 9, max: 12 } : null });
    const r = await call(ctx, 'message_queue_analysis', {});
    expect(r.text).toBe(
      [
        'Message queues (latency over the latest 3 sends, 150 per pair at most)',
        'Pending per receiver: none',
        'Never read (the receiver ended first):',
        '  4242/w1 "pricing": 1 never read, oldest sent 2026-11-22T16:00:00.012Z, 18 ms before the last recorded event',
        'Pairs:',
        '  4242 → 4242/w1: 2 sent, 1 received, 0 pending, 1 never read, latency mean 0.42 ms, max 0.42 ms',
        '  4242/w1 → 4242: 1 sent, 1 received, 0 pending, latency mean 1.25 ms, max 1.25 ms',
        'Slowest consumers (mean latency):',
        '  4242 from 4242/w1: 1.25 ms',
        '  4242/w1 from 4242: 0.42 ms',
        'Event-loop delay (ms):',
        '  4242: min 1, mean 2.5, p50 2, p99 9, max 12',
      ].join('\n'),
    );
    expect(r.data.pending).toEqual([]);
    expect(r.data.unread).toEqual([{ actor: '4242/w1', count: 1, oldest: '2026-11-22T16:00:00.012Z' }]);
    expect(r.data.pairs[0]).toEqual({ from: '4242', to: '4242/w1', sent: 2, received: 1, pending: 0, unread: 1, before_tracing: 0, not_traced: 0, sampled: 2, mean_latency_ms: 0.42, max_latency_ms: 0.42 });
  });

  it('skips threads that are not attached, and says so', async () => {
    const { ctx } = setup([]);
    ctx.processInfo = async () => {
      throw new Error('4242 is not attached');
    };
    expect((await call(ctx, 'message_queue_analysis', {})).text).toBe(
      [
        'Message queues (latency over the latest 0 sends)',
        'Pending per receiver: none',
        'Pairs: no messages recorded; trace_process records the messages of an actor',
        'Event-loop delay: no live thread answered',
        'Not attached, skipped: 4242 (attach reads them live)',
      ].join('\n'),
    );
  });

  it('answers parent, children and message partners with counts in each direction', async () => {
    const { ctx } = web();
    expect((await call(ctx, 'process_relationships', { pid_string: '4242' })).text).toBe(
      [
        'Relationships of 4242 "app.js" process, running',
        'parent: none recorded',
        'children (3):',
        '  4242/w1 "pricing" worker, exited',
        '  4242/o1 "cart" (Cart) object, running',
        '  4242/o2 (Ledger) object, running',
        'messages exchanged with (1):',
        '  4242/w1 "pricing": 2 sent to it, 1 received from it',
        'get_message_flow lists the messages between two of them.',
      ].join('\n'),
    );
    const w = await call(ctx, 'process_relationships', { pid_string: 'pricing' });
    expect(w.text.split('\n').slice(1)).toEqual([
      'parent: 4242 "app.js" process, running',
      'children: none',
      'messages exchanged with (1):',
      '  4242 "app.js": 1 sent to it, 1 received from it',
      'get_message_flow lists the messages between two of them.',
    ]);
    expect(w.data.partners).toEqual([{ actor: '4242', sent: 1, received: 1 }]);
  });
});

describe('query layer (hand-written rows): get_http_requests and request_id', () => {
  it('lists requests with status, duration and route, pending ones marked', async () => {
    const { ctx } = web();
    const r = await call(ctx, 'get_http_requests', {});
    expect(r.text).toBe(
      [
        'HTTP requests: 3 (1 pending on this page)',
        '2026-11-22T16:00:00.002Z 4242 POST /checkout?u=u1 → 500 in 6.2 ms (route /checkout) [4242:r1]',
        '2026-11-22T16:00:00.011Z 4242 GET /items/7 → 200 in 0.3 ms (route /items/:id) [4242:r2]',
        '2026-11-22T16:00:00.012Z 4242 GET /slow → pending (no response recorded) [4242:r3]',
        'showing 1–3 of 3',
        'get_function_calls or get_execution_path with request_id show what serving one of them did.',
      ].join('\n'),
    );
    expect(r.data.requests[2]).toEqual({ id: '4242:r3', actor: '4242', time: '2026-11-22T16:00:00.012Z', method: 'GET', url: '/slow', route: null, status: null, duration_ms: null, pending: true });
  });

  it('filters by status, slowness, route pattern or path prefix, method and time', async () => {
    const { ctx } = web();
    const ids = async (args: Record<string, unknown>) => (await call(ctx, 'get_http_requests', args)).data.requests.map((q: any) => q.id);
    expect(await ids({ status_min: 500 })).toEqual(['4242:r1']);
    expect(await ids({ slow_ms: 1 })).toEqual(['4242:r1']);
    expect(await ids({ route: '/items/:id' })).toEqual(['4242:r2']);
    expect(await ids({ route: '/items/' })).toEqual(['4242:r2']);
    expect(await ids({ method: 'get' })).toEqual(['4242:r2', '4242:r3']);
    expect(await ids({ since: T0 + 12 })).toEqual(['4242:r3']);
    expect((await call(ctx, 'get_http_requests', { status_min: 500, method: 'GET' })).text).toBe('HTTP requests (GET, status ≥ 500): none; 3 requests are recorded in all: widen the filters.');
    expect((await call(setup().ctx, 'get_http_requests', {})).text).toBe(
      'get_http_requests failed: no HTTP requests recorded: configure(web: true) switches web capture on, in every traced thread now and later; then send the server some traffic',
    );
  });

  it('counts requests filtered by their response up to a bound, says "more than", and pages on past it, in the order they started', async () => {
    // 1,100 requests failing with 500, 10 µs apart, 1 µs each; the first one takes 50 ms: it ends last, and comes first.
    const rows = Array.from({ length: 1_100 }, (_, i) => {
      const ref = `4242:r${i + 1}`;
      const took = i === 0 ? 50_000 : 1;
      return [
        ev(i * 10, 'http', 'request', '4242', { method: 'GET', url: `/c/${i + 1}` }, { ref, corr: ref }),
        ev(i * 10 + took, 'http', 'response', '4242', { method: 'GET', url: `/c/${i + 1}`, route: null, status: 500, duration_ns: took * 1000 }, { ref, corr: ref }),
      ];
    }).flat().sort((a, b) => a.ts_ns - b.ts_ns);
    const { ctx } = setup(rows);
    const first = await call(ctx, 'get_http_requests', { status_min: 500, limit: 2 });
    expect(first.text.split('\n')).toEqual([
      'HTTP requests (status ≥ 500): more than 1000',
      '2026-11-22T16:00:00.000Z 4242 GET /c/1 → 500 in 50 ms [4242:r1]',
      '2026-11-22T16:00:00.000Z 4242 GET /c/2 → 500 in 0.001 ms [4242:r2]',
      'showing 1–2 of more than 1000; page=2 for more',
      'get_function_calls or get_execution_path with request_id show what serving one of them did.',
    ]);
    expect([first.data.total, first.data.more]).toEqual([1000, true]);
    const ids = async (args: Record<string, unknown>) => (await call(ctx, 'get_http_requests', args)).data.requests.map((q: any) => q.id);
    expect(await ids({ slow_ms: 0, page: 501, limit: 2 })).toEqual(['4242:r1001', '4242:r1002']);
    const last = await call(ctx, 'get_http_requests', { slow_ms: 0.001, page: 6, limit: 200 });
    expect([last.data.requests.length, last.data.total, last.data.more, last.text.split('\n').at(-2)]).toEqual([100, 1100, undefined, 'showing 1001–1100 of 1100']);
    expect(await ids({ slow_ms: 10 })).toEqual(['4242:r1']);
  });

  it('get_function_calls and get_execution_path answer for one request', async () => {
    const { ctx } = web();
    expect((await call(ctx, 'get_function_calls', { module_name: 'payments.js', request_id: '4242:r1' })).text).toBe(
      [
        'Calls of payments.js for request 4242:r1: 1 (module /app/src/payments.js)',
        '2026-11-22T16:00:00.007Z 4242 charge(6, "EUR") ✗ Error: card declined (1.5 ms, async) [4242:c3]',
        'showing 1–1 of 1',
      ].join('\n'),
    );
    expect((await call(ctx, 'get_function_calls', { module_name: 'payments.js', request_id: '4242:r2' })).text).toBe(
      'No calls of payments.js match for request 4242:r2; 2 calls of it are recorded in all: widen the filters.',
    );
    expect((await call(ctx, 'get_execution_path', { pid_string: '4242', request_id: '4242:r1' })).text).toBe(
      [
        'Execution path of 4242 "app.js" for request 4242:r1 (with 4242/o1, 4242/o2): 8 events',
        '2026-11-22T16:00:00.002Z 4242 http/request {method: "POST", url: "/checkout?u=u1"} [4242:r1]',
        '2026-11-22T16:00:00.003Z 4242 checkout("u1") → {ok: false} (6 ms, async) [4242:c1]',
        '2026-11-22T16:00:00.003Z 4242/o1   Cart#add("apple", 2) → 6 (0.12 ms) [4242:c2]',
        '2026-11-22T16:00:00.005Z 4242 http/client_request {method: "GET", url: "http://rates.local/eur"} [4242:q1]',
        '2026-11-22T16:00:00.005Z 4242 http/client_response {status: 200, duration_ns: 400000} [4242:q1]',
        '2026-11-22T16:00:00.007Z 4242   charge(6, "EUR") ✗ Error: card declined (1.5 ms, async) [4242:c3]',
        '2026-11-22T16:00:00.009Z 4242 console.error: "charge failed: card declined"',
        '2026-11-22T16:00:00.009Z 4242 http/response {method: "POST", url: "/checkout?u=u1", route: "/checkout", status: 500, duration_ns: 6200000} [4242:r1]',
        'showing 1–8 of 8',
      ].join('\n'),
    );
    expect((await call(ctx, 'get_execution_path', { pid_string: '4242', request_id: '4242:r9' })).text).toBe(
      'Nothing recorded for 4242 "app.js" for request 4242:r9. get_http_requests lists request ids, each with the thread that served it.',
    );
  });
});

describe('query layer (hand-written rows): get_logs', () => {
  it('shows the latest console lines oldest first, with the request being served', async () => {
    const { ctx } = web();
    const r = await call(ctx, 'get_logs', {});
    expect(r.text).toBe(
      [
        'Output: 4 lines',
        '2026-11-22T16:00:00.001Z 4242/w1 [log] pricing ready',
        '2026-11-22T16:00:00.009Z 4242 [error] charge failed: card declined (request 4242:r1)',
        '2026-11-22T16:00:00.012Z 4242 [warn] slow upstream for /slow (request 4242:r3)',
        '2026-11-22T16:00:00.013Z 4242 [info] checkout failed',
        'showing 4 of 4',
      ].join('\n'),
    );
    expect(r.data.lines[1]).toEqual({ time: '2026-11-22T16:00:00.009Z', actor: '4242', level: 'error', stream: null, text: 'charge failed: card declined', corr: '4242:r1' });
  });

  it('filters by actor, level, text (case-insensitive, no wildcards) and time, and keeps the tail', async () => {
    const { ctx } = web();
    const texts = async (args: Record<string, unknown>) => (await call(ctx, 'get_logs', args)).data.lines.map((l: any) => l.text);
    expect(await texts({ pid_string: 'pricing' })).toEqual(['pricing ready']);
    expect(await texts({ level: 'error', grep: 'CHARGE' })).toEqual(['charge failed: card declined']);
    expect(await texts({ grep: '%' })).toEqual([]);
    expect(await texts({ since: T0 + 10 })).toEqual(['slow upstream for /slow', 'checkout failed']);
    expect((await call(ctx, 'get_logs', { tail: 2 })).text.split('\n')).toEqual([
      'Output: 4 lines',
      '2026-11-22T16:00:00.012Z 4242 [warn] slow upstream for /slow (request 4242:r3)',
      '2026-11-22T16:00:00.013Z 4242 [info] checkout failed',
      'showing the last 2 of 4; raise tail (at most 500) or narrow with since, level or grep',
    ]);
    expect((await call(ctx, 'get_logs', { level: 'debug' })).text).toBe('Output (level debug): none; 4 lines are recorded in all: widen the filters.');
    expect((await call(ctx, 'get_logs', { tail: 501 })).isError).toBe(true);
  });

  it('says whether nothing was printed or nothing is traced yet', async () => {
    const quiet = setup(webEvents().filter((e) => e.type !== 'log')).ctx;
    expect((await call(quiet, 'get_logs', {})).text).toBe('Output: none recorded: the traced processes have printed nothing since they were attached.');
    expect((await call(contextOf(new Store()), 'get_logs', {})).text).toBe('Output: none recorded. Output is recorded once the target is attached or launched.');
  });
});

describe('issue 4 tool definitions', () => {
  it('are read-only, with flat schemas whose every field is described', () => {
    for (const t of NEW_TOOLS) {
      expect([t.name, t.annotations]).toEqual([t.name, READ_ONLY]);
      for (const [name, field] of Object.entries(t.schema as Record<string, { description?: string }>)) expect([t.name, name, typeof field.description]).toEqual([t.name, name, 'string']);
    }
  });
});

describe('tool categories', () => {
  it('gives every tool a category, and selects by category in registry order', () => {
    expect(ALL.filter((t) => !(t.name in TOOL_CATEGORIES)).map((t) => t.name), 'add new tools to TOOL_CATEGORIES in src/tools/categories.ts').toEqual([]);
    expect(selectTools(ALL, ['time_travel']).map((t) => t.name)).toEqual(['analyze_state_change', 'analyze_state_changes', 'get_events_between', 'get_state_at', 'system_snapshot_at']);
    expect(selectTools(ALL, ['core']).map((t) => t.name)).toEqual([
      'attach', 'detach', 'get_execution_path', 'get_function_calls', 'get_http_requests', 'get_logs', 'get_message_flow',
      'get_probe_hits', 'get_state_timeline', 'get_supervision_tree', 'launch', 'trace_line', 'trace_module', 'trace_named_process', 'untrace',
    ]);
    expect(selectTools(ALL, 'all')).toEqual(ALL);
    expect(selectTools(ALL, ['core', 'all'])).toEqual(ALL);
    expect(CATEGORIES.every((c) => Object.values(TOOL_CATEGORIES).includes(c))).toBe(true);
  });

  it('keeps a tool with no category rather than hiding it, and refuses unknown categories', () => {
    const stray = { ...get_logs, name: 'brand_new' };
    expect(selectTools([stray], ['performance']).map((t) => t.name)).toEqual(['brand_new']);
    expect(() => selectTools(ALL, ['core', 'perf'])).toThrow('unknown tool category perf: use core, time_travel, performance, process, tracing or all');
  });

  it('reads a flag: default core, a comma-separated list, or all', () => {
    expect(parseCategories(undefined)).toEqual(['core']);
    expect(parseCategories(' core, performance ')).toEqual(['core', 'performance']);
    expect(parseCategories('all')).toBe('all');
    expect(() => parseCategories('core,timetravel')).toThrow('unknown tool category timetravel: use core, time_travel, performance, process, tracing or all');
  });
});

describe('query layer (hand-written rows): query plans of the issue 4 tools', () => {
  it('every statement on events searches an index (or the primary key), never scanning the table', async () => {
    const { store, ctx } = web();
    ctx.processInfo = async () => ({ event_loop_delay_ms: null });
    const plans = recordPlans(store);
    await call(ctx, 'get_state_at', { pid_string: 'cart', timestamp: T0 + 5 });
    await call(ctx, 'get_state_at', { pid_string: 'cart', timestamp: T0 + 1 });
    await call(ctx, 'get_events_between', { start: T0 + 4, end: T0 + 7 });
    await call(ctx, 'get_events_between', { start: T0, end: T0 + 20, pid_string: '4242', type: 'call', module_name: 'cart.js' });
    await call(ctx, 'system_snapshot_at', { timestamp: T0 + 4.2 });
    await call(ctx, 'analyze_state_change', { pid_string: 'cart', before: T0 + 2.5, after: T0 + 10.5 });
    await call(ctx, 'performance_analysis', { module_name: 'payments.js' });
    await call(ctx, 'slowest_function_calls', { limit: 3 });
    await call(ctx, 'message_queue_analysis', {});
    await call(ctx, 'process_relationships', { pid_string: '4242' });
    await call(ctx, 'get_http_requests', { status_min: 500, route: '/checkout', slow_ms: 1 });
    await call(ctx, 'get_logs', { pid_string: '4242', level: 'error', grep: 'charge' });
    await call(ctx, 'get_logs', {});
    await call(ctx, 'get_function_calls', { module_name: 'payments.js', request_id: '4242:r1' });
    await call(ctx, 'get_execution_path', { pid_string: '4242', request_id: '4242:r1' });
    const onEvents = [...plans].filter(([sql]) => /FROM events/.test(sql));
    expect(onEvents.length).toBeGreaterThanOrEqual(30);
    for (const [sql, plan] of onEvents) {
      expect({ sql, plan }).toEqual({ sql, plan: expect.stringMatching(/USING (COVERING )?INDEX events_((actor|type)_ts|call_key|end_key|send_pair|http_request|http_status|http_slow|spawned_by|corr|message_ref|receive_pair)|USING INTEGER PRIMARY KEY/) });
      expect({ sql, plan }).toEqual({ sql, plan: expect.not.stringMatching(/SCAN (events|q|r|f)(?! USING)/) });
    }
    // Windows become ts_ns ranges on the index, not filters over a type's or an actor's whole history.
    const planOf = (fragment: string) => [...plans].find(([sql]) => sql.includes(fragment))![1];
    expect(planOf('SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE type_code IN (')).toContain('SEARCH events USING INDEX events_type_ts (type_code=? AND ts_ns>? AND ts_ns<?)');
    expect(planOf(`WHERE ${kindIs('log')} AND ts_ns >= :lo`)).toBe('SEARCH events USING INDEX events_type_ts (type_code=? AND ts_ns>? AND ts_ns<?)');
    expect(planOf(`AND +${kindIs('log')}`)).toMatch(/^SEARCH events USING INDEX events_actor_ts \(actor_code=\? AND ts_ns>\? AND ts_ns<\?\)/);
    expect(planOf(`${kindIs('state', 'snapshot')} AND ts_ns <= :hi`)).toBe('SEARCH events USING INDEX events_actor_ts (actor_code=? AND ts_ns<?)');
    expect(planOf('WITH RECURSIVE t(c)')).toMatch(/SEARCH events USING COVERING INDEX events_type_ts \(type_code>\?\)/);
  });
});
