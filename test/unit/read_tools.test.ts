// QUERY-LAYER TESTS. The store is filled by hand (test/query_fixture.ts) with rows shaped exactly as
// docs/events.md says, to test the read side (SQL, joins, paging, rendering) on its own. This is allowed for
// query-layer unit tests only: capture is tested against real fixture processes, never with hand-written rows.
import { describe, expect, it } from 'vitest';
import { callTool } from '../../src/server.js';
import { kindIs } from '../../src/store/kinds.js';
import type { EventRow } from '../../src/store/store.js';
import type { ToolContext, ToolDefinition } from '../../src/tools/define.js';
import { get_supervision_tree } from '../../src/tools/get_supervision_tree.js';
import { TOOLS } from '../../src/tools/registry.js';
import { expectToolConforms } from '../protocol/conform.js';
import { DECLINED, ev, recordPlans, setup, T0 } from '../query_fixture.js';

function tool(name: string): ToolDefinition<any> {
  const found = TOOLS.find((t) => t.name === name);
  if (!found) throw new Error(`no tool ${name}`);
  return found;
}

async function call(ctx: ToolContext, name: string, args: Record<string, unknown>) {
  const result = await callTool(tool(name), args, ctx);
  if (!result.isError) expectToolConforms(tool(name), result.structuredContent);
  const text = (result.content as { type: string; text: string }[]).map((c) => c.text).join('\n');
  return { text, data: result.structuredContent as any, isError: result.isError ?? false };
}

const TREE = [
  '4242 process "app.js" — running since 2026-11-22T16:00:00.000Z',
  '├─ 4242/w1 worker "pricing" — exited (code 0) at 2026-11-22T16:00:00.030Z',
  '├─ 4242/o1 object "cart" (Cart) — running since 2026-11-22T16:00:00.002Z',
  '└─ 4242/o2 object ./src/ledger.js#ledger (Ledger) — running since 2026-11-22T16:00:00.003Z',
].join('\n');

