// QUERY-LAYER FIXTURE. A store filled by hand with rows shaped exactly as docs/events.md says, to test the
// read side (SQL, joins, paging, rendering) on its own. Allowed for query-layer tests only: capture is tested
// against real fixture processes (test/capture), never with hand-written rows.
import { resolveActor } from '../src/query/actors.js';
import { Query } from '../src/query/index.js';
import { supervisionTree } from '../src/query/tree.js';
import { Store, type ActorUpdate, type EventRow } from '../src/store/store.js';
import type { ToolContext } from '../src/tools/define.js';

export const T0 = Date.UTC(2026, 10, 22, 16, 0, 0); // 2026-11-22T16:00:00.000Z
const BASE_NS = 5_000_000_000;

/** One row at `us` microseconds after T0 (ts_ns and wall_ms move together, as on one host). */
export function ev(us: number, type: string, subtype: string, actor: string, payload: unknown, o: { from?: string; to?: string; ref?: string; corr?: string } = {}): EventRow {
  return {
    ts_ns: BASE_NS + us * 1000,
    wall_ms: T0 + us / 1000,
    type,
    subtype,
    actor,
    from_actor: o.from ?? null,
    to_actor: o.to ?? null,
    corr: o.corr ?? null,
    ref: o.ref ?? null,
    payload: JSON.stringify(payload),
  };
}

const ACTORS: ActorUpdate[] = [
  { id: '4242', kind: 'process', pid: 4242, name: 'app.js', started_ms: T0, status: 'running' },
  { id: '4242/w1', kind: 'worker', pid: 4242, thread_id: 1, parent: '4242', name: 'pricing', started_ms: T0 + 1, status: 'exited', exit_code: 0, ended_ms: T0 + 30 },
  { id: '4242/o1', kind: 'object', pid: 4242, parent: '4242', name: 'cart', started_ms: T0 + 2, info: JSON.stringify({ class: 'Cart', path: 'globalThis.cart' }) },
  { id: '4242/o2', kind: 'object', pid: 4242, parent: '4242', started_ms: T0 + 3, info: JSON.stringify({ class: 'Ledger', path: './src/ledger.js#ledger' }) },
];

const CART0 = { $class: 'Cart', items: [], total: 0 };
const CART1 = { $class: 'Cart', items: [{ sku: 'apple', qty: 2 }], total: 6 };
const CART2 = { $class: 'Cart', items: [{ sku: 'apple', qty: 2 }], total: 5, coupon: 'SAVE' };
export const DECLINED = { $t: 'Error', class: 'Error', message: 'card declined', stack: 'Error: card declined\n    at charge' };

export const EVENTS: EventRow[] = [
  ev(0, 'process', 'start', '4242', { pid: 4242, ppid: 1, title: 'node', argv: ['node', 'app.js'], execArgv: [], cwd: '/app', node: 'v20.19.0', startedWallMs: T0, fromStart: true }),
  ev(1000, 'worker', 'start', '4242/w1', { pid: 4242, threadId: 1, name: 'pricing', parent: '4242', fromStart: true }),
  ev(1100, 'worker', 'online', '4242/w1', {}, { from: '4242' }),
  ev(2000, 'object', 'track', '4242/o1', { name: 'cart', class: 'Cart', path: 'globalThis.cart' }, { from: '4242' }),
  ev(2001, 'state', 'snapshot', '4242/o1', { state: CART0, trigger: { method: '(tracked)', args: [] } }),
  ev(3000, 'call', 'call', '4242', { module: '/app/src/checkout.js', fn: 'checkout', args: ['u1'], parent: null, thread: '4242' }, { ref: '4242:c1', corr: '4242:r1' }),
  ev(3100, 'call', 'call', '4242/o1', { module: '/app/src/cart.js', fn: 'Cart#add', args: ['apple', 2], parent: '4242:c1', thread: '4242' }, { ref: '4242:c2', corr: '4242:r1' }),
  ev(3220, 'call', 'return', '4242/o1', { module: '/app/src/cart.js', fn: 'Cart#add', result: 6, duration_ns: 120_000, async: false }, { ref: '4242:c2', corr: '4242:r1' }),
  ev(3221, 'state', 'snapshot', '4242/o1', { state: CART1, trigger: { method: 'add', args: ['apple', 2] } }, { ref: '4242:c2' }),
  ev(4000, 'message', 'send', '4242', { channel: 'worker', message: { op: 'price', sku: 'apple' } }, { from: '4242', to: '4242/w1', ref: 'm1' }),
  ev(4420, 'message', 'receive', '4242/w1', { channel: 'worker', message: { op: 'price', sku: 'apple' } }, { from: '4242', to: '4242/w1', ref: 'm1' }),
  ev(4500, 'call', 'call', '4242/w1', { module: '/app/node_modules/pricing-lib/index.js', fn: 'quote', args: ['apple'], parent: null, thread: '4242/w1' }, { ref: '4242/w1:c1' }),
  ev(4550, 'call', 'return', '4242/w1', { module: '/app/node_modules/pricing-lib/index.js', fn: 'quote', result: 3, duration_ns: 50_000, async: false }, { ref: '4242/w1:c1' }),
  ev(5000, 'message', 'send', '4242/w1', { channel: 'worker', message: { sku: 'apple', price: 3 } }, { from: '4242/w1', to: '4242', ref: 'm2' }),
  ev(6250, 'message', 'receive', '4242', { channel: 'worker', message: { sku: 'apple', price: 3 } }, { from: '4242/w1', to: '4242', ref: 'm2' }),
  ev(7000, 'call', 'call', '4242', { module: '/app/src/payments.js', fn: 'charge', args: [6, 'EUR'], parent: '4242:c1', thread: '4242' }, { ref: '4242:c3', corr: '4242:r1' }),
  ev(8500, 'call', 'throw', '4242', { module: '/app/src/payments.js', fn: 'charge', error: DECLINED, duration_ns: 1_500_000, async: true }, { ref: '4242:c3', corr: '4242:r1' }),
  ev(9000, 'call', 'return', '4242', { module: '/app/src/checkout.js', fn: 'checkout', result: { ok: false }, duration_ns: 6_000_000, async: true }, { ref: '4242:c1', corr: '4242:r1' }),
  ev(10_000, 'call', 'call', '4242/o1', { module: '/app/src/cart.js', fn: 'Cart#applyCoupon', args: ['SAVE'], parent: null, thread: '4242' }, { ref: '4242:c4' }),
  ev(10_010, 'call', 'return', '4242/o1', { module: '/app/src/cart.js', fn: 'Cart#applyCoupon', result: { $t: 'undefined' }, duration_ns: 10_000, async: false }, { ref: '4242:c4' }),
  ev(10_011, 'state', 'snapshot', '4242/o1', { state: CART2, trigger: { method: 'applyCoupon', args: ['SAVE'] } }, { ref: '4242:c4' }),
  ev(11_000, 'call', 'call', '4242', { module: '/app/src/payments.js', fn: 'charge', args: [5, 'EUR'], parent: null, thread: '4242' }, { ref: '4242:c5' }),
  ev(12_000, 'message', 'send', '4242', { channel: 'worker', message: { op: 'stop' } }, { from: '4242', to: '4242/w1', ref: 'm3' }),
  ev(13_000, 'log', 'info', '4242', { text: 'checkout failed' }),
  ev(30_000, 'worker', 'exit', '4242/w1', { code: 0 }, { from: '4242' }),
];

