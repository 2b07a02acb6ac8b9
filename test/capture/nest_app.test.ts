// A NestJS app (test/targets/programs/nest_shop: TypeScript with decorators and their metadata, compiled by
// tsc with source maps into ES modules, run from dist/), attached, asked what a person asks: which routes
// answered which requests with which status, the calls of its controller and service named by their .ts
// files (arguments, results and errors, each under its request), and the locals at a line of the .ts file.
// Node 24 live-edits the modules; Node 26 has none, and Nest calls each controller method through the
// reference it took at startup: those calls come by the method's breakpoint (arguments only).
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { get_function_calls } from '../../src/tools/get_function_calls.js';
import { get_probe_hits } from '../../src/tools/get_probe_hits.js';
import { trace_line } from '../../src/tools/trace_line.js';
import { trace_module } from '../../src/tools/trace_module.js';
import { eventually, startFixture } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';
import { answered, sendAll } from './web_apps.js';

const APP = join(import.meta.dirname, '..', 'targets', 'programs', 'nest_shop');
const SERVICE_TS = join(APP, 'src', 'orders.service.ts');

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

type Call = { fn: string; args: string[]; outcome: string; result?: string; error?: string; corr?: string | null };

/** get_function_calls of a module once it lists `n` calls, as [fn, args, outcome, result or error, request]. */
async function calls(module_name: string, n: number): Promise<unknown[][]> {
  let listed: Call[] = [];
  await eventually(async () => {
    const r = await callTool(get_function_calls, { module_name }, session!);
    listed = (r.structuredContent as { calls?: Call[] } | undefined)?.calls ?? [];
    return listed.length >= n;
  }, () => `${n} calls in ${module_name}: ${JSON.stringify(listed)}`);
  return listed.map((c) => [c.fn, c.args, c.outcome, c.result ?? c.error ?? null, c.corr]);
}