describe('query layer (hand-written rows): get_function_calls', () => {
  it('lists calls of a module by path suffix, each with its return or throw, duration and call id', async () => {
    const { ctx } = setup();
    const r = await call(ctx, 'get_function_calls', { module_name: 'payments.js' });
    expect(r.isError).toBe(false);
    expect(r.text).toBe(
      [
        'Calls of payments.js: 2 (module /app/src/payments.js)',
        '2026-11-22T16:00:00.007Z 4242 charge(6, "EUR") ✗ Error: card declined (1.5 ms, async) [4242:c3]',
        '2026-11-22T16:00:00.011Z 4242 charge(5, "EUR") … no return recorded [4242:c5]',
        'showing 1–2 of 2',
      ].join('\n'),
    );
    expect(r.data).toEqual({
      calls: [
        {
          ref: '4242:c3', time: '2026-11-22T16:00:00.007Z', actor: '4242', module: '/app/src/payments.js', fn: 'charge', args: ['6', '"EUR"'],
          outcome: 'threw', error: 'Error: card declined', duration_ms: 1.5, async: true, parent: '4242:c1', corr: '4242:r1',
        },
        {
          ref: '4242:c5', time: '2026-11-22T16:00:00.011Z', actor: '4242', module: '/app/src/payments.js', fn: 'charge', args: ['5', '"EUR"'],
          outcome: 'running',
        },
      ],
      total: 2,
      page: 1,
    });
  });

  it('matches the exact module, a ./relative path, a file URL and a package name', async () => {
    const { ctx } = setup();
    for (const module_name of ['/app/src/payments.js', './src/payments.js', 'src/payments.js', 'file:///app/src/payments.js']) {
      expect((await call(ctx, 'get_function_calls', { module_name })).data.total).toBe(2);
    }
    const pkg = await call(ctx, 'get_function_calls', { module_name: 'pricing-lib' });
    expect(pkg.text).toBe(
      [
        'Calls of pricing-lib: 1 (module /app/node_modules/pricing-lib/index.js)',
        '2026-11-22T16:00:00.004Z 4242/w1 quote("apple") → 3 (0.05 ms) [4242/w1:c1]',
        'showing 1–1 of 1',
      ].join('\n'),
    );
    // A suffix matches whole path segments only, and `_` in a name is not a LIKE wildcard.
    expect((await call(ctx, 'get_function_calls', { module_name: 'ments.js' })).isError).toBe(true);
    expect((await call(ctx, 'get_function_calls', { module_name: 'pay_ents.js' })).isError).toBe(true);
  });

  it('filters by function (method names too), by actor (a thread includes its objects) and by time', async () => {
    const { ctx } = setup();
    const add = await call(ctx, 'get_function_calls', { module_name: 'cart.js', function_name: 'add' });
    expect(add.text).toBe(
      [
        'Calls of cart.js function add: 1 (module /app/src/cart.js)',
        '2026-11-22T16:00:00.003Z 4242/o1 Cart#add("apple", 2) → 6 (0.12 ms) [4242:c2]',
        'showing 1–1 of 1',
      ].join('\n'),
    );
    expect((await call(ctx, 'get_function_calls', { module_name: 'cart.js', pid_string: 'app.js' })).data.calls.map((c: any) => c.ref)).toEqual(['4242:c2', '4242:c4']);
    expect((await call(ctx, 'get_function_calls', { module_name: 'cart.js', pid_string: 'cart' })).data.total).toBe(2);
    expect((await call(ctx, 'get_function_calls', { module_name: 'payments.js', pid_string: '4242/w1' })).text).toBe(
      'No calls of payments.js match by 4242/w1; 2 calls of it are recorded in all: widen the filters.',
    );
    const late = await call(ctx, 'get_function_calls', { module_name: 'payments.js', since: '2026-11-22T16:00:00.010Z', until: T0 + 20 });
    expect(late.text).toBe(
      [
        'Calls of payments.js since 2026-11-22T16:00:00.010Z until 2026-11-22T16:00:00.020Z: 1 (module /app/src/payments.js)',
        '2026-11-22T16:00:00.011Z 4242 charge(5, "EUR") … no return recorded [4242:c5]',
        'showing 1–1 of 1',
      ].join('\n'),
    );
  });

  it('gives a completion to the latest call with its id: ids restart when the agent is installed again', async () => {
    const charge = (us: number, subtype: string, extra: object) =>
      ev(us, 'call', subtype, '4242', { module: './src/payments.js', fn: 'charge', ...extra }, { ref: '4242:c1' });
    const { ctx } = setup([
      charge(10, 'call', { args: [1], parent: null }),
      charge(100, 'call', { args: [2], parent: null }),
      charge(110, 'return', { result: true, duration_ns: 10_000, async: false }),
    ]);
    expect((await call(ctx, 'get_function_calls', { module_name: 'payments.js' })).text.split('\n').slice(1, 3)).toEqual([
      '2026-11-22T16:00:00.000Z 4242 charge(1) … no return recorded [4242:c1]',
      '2026-11-22T16:00:00.000Z 4242 charge(2) → true (0.01 ms) [4242:c1]',
    ]);
  });

  it('pages, and says which pages exist past the end', async () => {
    const { ctx } = setup();
    const second = await call(ctx, 'get_function_calls', { module_name: 'payments.js', page: 2, limit: 1 });
    expect(second.text.split('\n').slice(1)).toEqual(['2026-11-22T16:00:00.011Z 4242 charge(5, "EUR") … no return recorded [4242:c5]', 'showing 2–2 of 2']);
    expect((await call(ctx, 'get_function_calls', { module_name: 'payments.js', limit: 1 })).text.split('\n').at(-1)).toBe('showing 1–1 of 2; page=2 for more');
    expect((await call(ctx, 'get_function_calls', { module_name: 'payments.js', page: 3, limit: 1 })).text).toBe(
      'get_function_calls failed: page=3 is past the end: 2 rows make 2 pages of 1; use page=1…2',
    );
  });

  it('says what to do when a module has no calls', async () => {
    const { ctx } = setup();
    expect(await call(ctx, 'get_function_calls', { module_name: 'orders.js' })).toEqual({
      text:
        'get_function_calls failed: no calls recorded for module "orders.js". Modules with recorded calls: /app/node_modules/pricing-lib/index.js, /app/src/cart.js, /app/src/checkout.js, /app/src/payments.js. Pass one of these, or call trace_module first.',
      data: undefined,
      isError: true,
    });
    const empty = setup([]).ctx;
    expect((await call(empty, 'get_function_calls', { module_name: 'orders.js' })).text).toBe(
      'get_function_calls failed: no calls recorded for module "orders.js" yet: call trace_module first, then exercise the program.',
    );
    expect((await call(ctx, 'get_function_calls', { module_name: 'payments.js', since: 'yesterday' })).text).toBe(
      'get_function_calls failed: since: cannot read time "yesterday": use ISO 8601 (2026-11-22T16:00:00Z), epoch ms ("1795000000000") or a time relative to now like "-5m" (-500ms, -30s, -5m, -2h, -1d)',
    );
  });
});