/**
 * Web traffic and console output over the same story (the `web` option): POST /checkout (request 4242:r1)
 * is served by the checkout calls above and fails with 500; GET /items/7 answers 200; GET /slow never answers.
 * Kept apart from EVENTS so that the tests written before it keep their counts: pass [...EVENTS, ...WEB_EVENTS].
 */
export const WEB_EVENTS: EventRow[] = [
  ev(1500, 'log', 'log', '4242/w1', { text: 'pricing ready' }),
  ev(2900, 'http', 'request', '4242', { method: 'POST', url: '/checkout?u=u1' }, { ref: '4242:r1', corr: '4242:r1' }),
  ev(5500, 'http', 'client_request', '4242', { method: 'GET', url: 'http://rates.local/eur' }, { ref: '4242:q1', corr: '4242:r1' }),
  ev(5900, 'http', 'client_response', '4242', { status: 200, duration_ns: 400_000 }, { ref: '4242:q1', corr: '4242:r1' }),
  ev(9050, 'log', 'error', '4242', { text: 'charge failed: card declined' }, { corr: '4242:r1' }),
  ev(9100, 'http', 'response', '4242', { method: 'POST', url: '/checkout?u=u1', route: '/checkout', status: 500, duration_ns: 6_200_000 }, { ref: '4242:r1', corr: '4242:r1' }),
  ev(11_500, 'http', 'request', '4242', { method: 'GET', url: '/items/7' }, { ref: '4242:r2', corr: '4242:r2' }),
  ev(11_800, 'http', 'response', '4242', { method: 'GET', url: '/items/7', route: '/items/:id', status: 200, duration_ns: 300_000 }, { ref: '4242:r2', corr: '4242:r2' }),
  ev(12_500, 'http', 'request', '4242', { method: 'GET', url: '/slow' }, { ref: '4242:r3', corr: '4242:r3' }),
  ev(12_600, 'log', 'warn', '4242', { text: 'slow upstream for /slow' }, { corr: '4242:r3' }),
];

/** EVENTS and WEB_EVENTS in time order, as the store would have received them. */
export function webEvents(): EventRow[] {
  return [...EVENTS, ...WEB_EVENTS].sort((a, b) => a.ts_ns - b.ts_ns);
}

export function setup(events: EventRow[] = EVENTS): { store: Store; ctx: ToolContext } {
  const store = new Store();
  store.write(events, ACTORS);
  return { store, ctx: contextOf(store) };
}

/** The tools' context over a store: its questions answered, anything that needs a live process refused. */
export function contextOf(store: Store): ToolContext {
  const refuse = async (): Promise<never> => {
    throw new Error('not in query-layer tests');
  };
  const ctx: ToolContext = {
    launch: refuse,
    attach: refuse,
    detach: refuse,
    stop: refuse,
    traceModule: refuse,
    track: refuse,
    findInstances: refuse,
    processInfo: refuse,
    cpuProfile: refuse,
    evaluate: refuse,
    sync: async () => undefined,
    configure: refuse,
    supervisionTree: () => supervisionTree(store),
    warnings: () => [],
    query: new Query(store),
    resolveActor: (ref) => resolveActor(store, ref),
  };
  return ctx;
}

/** Every SQL statement a tool runs on `events`, with its query plan, recorded while the tool answers. */
export function recordPlans(store: Store): Map<string, string> {
  const plans = new Map<string, string>();
  const prepare = store.db.prepare.bind(store.db);
  const explain = (sql: string, args: unknown[]) =>
    (prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join('; ');
  store.db.prepare = ((sql: string) => {
    const st = prepare(sql);
    return new Proxy(st, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (key !== 'all' && key !== 'get' && key !== 'iterate') return typeof value === 'function' ? value.bind(target) : value;
        return (...args: unknown[]) => {
          plans.set(sql.replace(/\s+/g, ' ').trim(), explain(sql, args));
          return value.apply(target, args);
        };
      },
    });
  }) as typeof store.db.prepare;
  return plans;
}
