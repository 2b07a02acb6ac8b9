// trace_line on real processes: the TypeScript shop (compiled by tsc, source maps next to the JavaScript)
// probed at lines of src/payments.ts. Probes record locals, closure variables, `this`, the source-mapped
// stack and the request id; they never pause the program, stay within their rate on a hot line, refuse or
// report unsafe expressions, and leave no breakpoint behind after untrace or detach.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CdpSession } from '../../src/trace/cdp.js';
import { DEFAULT_PROBE_LIMITS } from '../../src/trace/probes.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { attached, events, FIXTURES } from '../helpers.js';

const SHOP = join(FIXTURES, 'shop-ts');
const PAYMENTS_TS = join(SHOP, 'src/payments.ts');
const APP_TS = join(SHOP, 'src/app.ts');
const PAYMENTS_JS = join(SHOP, 'dist/payments.js');

/** Counts Debugger.paused on every thread's session: a probe must never stop the program. */
function pauses(tracer: Tracer): { count: number } {
  const seen = { count: 0 };
  for (const link of tracer.links.values()) for (const t of [link.main, ...link.workers.values()]) (t.session as CdpSession).on('Debugger.paused', () => seen.count++);
  return seen;
}

async function get(port: number, path: string): Promise<unknown> {
  return (await fetch(`http://127.0.0.1:${port}${path}`)).json();
}

describe('trace_line', () => {
  it('catches a bad local with a condition: locals, closure, source-mapped stack and request id, never pausing', async () => {
    const { app, t, ready } = await attached('shop-ts/dist/app.js', { ready: /^listening/, web: true });
    const port = Number(ready.split(' ')[1]);
    const paused = pauses(t.tracer);
    const probe = await t.tracer.traceLine({ file: 'src/payments.ts', line: 17, condition: 'total < 0', capture: ['order.id', 'total - order.shipping'], limits: DEFAULT_PROBE_LIMITS });
    expect(probe).toMatchObject({
      id: 'p1', file: PAYMENTS_TS, line: 17, condition: 'total < 0', state: 'active', rejected: [],
      sites: [{ actor: String(app.pid), url: `file://${PAYMENTS_JS}`, line: 16, column: 5, state: 'armed' }],
    });
    expect(await get(port, '/checkout?subtotal=100&shipping=10&coupon=TEN')).toEqual({ order: 'o1', total: 100 });
    // The bug: BIG takes 150% off, the response clamps the total to 0; only the local shows -40.
    expect(await get(port, '/checkout?subtotal=100&shipping=10&coupon=BIG')).toEqual({ order: 'o2', total: 0 });
    await t.tracer.sync();
    const hits = events(t.store, "type = 'probe'");
    expect(hits).toHaveLength(1);
    const hit = hits[0]!;
    expect(hit.subtype).toBe('hit');
    expect(hit.payload).toMatchObject({
      probe: 'p1',
      file: PAYMENTS_TS,
      line: 17,
      locals: { order: { id: 'o2', subtotal: 100, shipping: 10 }, coupon: 'BIG', rate: 1.5, discount: 150, total: -40 },
      closure: { COUPONS: { TEN: 0.1, HALF: 0.5, BIG: 1.5 }, applied: 2 },
      values: { 'order.id': 'o2', 'total - order.shipping': -50 },
    });
    expect(hit.payload.stack[0]).toBe(`applyCoupon (${PAYMENTS_TS}:17:3)`);
    expect(hit.payload.stack[1]).toBe(`<anonymous> (${APP_TS}:17:26)`);
    const request = events(t.store, "type = 'http' AND subtype = 'request'")[1]!;
    const corr = t.store.db.prepare("SELECT corr FROM events WHERE type = 'probe'").get() as { corr: string };
    expect(corr.corr).toBe(t.store.db.prepare("SELECT ref FROM events WHERE type = 'http' AND subtype = 'request' ORDER BY id LIMIT 1 OFFSET 1").pluck().get());
    expect(request.payload.url).toBe('/checkout?subtotal=100&shipping=10&coupon=BIG');
    expect(paused.count).toBe(0);
    expect(t.tracer.probes.list()).toMatchObject([{ id: 'p1', hits: 1, state: 'active', mechanism: expect.stringMatching(/never pauses/) }]);
  });
});