describe('query layer (hand-written rows): get_message_flow', () => {
  it('lists both directions with latency, and a send without receipt as never read (its receiver ended); names resolve to ids', async () => {
    const { ctx } = setup();
    const r = await call(ctx, 'get_message_flow', { from_pid: 'app.js', to_pid: 'pricing' });
    expect(r.text).toBe(
      [
        'Messages between 4242 "app.js" and 4242/w1 "pricing": 3 (1 not received on this page)',
        '2026-11-22T16:00:00.004Z 4242 → 4242/w1 [worker] {op: "price", sku: "apple"} · received after 0.42 ms [msg m1]',
        '2026-11-22T16:00:00.005Z 4242/w1 → 4242 [worker] {sku: "apple", price: 3} · received after 1.25 ms [msg m2]',
        '2026-11-22T16:00:00.012Z 4242 → 4242/w1 [worker] {op: "stop"} · never read (4242/w1 ended without reading it) [msg m3]',
        'showing 1–3 of 3',
      ].join('\n'),
    );
    expect(r.data).toEqual({
      from: '4242',
      to: '4242/w1',
      messages: [
        {
          ref: 'm1', from: '4242', to: '4242/w1', channel: 'worker', message: '{op: "price", sku: "apple"}',
          sent: '2026-11-22T16:00:00.004Z', received: '2026-11-22T16:00:00.004Z', latency_ms: 0.42, status: 'received', corr: null,
        },
        {
          ref: 'm2', from: '4242/w1', to: '4242', channel: 'worker', message: '{sku: "apple", price: 3}',
          sent: '2026-11-22T16:00:00.005Z', received: '2026-11-22T16:00:00.006Z', latency_ms: 1.25, status: 'received', corr: null,
        },
        {
          ref: 'm3', from: '4242', to: '4242/w1', channel: 'worker', message: '{op: "stop"}',
          sent: '2026-11-22T16:00:00.012Z', received: null, latency_ms: null, status: 'unread', corr: null,
        },
      ],
      total: 3,
      page: 1,
    });
    // The same flow asked the other way round.
    expect((await call(ctx, 'get_message_flow', { from_pid: '4242/w1', to_pid: '4242' })).data.messages.map((m: any) => m.ref)).toEqual(['m1', 'm2', 'm3']);
  });

  it('pairs identical messages (same message id) first in, first out, also across pages', async () => {
    const ping = (us: number, subtype: 'send' | 'receive', actor: string) =>
      ev(us, 'message', subtype, actor, { channel: 'worker', message: 'ping' }, { from: '4242', to: '4242/w1', ref: '4242>4242/w1#p' });
    const lines = async (events: EventRow[], args: Record<string, unknown> = {}) =>
      (await call(setup(events).ctx, 'get_message_flow', { from_pid: '4242', to_pid: '4242/w1', ...args })).data.messages.map((m: any) => [m.sent, m.status, m.latency_ms]);
    // The agent records a start event in every thread when it installs: the receiver's recording began then.
    const started = ev(0, 'worker', 'start', '4242/w1', { pid: 4242, threadId: 1, name: 'pricing', parent: '4242', fromStart: false });
    const burst = [started, ping(100, 'send', '4242'), ping(200, 'send', '4242'), ping(300, 'receive', '4242/w1'), ping(450, 'receive', '4242/w1')];
    expect(await lines(burst)).toEqual([
      ['2026-11-22T16:00:00.000Z', 'received', 0.2],
      ['2026-11-22T16:00:00.000Z', 'received', 0.25],
    ]);
    expect(await lines(burst, { page: 2, limit: 1 })).toEqual([['2026-11-22T16:00:00.000Z', 'received', 0.25]]);
    expect(await lines(burst.slice(0, 4))).toEqual([
      ['2026-11-22T16:00:00.000Z', 'received', 0.2],
      ['2026-11-22T16:00:00.000Z', 'unread', null],
    ]);
    // The receiver's recording began after the first send: that send cannot be paired (it may have been read
    // before), the next one is.
    const late = [ping(10, 'send', '4242'), ev(50, 'worker', 'online', '4242/w1', {}, { from: '4242' }), ping(100, 'send', '4242'), ping(110, 'receive', '4242/w1')];
    expect(await lines(late)).toEqual([
      ['2026-11-22T16:00:00.000Z', 'before_tracing', null],
      ['2026-11-22T16:00:00.000Z', 'received', 0.01],
    ]);
  });

  it('draws a mermaid sequence diagram', async () => {
    const { ctx } = setup();
    const r = await call(ctx, 'get_message_flow', { from_pid: '4242', to_pid: '4242/w1', format: 'mermaid', until: T0 + 10 });
    expect(r.text).toBe(
      [
        'Messages between 4242 "app.js" and 4242/w1 "pricing" until 2026-11-22T16:00:00.010Z: 2',
        '```mermaid',
        'sequenceDiagram',
        '  participant A as 4242 "app.js"',
        '  participant B as 4242/w1 "pricing"',
        '  A->>B: [worker] {op: "price", sku: "apple"} (0.42 ms)',
        '  B->>A: [worker] {sku: "apple", price: 3} (1.25 ms)',
        '```',
        'showing 1–2 of 2',
      ].join('\n'),
    );
    const pending = await call(ctx, 'get_message_flow', { from_pid: '4242', to_pid: '4242/w1', format: 'mermaid', since: T0 + 10 });
    expect(pending.text.split('\n')[5]).toBe('  A-xB: [worker] {op: "stop"} (never read)');
  });

  it('escapes what mermaid would misread', async () => {
    const { ctx } = setup([ev(1, 'message', 'send', '4242', { channel: 'ipc', message: 'a;b#c' }, { from: '4242', to: '4242/w1', ref: 'x' })]);
    const r = await call(ctx, 'get_message_flow', { from_pid: '4242', to_pid: '4242/w1', format: 'mermaid' });
    expect(r.text.split('\n')[5]).toBe('  A-xB: [ipc] "a#59;b#35;c" (receiver not traced)');
  });

  it('answers plainly when nothing was exchanged, and refuses one actor twice or an unknown one', async () => {
    const { ctx } = setup();
    expect((await call(ctx, 'get_message_flow', { from_pid: '4242/w1', to_pid: '4242/o1' })).text).toBe(
      'No messages between 4242/w1 "pricing" and 4242/o1 "cart" (Cart). trace_process on either of them records its messages in and out.',
    );
    expect((await call(ctx, 'get_message_flow', { from_pid: '4242', to_pid: 'app.js' })).text).toBe(
      'get_message_flow failed: from_pid and to_pid both name 4242: pass two different actors (get_supervision_tree lists them)',
    );
    expect((await call(ctx, 'get_message_flow', { from_pid: '4242', to_pid: '9999' })).text).toBe(
      'get_message_flow failed: no actor "9999". Known ids: 4242, 4242/w1, 4242/o1, 4242/o2; get_supervision_tree lists them all.',
    );
  });
});

