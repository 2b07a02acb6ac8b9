// trace_line on real processes: the TypeScript shop (compiled by tsc, source maps next to the JavaScript)
// probed at lines of src/payments.ts. Probes record locals, closure variables, `this`, the source-mapped
// stack and the request id; they never pause the program, stay within their rate on a hot line, refuse or
// report unsafe expressions, and leave no breakpoint behind after untrace or detach.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import type { CdpSession } from '../../src/trace/cdp.js';
import { DEFAULT_PROBE_LIMITS } from '../../src/trace/probes.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { resolveConfig } from '../../src/config.js';
import { exportTrace } from '../../src/query/export.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { TOOLS } from '../../src/tools/registry.js';
import { attached, eventually, events, FIXTURES, newTracer, startFixture } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

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

  it('keeps a probe on a hot line within its rate: a burst, then one hit a second', async () => {
    const { app, t } = await attached('shop-ts/dist/app.js', { ready: /^listening/ });
    app.send('hot 200000');
    const untraced = await app.nextLine(/^hot /);
    const paused = pauses(t.tracer);
    const probe = await t.tracer.traceLine({ file: 'payments.ts', line: 32, limits: DEFAULT_PROBE_LIMITS });
    expect(probe.sites).toMatchObject([{ url: `file://${PAYMENTS_JS}`, line: 28, column: 15, state: 'armed' }]);
    const started = Date.now();
    let runs = 0;
    while (Date.now() - started < 2500) {
      app.send('hot 200000');
      expect(await app.nextLine(/^hot /)).toBe(untraced);
      runs++;
    }
    const seconds = (Date.now() - started) / 1000;
    await t.tracer.sync();
    const hits = events(t.store, "type = 'probe' AND subtype = 'hit'");
    // 200,000 runs of the line per command, tens of commands: the burst of 5, then about one a second.
    expect(runs).toBeGreaterThan(3);
    expect(hits.length).toBeGreaterThanOrEqual(DEFAULT_PROBE_LIMITS.burst);
    expect(hits.length).toBeLessThanOrEqual(DEFAULT_PROBE_LIMITS.burst + Math.ceil(seconds * DEFAULT_PROBE_LIMITS.perSecond));
    expect(hits.map((h) => Object.keys(h.payload.locals))[0]).toEqual(['i', 'v']);
    expect(paused.count).toBe(0);
    // Removed in the middle of its cycle of disarming and re-arming, it leaves no breakpoint behind.
    await t.tracer.untraceLine(probe.id);
    const main = t.tracer.thread(String(app.pid));
    const gates = await main.call('probes.gates');
    for (let i = 0; i < 3; i++) {
      app.send('hot 200000');
      await app.nextLine(/^hot /);
      await new Promise((r) => setTimeout(r, 400));
    }
    expect(await main.call('probes.gates')).toBe(gates);
    // The Debugger domain stays on for the session: a `debugger;` statement in the app does not stop it.
    app.send('debugger');
    expect(await app.nextLine(/^after debugger/)).toBe('after debugger');
  });

  it('refuses a side-effecting condition, drops a side-effecting capture, and reports expressions that throw, changing nothing', async () => {
    const { app, t, ready } = await attached('shop-ts/dist/app.js', { ready: /^listening/ });
    const port = Number(ready.split(' ')[1]);
    const baseline = [await get(port, '/checkout?subtotal=100&shipping=10&coupon=HALF'), await get(port, '/checkout?subtotal=80&shipping=0&coupon=BIG')];
    await expect(t.tracer.traceLine({ file: 'src/payments.ts', line: 17, condition: 'applied++ > 0', limits: DEFAULT_PROBE_LIMITS })).rejects.toThrow(
      'the condition "applied++ > 0" increments or decrements: applied++: a probe must not change the program, so none was set',
    );
    const throwing = await t.tracer.traceLine({ file: 'src/payments.ts', line: 17, condition: 'order.missing.deep > 0', limits: DEFAULT_PROBE_LIMITS });
    const capturing = await t.tracer.traceLine({ file: 'src/payments.ts', line: 16, capture: ['COUPONS.BIG = 0', 'coupon.nope.x', 'order.id'], limits: DEFAULT_PROBE_LIMITS });
    expect(capturing.rejected).toEqual([{ expression: 'COUPONS.BIG = 0', reason: 'assigns: COUPONS.BIG = 0' }]);
    expect(capturing.capture).toEqual(['coupon.nope.x', 'order.id']);
    const again = [await get(port, '/checkout?subtotal=100&shipping=10&coupon=HALF'), await get(port, '/checkout?subtotal=80&shipping=0&coupon=BIG')];
    expect(again).toEqual([{ ...(baseline[0] as object), order: 'o3' }, { ...(baseline[1] as object), order: 'o4' }]);
    app.send('check');
    expect(await app.nextLine(/^applied /)).toBe('applied 4');
    await t.tracer.sync();
    const hits = events(t.store, "type = 'probe' AND subtype = 'hit'");
    expect(hits.map((h) => [h.payload.probe, h.payload.values, h.payload.errors])).toEqual([
      [capturing.id, { 'order.id': 'o3' }, { 'coupon.nope.x': "TypeError: Cannot read properties of undefined (reading 'x')" }],
      [capturing.id, { 'order.id': 'o4' }, { 'coupon.nope.x': "TypeError: Cannot read properties of undefined (reading 'x')" }],
    ]);
    const listed = t.tracer.probes.list();
    expect(listed.find((p) => p.id === throwing.id)).toMatchObject({ hits: 0, errors: [{ actor: String(app.pid), expression: 'condition', error: "TypeError: Cannot read properties of undefined (reading 'deep')" }] });
    expect(listed.find((p) => p.id === capturing.id)).toMatchObject({ hits: 2, errors: [{ expression: 'coupon.nope.x' }] });
  });

  it('leaves no breakpoint behind after untrace, nor after detach', async () => {
    const { app, t, ready } = await attached('shop-ts/dist/app.js', { ready: /^listening/ });
    const port = Number(ready.split(' ')[1]);
    const main = t.tracer.thread(String(app.pid));
    const probe = await t.tracer.traceLine({ file: 'src/payments.ts', line: 14, limits: DEFAULT_PROBE_LIMITS });
    await get(port, '/checkout?subtotal=1&coupon=TEN');
    expect(await main.call('probes.gates')).toBe(1);
    const [removed] = await t.tracer.untraceLine(probe.id);
    expect(removed).toMatchObject({ id: probe.id, state: 'removed', hits: 1 });
    await get(port, '/checkout?subtotal=2&coupon=TEN');
    // No condition ran: the breakpoint is gone from the thread, not just answering false.
    expect(await main.call('probes.gates')).toBe(1);
    expect(t.tracer.probes.list()).toEqual([]);

    await t.tracer.traceLine({ file: 'src/payments.ts', line: 14, limits: DEFAULT_PROBE_LIMITS });
    await get(port, '/checkout?subtotal=3&coupon=TEN');
    expect(await main.call('probes.gates')).toBe(2);
    await t.tracer.detach();
    // A new tracer's agent counts every probe condition that runs in the thread: none of the old ones does.
    const second = newTracer();
    await second.tracer.attach(app.pid);
    try {
      await get(port, '/checkout?subtotal=4&coupon=TEN');
      expect(await second.tracer.thread(String(app.pid)).call('probes.gates')).toBe(0);
    } finally {
      await second.tracer.close();
    }
  });

  it('sets two probes on one line, each with its own condition and capture; untracing one leaves the other', async () => {
    const { t, ready } = await attached('shop-ts/dist/app.js', { ready: /^listening/ });
    const port = Number(ready.split(' ')[1]);
    const paused = pauses(t.tracer);
    const below = await t.tracer.traceLine({ file: 'src/payments.ts', line: 17, condition: 'total < 0', capture: ['order.id'], limits: DEFAULT_PROBE_LIMITS });
    const big = await t.tracer.traceLine({ file: 'src/payments.ts', line: 17, condition: "coupon === 'BIG'", capture: ['discount'], limits: DEFAULT_PROBE_LIMITS });
    expect([below, big]).toMatchObject([
      { id: 'p1', state: 'active', errors: [], sites: [{ line: 16, column: 5, state: 'armed' }] },
      { id: 'p2', state: 'active', errors: [], sites: [{ line: 16, column: 5, state: 'armed' }] },
    ]);
    const hits = async (n: number) => {
      await t.tracer.sync();
      return events(t.store, "type = 'probe'").slice(n).map((e) => [e.subtype, e.payload.probe, e.payload.values]);
    };
    await get(port, '/checkout?subtotal=100&shipping=10&coupon=TEN');
    await get(port, '/checkout?subtotal=100&shipping=10&coupon=BIG');
    expect(await hits(0)).toEqual([['hit', 'p1', { 'order.id': 'o2' }], ['hit', 'p2', { discount: 150 }]]);

    await t.tracer.untraceLine(below.id);
    await get(port, '/checkout?subtotal=200&shipping=10&coupon=BIG');
    expect(await hits(2)).toEqual([['hit', 'p2', { discount: 300 }]]);
    expect(t.tracer.probes.list()).toMatchObject([{ id: 'p2', state: 'active', hits: 2 }]);
    expect(paused.count).toBe(0);
  });

  it('answers through the tools: trace_line, get_probe_hits, the execution path and export_trace show the hit; untrace removes it', async () => {
    const app = startFixture('shop-ts/dist/app.js');
    const port = Number((await app.line(/^listening/)).split(' ')[1]);
    const session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    try {
      const call = async (name: string, args: Record<string, unknown>) => {
        const r = await callTool(TOOLS.find((t) => t.name === name)!, args, session);
        return { text: (r.content as { text: string }[]).map((c) => c.text).join('\n'), data: r.structuredContent as any, isError: r.isError ?? false };
      };
      await session.attach(String(app.pid));
      const main = String(app.pid);
      const set = await call('trace_line', { file: 'src/payments.ts', line: 17, condition: 'total < 0', log: 'total {total} for {order.id}' });
      expect(set.isError, set.text).toBe(false);
      expect(set.text.split('\n').slice(0, 2)).toEqual([
        `Probe p1 at ${PAYMENTS_TS}:17 when total < 0, logging "total {total} for {order.id}":`,
        `- ${main}: breakpoint at ${PAYMENTS_JS}:16:5 (armed)`,
      ]);
      const listed = await call('untrace', {});
      expect(listed.text.split('\n')).toEqual([
        `- probe p1 at ${PAYMENTS_TS}:17 when total < 0: 0 hits in ${main}; 1/s, 100 hits, 900 s`,
        'Active: 0 module traces, 1 probes; stop one with untrace(module_name) or untrace(probe).',
      ]);
      await get(port, '/checkout?subtotal=100&shipping=10&coupon=BIG');
      const hits = await call('get_probe_hits', { probe: 'p1' });
      const request = (await call('get_http_requests', {})).data.requests[0].id;
      const lines = hits.text.split('\n');
      expect(lines[0]).toBe(`p1 at ${PAYMENTS_TS}:17 when total < 0: active, 1 hits`);
      const at = lines.findIndex((l) => l.startsWith('Hits of p1'));
      expect(lines[at]).toBe('Hits of p1: 1');
      expect(lines[at + 1]).toMatch(new RegExp(`^\\S+Z ${main} p1 at ${PAYMENTS_TS}:17 \\(request ${request}\\) \\[#\\d+\\]$`));
      expect(lines.slice(at + 2, at + 6)).toEqual([
        '  message: total -40 for o1',
        '  values: total = -40, "order.id" = "o1"',
        '  locals: order = {id: "o1", subtotal: 100, shipping: 10}, coupon = "BIG", rate = 1.5, discount = 150, total = -40',
        '  closure: COUPONS = {TEN: 0.1, HALF: 0.5, BIG: 1.5}, applied = 1',
      ]);
      expect(lines[at + 6]).toBe('  this: {applyCoupon: [function applyCoupon], charge: [function charge], fail: [function fail], step: [function step], spin: [function spin], appliedCount: [function appliedCount]}');
      expect(lines[at + 7]).toMatch(new RegExp(`^  stack: applyCoupon \\(${PAYMENTS_TS}:17:3\\) ← <anonymous> \\(${APP_TS}:17:26\\) ← emit`));
      const path = await call('get_execution_path', { pid_string: main, request_id: request });
      expect(path.text).toContain(`probe p1 hit at src/payments.ts:17: "total -40 for o1"`);
      const slice = exportTrace(session.store, { sinceMs: null, untilMs: null }).trace.traceEvents.find((e) => e.name === 'probe/hit');
      expect(slice).toMatchObject({ ph: 'i', pid: app.pid, tid: 0, args: { actor: main, probe: 'p1', line: 17, message: 'total -40 for o1' } });
      const removed = await call('untrace', { probe: 'all' });
      expect(removed.text).toBe(`Stopped: probe p1 at ${PAYMENTS_TS}:17 (1 hits).\nNothing is traced now.`);
      expect(session.probes()).toEqual([]);
    } finally {
      await session.dispose();
    }
  });

  it('is set in a worker started later, before its first line, from the map another thread loaded', async () => {
    const { app, t } = await attached('shop-ts/dist/app.js', { ready: /^listening/ });
    const paused = pauses(t.tracer);
    const probe = await t.tracer.traceLine({ file: 'src/payments.ts', line: 17, condition: 'total < 0', limits: DEFAULT_PROBE_LIMITS });
    app.send('worker 100:BIG');
    expect(await app.nextLine(/^worker total/)).toBe('worker total 0');
    await t.tracer.sync();
    const worker = [...t.tracer.links.get(app.pid)!.workers.keys()][0]!;
    const hits = events(t.store, "type = 'probe' AND subtype = 'hit'");
    expect(hits.map((h) => [h.actor, h.payload.locals])).toEqual([[worker, { order: { id: 'w1', subtotal: 100, shipping: 0 }, coupon: 'BIG', rate: 1.5, discount: 150, total: -50 }]]);
    expect(hits[0]!.payload.stack[0]).toBe(`applyCoupon (${PAYMENTS_TS}:17:3)`);
    expect(t.tracer.probes.list()[0]!.sites.map((s) => [s.actor, s.line, s.column])).toEqual([[String(app.pid), 16, 5], [worker, 16, 5]]);
    expect(paused.count).toBe(0);
    await t.tracer.untraceLine(probe.id);
  });

  it('probes an ES module in TypeScript run by Node 24\'s type stripping: the file\'s own lines, no map needed', async () => {
    const proc = spawn(nodeTarget('24').bin, [join(FIXTURES, 'strip-ts/app.mts')], { stdio: 'pipe' });
    // Every line kept: two answers may come in one chunk, before a second `once` listener would be on.
    const seen: string[] = [];
    const waiting: ((line: string) => void)[] = [];
    createInterface({ input: proc.stdout }).on('line', (line) => (waiting.length ? waiting.shift()!(line) : seen.push(line)));
    const next = () => (seen.length ? Promise.resolve(seen.shift()!) : new Promise<string>((resolve) => waiting.push(resolve)));
    const t = newTracer();
    try {
      expect(await next()).toBe('ready');
      await t.tracer.attach(proc.pid!);
      const paused = pauses(t.tracer);
      const mts = join(FIXTURES, 'strip-ts/payments.mts');
      const probe = await t.tracer.traceLine({ file: 'strip-ts/payments.mts', line: 12, condition: 'total < 0', limits: DEFAULT_PROBE_LIMITS });
      expect(probe.sites).toEqual([{ actor: String(proc.pid), url: `file://${mts}`, line: 12, column: 3, state: 'armed' }]);
      proc.stdin.write('price 100:TEN\nprice 100:BIG\n');
      expect([await next(), await next()]).toEqual(['total 90', 'total 0']);
      await t.tracer.sync();
      const hits = events(t.store, "type = 'probe' AND subtype = 'hit'");
      expect(hits.map((h) => h.payload.locals)).toEqual([{ order: { id: 'o2', subtotal: 100 }, coupon: 'BIG', rate: 1.5, total: -50 }]);
      expect(hits[0]!.payload.stack[0]).toBe(`applyCoupon (${mts}:12:3)`);
      expect(paused.count).toBe(0);
    } finally {
      await t.tracer.close();
      proc.kill('SIGKILL');
    }
  });

  it('is set again after the inspector socket drops and the tracer reconnects', async () => {
    const { app, t, ready } = await attached('shop-ts/dist/app.js', { ready: /^listening/ });
    const port = Number(ready.split(' ')[1]);
    await t.tracer.traceLine({ file: 'src/payments.ts', line: 17, condition: 'total < 0', limits: DEFAULT_PROBE_LIMITS });
    const link = t.tracer.links.get(app.pid)!;
    const before = link.main.session;
    link.dropSocket();
    await eventually(() => link.main.session !== before && !link.main.session.closed, 'the reconnect');
    // The line runs (condition false) until the new session's breakpoint makes its condition run.
    let orders = 0;
    for (let gates = 0; gates === 0; ) {
      await get(port, '/checkout?subtotal=10&shipping=0&coupon=TEN');
      orders++;
      gates = ((await link.main.call('probes.gates').catch(() => 0)) as number) ?? 0;
      if (orders > 100) throw new Error('the probe was not set again');
    }
    expect(await get(port, '/checkout?subtotal=10&shipping=0&coupon=BIG')).toEqual({ order: `o${orders + 1}`, total: 0 });
    await t.tracer.sync();
    expect(events(t.store, "type = 'probe' AND subtype = 'hit'").map((h) => [h.payload.locals.order.id, h.payload.locals.total])).toEqual([[`o${orders + 1}`, -5]]);
  });

  it('is set in a module already traced by trace_module: both learn the loaded scripts from one list', async () => {
    const { t, ready } = await attached('shop-ts/dist/app.js', { ready: /^listening/ });
    const port = Number(ready.split(' ')[1]);
    const [traced] = await t.tracer.traceModule({ module: 'src/payments.ts', maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 });
    expect(traced!.value).toMatchObject({ status: 'traced' });
    const probe = await t.tracer.traceLine({ file: 'src/payments.ts', line: 17, condition: 'total < 0', limits: DEFAULT_PROBE_LIMITS });
    expect(probe.sites).toMatchObject([{ state: 'armed' }]);
    expect(await get(port, '/checkout?subtotal=100&shipping=10&coupon=BIG')).toEqual({ order: 'o1', total: 0 });
    await t.tracer.sync();
    const [hit, ...more] = events(t.store, "type = 'probe'");
    expect(more).toEqual([]);
    // The function is instrumented in place (its body runs as an arrow inside it): its parameters are
    // still its locals, and its frame is still its own.
    expect(hit!.payload).toMatchObject({
      locals: { order: { id: 'o1', subtotal: 100, shipping: 10 }, coupon: 'BIG', rate: 1.5, discount: 150, total: -40 },
      closure: { COUPONS: { TEN: 0.1, HALF: 0.5, BIG: 1.5 }, applied: 1 },
    });
    expect(hit!.payload.stack.slice(0, 2)).toEqual([`applyCoupon (${PAYMENTS_TS}:17:3)`, `<anonymous> (${APP_TS}:17:26)`]);
  });
});