async function post(base: string, body: object): Promise<number> {
  const r = await fetch(`${base}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await r.arrayBuffer();
  return r.status;
}

describe.each(['24', '26'])('A NestJS app compiled by tsc, on Node %s', (major) => {
  const liveEdit = major !== '26';

  it('lists its routes with their statuses, traces its controller and service by their .ts names, and probes a .ts line', async () => {
    const app = startFixture(join('..', 'targets', 'programs', 'nest_shop', 'dist', 'main.js'), [], { node: nodeTarget(major).bin });
    const port = Number((await app.line(/^listening/)).split(' ')[1]);
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    await session.attach(String(app.pid));
    await sendAll(port, [
      ['GET', '/api/orders/1', 200],
      ['GET', '/api/orders/abc', 400],
      ['GET', '/api/nothing', 404],
    ]);
    const { text } = await answered(session, 3);
    // Nest answers a path no controller serves by a catch-all route of its own under the global prefix.
    expect(text.split('\n').slice(1, 4).map((l) => l.replace(/^\S+ \d+ /, '').replace(/ in [\d.]+ ms/, ''))).toEqual([
      `GET /api/orders/1 → 200 (route /api/orders/:id) [${app.pid}:r1]`,
      `GET /api/orders/abc → 400 (route /api/orders/:id) [${app.pid}:r2]`,
      `GET /api/nothing → 404 (route /api*path) [${app.pid}:r3]`,
    ]);

    for (const module_name of ['src/orders.controller.ts', 'src/orders.service.ts']) {
      const traced = await callTool(trace_module, { module_name }, session);
      expect(traced.isError, JSON.stringify(traced.content)).toBeFalsy();
    }
    const probe = await callTool(trace_line, { file: 'src/orders.service.ts', line: 27 }, session);
    expect((probe.content[0] as { text: string }).text).toContain(`Probe p1 at ${SERVICE_TS}:27:\n- ${app.pid}: breakpoint at ${join(APP, 'dist', 'orders.service.js')}:23:`);

    const base = `http://127.0.0.1:${port}/api`;
    // Each method's first call recorded, and whatever the tracer does on reading it done, before the next.
    const settled = async () => (await session!.sync()) + (await session!.sync());
    expect((await fetch(`${base}/orders/1`)).status).toBe(200);
    await settled();
    expect((await fetch(`${base}/orders/7`)).status).toBe(404);
    expect(await post(base, { item: 'tea', qty: 3 })).toBe(201);
    await settled();
    expect(await post(base, { item: 'gin', qty: 1 })).toBe(500);
    expect(await post(base, { item: 'jam', qty: 5 })).toBe(201);

    const [r4, r5, r6, r7, r8] = [4, 5, 6, 7, 8].map((n) => `${app.pid}:r${n}`);
    const order1 = '{id: 1, item: "jam", qty: 2, total: 8}';
    const notFound = `NotFoundException: order 7 not found (at ${SERVICE_TS}:19:23)`;
    const noPrice = `Error: no price for gin (at ${SERVICE_TS}:25:35)`;
    const tea = '{id: 2, item: "tea", qty: 3, total: 9}';
    const jam = '{id: 3, item: "jam", qty: 5, total: 20}';
    if (liveEdit) {
      expect(await calls('src/orders.controller.ts', 5)).toEqual([
        ['OrdersController#findOne', ['1'], 'returned', order1, r4],
        ['OrdersController#findOne', ['7'], 'threw', notFound, r5],
        ['OrdersController#create', ['{item: "tea", qty: 3}'], 'returned', tea, r6],
        ['OrdersController#create', ['{item: "gin", qty: 1}'], 'threw', noPrice, r7],
        ['OrdersController#create', ['{item: "jam", qty: 5}'], 'returned', jam, r8],
      ]);
      expect(await calls('src/orders.service.ts', 5)).toEqual([
        ['OrdersService#find', ['1'], 'returned', order1, r4],
        ['OrdersService#find', ['7'], 'threw', notFound, r5],
        ['OrdersService#place', ['"tea"', '3'], 'returned', tea, r6],
        ['OrdersService#place', ['"gin"', '1'], 'threw', noPrice, r7],
        ['OrdersService#place', ['"jam"', '5'], 'returned', jam, r8],
      ]);
    } else {
      // Each method's first call by its breakpoint, which puts a wrapper on the class's prototype: the
      // service's later calls go through it and are recorded whole; Nest calls the controller's methods
      // through the references it took at startup, which the breakpoint alone sees.
      expect(await calls('src/orders.controller.ts', 5)).toEqual([
        ['OrdersController#findOne', ['1'], 'arguments_only', null, r4],
        ['OrdersController#findOne', ['7'], 'arguments_only', null, r5],
        ['OrdersController#create', ['{item: "tea", qty: 3}'], 'arguments_only', null, r6],
        ['OrdersController#create', ['{item: "gin", qty: 1}'], 'arguments_only', null, r7],
        ['OrdersController#create', ['{item: "jam", qty: 5}'], 'arguments_only', null, r8],
      ]);
      expect(await calls('src/orders.service.ts', 5)).toEqual([
        ['OrdersService#find', ['1'], 'arguments_only', null, r4],
        ['OrdersService#find', ['7'], 'threw', notFound, r5],
        ['OrdersService#place', ['"tea"', '3'], 'arguments_only', null, r6],
        ['OrdersService#place', ['"gin"', '1'], 'threw', noPrice, r7],
        ['OrdersService#place', ['"jam"', '5'], 'returned', jam, r8],
      ]);
    }

    // The service's breakpoints go once its wrappers record; the controller's stay, for Nest's references.
    const rebound = session.store.db.prepare("SELECT payload FROM events WHERE type = 'agent' AND subtype = 'rebound' ORDER BY ts_ns").all() as { payload: string }[];
    expect(rebound.map((r) => JSON.parse(r.payload).fn)).toEqual(liveEdit ? [] : ['OrdersService#find', 'OrdersService#place']);

    type Hits = { hits: { locals: Record<string, unknown>; corr: string | null; stack: string[] }[] };
    const hits = await eventually(async () => {
      const r = await callTool(get_probe_hits, { probe: 'p1' }, session!);
      const h = (r.structuredContent as Hits | undefined)?.hits ?? [];
      return h.length === 2 && h;
    }, 'two probe hits');
    expect(hits.map((h) => [h.locals, h.corr, h.stack[0]])).toEqual([
      [{ item: '"tea"', qty: '3', unit: '3', total: '9' }, r6, `place (${SERVICE_TS}:27:19)`],
      [{ item: '"jam"', qty: '5', unit: '4', total: '20' }, r8, `place (${SERVICE_TS}:27:19)`],
    ]);
  });
});