describe('query layer (hand-written rows): get_state_timeline and analyze_state_changes', () => {
  it('lists states with their triggers and call ids', async () => {
    const { ctx } = setup();
    const r = await call(ctx, 'get_state_timeline', { pid_string: 'cart' });
    expect(r.text).toBe(
      [
        'States of 4242/o1 "cart" (Cart): 3',
        '2026-11-22T16:00:00.002Z after tracking began: Cart {items: [], total: 0}',
        '2026-11-22T16:00:00.003Z after Cart#add("apple", 2) [4242:c2]:',
        '  + items[0]: {sku: "apple", qty: 2}',
        '  total: 0 → 6',
        '2026-11-22T16:00:00.010Z after Cart#applyCoupon("SAVE") [4242:c4]:',
        '  total: 6 → 5',
        '  + coupon: "SAVE"',
        'showing 1–3 of 3',
      ].join('\n'),
    );
    expect(r.data).toEqual({
      actor: '4242/o1',
      snapshots: [
        { time: '2026-11-22T16:00:00.002Z', ref: null, trigger: 'tracking began', state: 'Cart {items: [], total: 0}' },
        {
          time: '2026-11-22T16:00:00.003Z', ref: '4242:c2', trigger: 'Cart#add("apple", 2)', more: 0,
          changes: [{ path: 'items[0]', kind: 'added', after: '{sku: "apple", qty: 2}' }, { path: 'total', kind: 'changed', before: '0', after: '6' }],
        },
        {
          time: '2026-11-22T16:00:00.010Z', ref: '4242:c4', trigger: 'Cart#applyCoupon("SAVE")', more: 0,
          changes: [{ path: 'total', kind: 'changed', before: '6', after: '5' }, { path: 'coupon', kind: 'added', after: '"SAVE"' }],
        },
      ],
      total: 3,
      page: 1,
    });
  });

  it('shows the first state of a later page whole, so that each page reads on its own', async () => {
    const { ctx } = setup();
    const r = await call(ctx, 'get_state_timeline', { pid_string: 'cart', page: 2, limit: 2 });
    expect(r.text).toBe(
      [
        'States of 4242/o1 "cart" (Cart): 3',
        '2026-11-22T16:00:00.010Z after Cart#applyCoupon("SAVE") [4242:c4]: Cart {items: [{sku: "apple", qty: 2}], total: 5, coupon: "SAVE"}',
        'showing 3–3 of 3',
      ].join('\n'),
    );
  });

  it('diffs consecutive states, each with its trigger', async () => {
    const { ctx } = setup();
    const r = await call(ctx, 'analyze_state_changes', { pid_string: '4242/o1' });
    expect(r.text).toBe(
      [
        'State changes of 4242/o1 "cart" (Cart): 3 snapshots, 2 with changes on this page',
        '2026-11-22T16:00:00.002Z after tracking began: first state recorded: Cart {items: [], total: 0}',
        '2026-11-22T16:00:00.003Z after Cart#add("apple", 2) [4242:c2]:',
        '  + items[0]: {sku: "apple", qty: 2}',
        '  total: 0 → 6',
        '2026-11-22T16:00:00.010Z after Cart#applyCoupon("SAVE") [4242:c4]:',
        '  total: 6 → 5',
        '  + coupon: "SAVE"',
        'showing 1–3 of 3',
      ].join('\n'),
    );
    expect(r.data.transitions[1]).toEqual({
      time: '2026-11-22T16:00:00.003Z',
      ref: '4242:c2',
      trigger: 'Cart#add("apple", 2)',
      initial: false,
      changes: [
        { path: 'items[0]', kind: 'added', after: '{sku: "apple", qty: 2}' },
        { path: 'total', kind: 'changed', before: '0', after: '6' },
      ],
      more: 0,
    });
  });

  it('compares the first state of a window or a page with the one before it', async () => {
    const { ctx } = setup();
    const expected = ['2026-11-22T16:00:00.010Z after Cart#applyCoupon("SAVE") [4242:c4]:', '  total: 6 → 5', '  + coupon: "SAVE"'];
    expect((await call(ctx, 'analyze_state_changes', { pid_string: '4242/o1', since: T0 + 5 })).text.split('\n').slice(1, 4)).toEqual(expected);
    const paged = await call(ctx, 'analyze_state_changes', { pid_string: '4242/o1', page: 3, limit: 1 });
    expect(paged.text.split('\n').slice(1)).toEqual([...expected, 'showing 3–3 of 3']);
  });

  it('caps long states and long change lists', async () => {
    const big = { list: Array.from({ length: 60 }, (_, i) => i) };
    const { ctx } = setup([
      ev(1, 'state', 'snapshot', '4242/o1', { state: { list: [] }, trigger: null }),
      ev(2, 'state', 'snapshot', '4242/o1', { state: big, trigger: { method: 'fill', args: [] } }, { ref: '4242:c9' }),
    ]);
    const timeline = await call(ctx, 'get_state_timeline', { pid_string: '4242/o1', page: 2, limit: 1 });
    expect(timeline.data.snapshots[0].state).toBe(`{list: [${Array.from({ length: 60 }, (_, i) => i).join(', ')}]}`.slice(0, 200) + '…(cut)');
    const changes = await call(ctx, 'analyze_state_changes', { pid_string: '4242/o1' });
    expect(changes.text.split('\n').slice(2)).toEqual([
      '2026-11-22T16:00:00.000Z after Cart#fill() [4242:c9]:',
      ...Array.from({ length: 20 }, (_, i) => `  + list[${i}]: ${i}`),
      '  …40 more changes',
      'showing 1–2 of 2',
    ]);
    expect(changes.data.transitions[1].more).toBe(40);
  });

  it('says what to do for an object with no state yet, or for a thread', async () => {
    const { ctx } = setup();
    expect((await call(ctx, 'get_state_timeline', { pid_string: '4242/o2' })).text).toBe(
      'get_state_timeline failed: no state recorded for 4242/o2 yet; call trace_process("4242/o2") or trace_named_process first, then exercise the program',
    );
    expect((await call(ctx, 'analyze_state_changes', { pid_string: 'pricing' })).text).toBe(
      'analyze_state_changes failed: 4242/w1 is a worker thread, not a tracked object: state is recorded for tracked objects. Start tracking one with trace_named_process (a registered name, or a path such as globalThis.cart); get_supervision_tree lists tracked objects.',
    );
    expect((await call(ctx, 'get_state_timeline', { pid_string: 'cart', since: '2026-11-22T17:00:00Z' })).text).toBe(
      'No state of 4242/o1 "cart" (Cart) recorded since 2026-11-22T17:00:00.000Z; 3 snapshots in all: widen the window.',
    );
  });
});

