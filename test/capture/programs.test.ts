// Programs from the registry, attached and asked what a person asks of them, where an answer misled: a
// Fastify server and its pino logger (which log line came with the 500, and why; which functions of its
// module are traced), and a Piscina pool attached after an earlier trace of its task module.
import { get } from 'node:http';
import { describe, expect, it } from 'vitest';
import { httpRequests } from '../../src/query/http.js';
import { logs } from '../../src/query/logs.js';
import { CUT, paging } from '../../src/query/page.js';
import { tracedModules } from '../../src/query/tree.js';
import { attached, eventually, events, startFixture } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };
const all = { sinceMs: null, untilMs: null };

function fetchStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    }).on('error', reject);
  });
}

// Node 20 and 22 live-edit (the functions it destructured are reached); Node 26 has no live edit.
describe.each(['20', '22'])('A Fastify 5 server with its pino logger, attached on Node %s', (major) => {
  it('lists every function of its module traced in place, and leads the cut error line of the 500 with its message', async () => {
    const { t, ready } = await attached('programs/pricing_api.cjs', { node: nodeTarget(major).bin, web: true });
    const port = Number(ready.split(' ')[1]);
    const [report] = await t.tracer.traceModule({ module: './test/fixtures/programs/pricing.cjs', ...limits });
    expect(report!.value).toMatchObject({ status: 'traced', via: 'live-edit', functions: ['price', 'discount'] });
    // pino writes through sonic-boom (fs.write on fd 1): its lines are recorded as the writes complete, and
    // lines it held while a write was under way are written from that write's callback, in the async context
    // of the request that wrote first. The second request is sent once the first one's lines are out.
    const lines = () => (t.tracer.ingest.flush(), logs(t.store, { window: all, grep: 'request completed' }, 50).total);
    expect(await fetchStatus(port, '/price/abc?qty=2&code=HALF')).toBe(200);
    await eventually(() => lines() === 1, 'the first request\'s last log line');
    expect(await fetchStatus(port, '/price/bad')).toBe(500);
    const errors = await eventually(() => {
      t.tracer.ingest.flush();
      const lines = logs(t.store, { window: all, level: 'error' }, 50).lines;
      return lines.length === 1 && lines;
    }, 'pino\'s error line');
    const failed = httpRequests(t.store, { window: all, statusMin: 500 }, paging()).requests;
    expect(failed.map((r) => [r.url, r.route, r.status])).toEqual([['/price/bad', '/price/:sku', 500]]);
    expect(errors.map((l) => [l.corr, l.text.startsWith('unknown sku bad — {"level":50,'), l.text.endsWith(CUT)])).toEqual([[failed[0]!.id, true, true]]);

    expect(events(t.store, "type = 'call'").map((e) => [e.subtype, e.payload.fn, e.payload.args ?? e.payload.result ?? e.payload.error.message])).toEqual([
      ['call', 'price', ['abc', 2]],
      ['return', 'price', { sku: 'abc', qty: 2, amount: 6 }],
      ['call', 'discount', [6, 'HALF']],
      ['return', 'discount', 3],
      ['call', 'price', ['bad', 1]],
      ['throw', 'price', 'unknown sku bad'],
    ]);
    // Instrumented one function at a time, the module is listed with both (it listed the first only), as a
    // question finds it: the agents hand over what they hold first.
    await t.tracer.sync();
    expect(tracedModules(t.store).map((m) => [m.module, m.via, m.functions, m.stopped])).toEqual([['test/fixtures/programs/pricing.cjs', 'live-edit', ['price', 'discount'], null]]);
  });
});

describe('A Fastify 5 server with its pino logger, under concurrent requests', () => {
  it('records each log line with its own request or with none, never with another request', async () => {
    const { t, ready } = await attached('programs/pricing_api.cjs', { web: true });
    const port = Number(ready.split(' ')[1]);
    // sonic-boom, busy writing, holds the lines logged meanwhile and writes them from the write's callback,
    // in the async context of the request that wrote first.
    for (let round = 0; round < 4; round++) await Promise.all(Array.from({ length: 20 }, (_, i) => fetchStatus(port, `/price/s${round}-${i}`)));
    const pricing = await eventually(() => {
      t.tracer.ingest.flush();
      const lines = logs(t.store, { window: all, grep: '"msg":"pricing"' }, 500).lines;
      return lines.length === 80 && lines;
    }, 'the 80 pricing lines');
    const urls = new Map(httpRequests(t.store, { window: all }, paging(1, 100)).requests.map((r) => [r.id, r.url]));
    expect(urls.size).toBe(80);
    const attributed = pricing.filter((l) => l.corr !== null).map((l) => [/"sku":"([^"]+)"/.exec(l.text)![1], urls.get(l.corr!)]);
    expect(attributed.filter(([sku, url]) => url !== `/price/${sku}`)).toEqual([]);
  });
});

describe('A Piscina pool attached after its task module was traced in another pool', () => {
  it('has the task its pool already holds instrumented in place, and records its calls', async () => {
    const { app: first, t } = await attached('pool/app.cjs');
    const [traced] = (await t.tracer.traceModule({ module: './task.cjs', ...limits })).filter((r) => r.actor.includes('/w'));
    expect(traced!.value).toMatchObject({ status: 'traced', via: 'live-edit' });
    first.send('price a 1');
    expect(await first.nextLine(/^priced|^failed/)).toBe('priced a 2.5');

    // The second pool's thread loaded the task before attach: wrappers on its exports would miss every call
    // (the pool calls the function it kept), so it is traced as trace_module traces a loaded module.
    const second = startFixture('pool/app.cjs');
    await second.line(/^ready/);
    const link = await t.tracer.attach(second.pid);
    const worker = await eventually(() => [...link.workers.values()][0], 'the second pool\'s thread');
    second.send('price b 3');
    expect(await second.nextLine(/^priced|^failed/)).toBe('priced b 7.5');
    second.send('price c 0');
    expect(await second.nextLine(/^priced|^failed/)).toBe('failed bad quantity 0');
    await t.tracer.sync();
    expect(events(t.store, "type = 'call' AND actor = ?", worker.actor).map((e) => [e.subtype, e.payload.fn, e.payload.args ?? e.payload.result ?? e.payload.error.message])).toEqual([
      ['call', 'price', [{ sku: 'b', qty: 3 }]],
      ['return', 'price', { sku: 'b', total: 7.5 }],
      ['call', 'price', [{ sku: 'c', qty: 0 }]],
      ['throw', 'price', 'bad quantity 0'],
    ]);
    expect(tracedModules(t.store).filter((m) => m.actor === worker.actor).map((m) => [m.module, m.via, m.functions])).toEqual([['test/fixtures/pool/task.cjs', 'live-edit', ['price']]]);
  });
});

describe('A module loaded by a registry of the program\'s own (as jest\'s runtime does, with node:vm)', () => {
  it('is answered as loaded outside require, not as waiting to be required', async () => {
    const { app, t } = await attached('programs/vm_registry.cjs');
    const [report] = await t.tracer.traceModule({ module: './test/fixtures/programs/rates.cjs', ...limits });
    expect(report!.value).toMatchObject({
      status: 'pending',
      note: "loaded, but not by require or import (a runner's own module registry, as jest's vm contexts): not traced; traced if required later",
    });
    app.send('rate 4');
    expect(await app.nextLine(/^rated/)).toBe('rated 8');
  });
});