describe('query layer (hand-written rows): get_execution_path', () => {
  it("nests a thread's calls under their callers, with its objects, messages, states, logs and its workers' lifecycle", async () => {
    const { ctx } = setup();
    const r = await call(ctx, 'get_execution_path', { pid_string: '4242' });
    expect(r.text).toBe(
      [
        'Execution path of 4242 "app.js" (with 4242/o1, 4242/o2): 16 events',
        '2026-11-22T16:00:00.000Z 4242 process/start pid=4242 argv=["node", "app.js"]',
        '2026-11-22T16:00:00.001Z 4242/w1 worker/online 4242/w1',
        '2026-11-22T16:00:00.002Z 4242/o1 tracking began "cart" (Cart) globalThis.cart',
        '2026-11-22T16:00:00.002Z 4242/o1 state after tracking began: Cart {items: [], total: 0}',
        '2026-11-22T16:00:00.003Z 4242 checkout("u1") → {ok: false} (6 ms, async) [4242:c1]',
        '2026-11-22T16:00:00.003Z 4242/o1   Cart#add("apple", 2) → 6 (0.12 ms) [4242:c2]',
        '2026-11-22T16:00:00.003Z 4242/o1 state after Cart#add("apple", 2): Cart {items: [{sku: "apple", qty: 2}], total: 6} [4242:c2]',
        '2026-11-22T16:00:00.004Z 4242 → 4242/w1 [worker] {op: "price", sku: "apple"} [m1]',
        '2026-11-22T16:00:00.006Z 4242 ← 4242/w1 [worker] {sku: "apple", price: 3} [m2]',
        '2026-11-22T16:00:00.007Z 4242   charge(6, "EUR") ✗ Error: card declined (1.5 ms, async) [4242:c3]',
        '2026-11-22T16:00:00.010Z 4242/o1 Cart#applyCoupon("SAVE") → undefined (0.01 ms) [4242:c4]',
        '2026-11-22T16:00:00.010Z 4242/o1 state after Cart#applyCoupon("SAVE"): Cart {items: [{sku: "apple", qty: 2}], total: 5, coupon: "SAVE"} [4242:c4]',
        '2026-11-22T16:00:00.011Z 4242 charge(5, "EUR") … no return recorded [4242:c5]',
        '2026-11-22T16:00:00.012Z 4242 → 4242/w1 [worker] {op: "stop"} [m3]',
        '2026-11-22T16:00:00.013Z 4242 console.info: "checkout failed"',
        '2026-11-22T16:00:00.030Z 4242/w1 worker/exit 4242/w1 code=0',
        'showing 1–16 of 16',
      ].join('\n'),
    );
    expect(r.data.family).toEqual(['4242', '4242/o1', '4242/o2']);
    expect(r.data.entries[5]).toEqual({
      time: '2026-11-22T16:00:00.003Z', actor: '4242/o1', kind: 'call', event: 'call/call', depth: 1, text: 'Cart#add("apple", 2) → 6 (0.12 ms)', ref: '4242:c2',
    });
  });

  it('shows crashes and child processes with the facts that matter', async () => {
    const { ctx } = setup([
      ev(1, 'child', 'spawn', '4300', { pid: 4300, file: 'node', args: ['job.js'] }, { from: '4242' }),
      ev(2, 'error', 'uncaught_exception', '4242', { error: DECLINED, fatal: true }),
      ev(3, 'error', 'unhandled_rejection', '4242', { reason: 'nope', handled: false }),
      ev(4, 'child', 'exit', '4300', { code: null, signal: 'SIGKILL' }, { from: '4242' }),
      ev(5, 'agent', 'dropped', '4242', { count: 12 }),
      ev(6, 'agent', 'trace_started', '4242', { module: './src/payments.js', resolved: '/app/src/payments.js', status: 'traced', functions: ['charge'], methods: [] }),
      ev(7, 'agent', 'trace_stopped', '4242', { trace: './src/payments.js', reason: 'max_calls 1000 reached', calls: 1000 }),
    ]);
    expect((await call(ctx, 'get_execution_path', { pid_string: '4242' })).text.split('\n').slice(1, -1)).toEqual([
      '2026-11-22T16:00:00.000Z 4300 child/spawn 4300 pid=4300 file="node" args=["job.js"]',
      '2026-11-22T16:00:00.000Z 4242 error/uncaught_exception fatal=true error=Error: card declined',
      '2026-11-22T16:00:00.000Z 4242 error/unhandled_rejection handled=false reason="nope"',
      '2026-11-22T16:00:00.000Z 4300 child/exit 4300 signal="SIGKILL"',
      '2026-11-22T16:00:00.000Z 4242 agent/dropped count=12',
      '2026-11-22T16:00:00.000Z 4242 agent/trace_started module="./src/payments.js" status="traced" functions=["charge"] methods=[]',
      '2026-11-22T16:00:00.000Z 4242 agent/trace_stopped trace="./src/payments.js" calls=1000 reason="max_calls 1000 reached"',
    ]);
  });

  it('keeps the nesting of calls whose caller is on an earlier page', async () => {
    const { ctx } = setup();
    const r = await call(ctx, 'get_execution_path', { pid_string: '4242', page: 2, limit: 5 });
    expect(r.text.split('\n').slice(1)).toEqual([
      '2026-11-22T16:00:00.003Z 4242/o1   Cart#add("apple", 2) → 6 (0.12 ms) [4242:c2]',
      '2026-11-22T16:00:00.003Z 4242/o1 state after Cart#add("apple", 2): Cart {items: [{sku: "apple", qty: 2}], total: 6} [4242:c2]',
      '2026-11-22T16:00:00.004Z 4242 → 4242/w1 [worker] {op: "price", sku: "apple"} [m1]',
      '2026-11-22T16:00:00.006Z 4242 ← 4242/w1 [worker] {sku: "apple", price: 3} [m2]',
      '2026-11-22T16:00:00.007Z 4242   charge(6, "EUR") ✗ Error: card declined (1.5 ms, async) [4242:c3]',
      'showing 6–10 of 16; page=3 for more',
    ]);
  });

  it("shows a worker's own path, and an object's calls unnested when their caller is outside it", async () => {
    const { ctx } = setup();
    expect((await call(ctx, 'get_execution_path', { pid_string: 'pricing' })).text).toBe(
      [
        'Execution path of 4242/w1 "pricing": 6 events',
        '2026-11-22T16:00:00.001Z 4242/w1 worker/start name="pricing" pid=4242 threadId=1',
        '2026-11-22T16:00:00.001Z 4242/w1 worker/online',
        '2026-11-22T16:00:00.004Z 4242/w1 ← 4242 [worker] {op: "price", sku: "apple"} [m1]',
        '2026-11-22T16:00:00.004Z 4242/w1 quote("apple") → 3 (0.05 ms) [4242/w1:c1]',
        '2026-11-22T16:00:00.005Z 4242/w1 → 4242 [worker] {sku: "apple", price: 3} [m2]',
        '2026-11-22T16:00:00.030Z 4242/w1 worker/exit code=0',
        'showing 1–6 of 6',
      ].join('\n'),
    );
    const cart = await call(ctx, 'get_execution_path', { pid_string: '4242/o1', since: T0 + 3 });
    expect(cart.text.split('\n').slice(0, 2)).toEqual([
      'Execution path of 4242/o1 "cart" (Cart) since 2026-11-22T16:00:00.003Z: 4 events',
      '2026-11-22T16:00:00.003Z 4242/o1 Cart#add("apple", 2) → 6 (0.12 ms) [4242:c2]',
    ]);
    expect((await call(ctx, 'get_execution_path', { pid_string: '4242/o2' })).text).toBe(
      'Nothing recorded for 4242/o2 (Ledger). trace_process("4242/o2") records its calls, messages and lifecycle.',
    );
  });
});

describe('query layer (hand-written rows): supervision tree and query plans', () => {
  it('shows tracked objects under their thread, with class, or path when unnamed', async () => {
    const { ctx } = setup();
    const r = await callTool(get_supervision_tree, {}, ctx);
    expect(r.content).toEqual([{ type: 'text', text: TREE }]);
    const tree = (r.structuredContent as any).tree;
    expect(tree[0].children.map((c: any) => [c.id, c.class, c.path])).toEqual([
      ['4242/w1', undefined, undefined],
      ['4242/o1', 'Cart', 'globalThis.cart'],
      ['4242/o2', 'Ledger', './src/ledger.js#ledger'],
    ]);
  });

  it('every tool answers from the indexes, never scanning the whole events table', async () => {
    const { store, ctx } = setup();
    const plans = recordPlans(store);
    await call(ctx, 'get_function_calls', { module_name: 'payments.js' });
    await call(ctx, 'get_function_calls', { module_name: 'cart.js', pid_string: '4242' });
    await call(ctx, 'get_function_calls', { module_name: 'nothing.js' });
    await call(ctx, 'get_message_flow', { from_pid: '4242', to_pid: '4242/w1' });
    await call(ctx, 'get_state_timeline', { pid_string: '4242/o1' });
    await call(ctx, 'analyze_state_changes', { pid_string: '4242/o1', since: T0 + 5 });
    await call(ctx, 'get_execution_path', { pid_string: '4242', page: 2, limit: 5 });
    const onEvents = [...plans].filter(([sql]) => /FROM events/.test(sql));
    expect(onEvents.length).toBeGreaterThanOrEqual(12);
    for (const [sql, plan] of onEvents) {
      expect({ sql, plan }).toEqual({ sql, plan: expect.stringMatching(/USING (COVERING )?INDEX events_((actor|type)_ts|call_key|send_pair|http_request|http_status|spawned_by|corr|message_ref|receive_pair)|USING INTEGER PRIMARY KEY/) });
      expect({ sql, plan }).toEqual({ sql, plan: expect.not.stringMatching(/SCAN events(?! USING)/) });
    }
    // Per-actor questions use the (actor, ts_ns) index, not every row of a type.
    const planOf = (fragment: string) => [...plans].find(([sql]) => sql.includes(fragment))![1];
    expect(planOf(`${kindIs('state', 'snapshot')} AND ts_ns >= :lo`)).toBe('SEARCH events USING INDEX events_actor_ts (actor_code=? AND ts_ns>? AND ts_ns<?)');
    expect(planOf(`+${kindIs('call')} AND ref IN`)).toBe('SEARCH events USING INDEX events_actor_ts (actor_code=? AND ts_ns>?)');
    // A page's sends and receipts, by message id.
    expect(planOf(`${kindIs('message', 'receive')} AND ts_ns >= :start AND actor_code = :to_code`)).toMatch(/^SEARCH events USING INDEX events_message_ref \(short_ref=\? AND ts_ns>\?\)/);
    expect(planOf(`${kindIs('message', 'send')} AND ts_ns >= :start AND ts_ns <= :end AND actor_code = :from_code`)).toMatch(/^SEARCH events USING INDEX events_message_ref \(short_ref=\? AND ts_ns>\? AND ts_ns<\?\)/);
  });
});
