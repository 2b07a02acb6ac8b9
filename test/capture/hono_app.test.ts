// A Hono app served by @hono/node-server (installed from the registry into test/targets), an ES module on
// Node 26, asked what a person asks: which requests came, what an order request called upstream (its fetch,
// under the full URL and the request's id), the calls of the app's own pricing module, and the locals at a
// line of it, each tied to its request. (Routes are not recorded for Hono's ES module build, which the agent
// cannot reach; its CommonJS build's are: hono_routes.test.ts.)
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { get_function_calls } from '../../src/tools/get_function_calls.js';
import { get_http_requests } from '../../src/tools/get_http_requests.js';
import { get_probe_hits } from '../../src/tools/get_probe_hits.js';
import { trace_line } from '../../src/tools/trace_line.js';
import { trace_module } from '../../src/tools/trace_module.js';
import { eventually, startFixture } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

const PRICE = join(import.meta.dirname, '..', 'targets', 'programs', 'hono_shop', 'price.js');

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

type Requests = { requests: { id: string; method: string; url: string; status: number; route: string | null; pending: boolean }[] };

describe('A Hono app on Node 26', () => {
  it('records its requests, the fetch an order makes upstream, its module calls and probe hits, each under its request', async () => {
    const app = startFixture(join('..', 'targets', 'programs', 'hono_shop', 'server.js'), [], { node: nodeTarget('26').bin });
    const port = Number((await app.line(/^listening/)).split(' ')[1]);
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    await session.attach(String(app.pid));
    const base = `http://127.0.0.1:${port}`;
    expect(await (await fetch(`${base}/api/orders/1`)).json()).toEqual({ id: 1, price: 22, left: 3 });
    expect((await fetch(`${base}/api/orders/9`)).status).toBe(500);
    const served = await eventually(async () => {
      const r = await callTool(get_http_requests, {}, session!);
      const { requests } = r.structuredContent as Requests;
      return !r.isError && requests.length === 3 && requests.every((q) => !q.pending) && requests;
    }, 'three answered requests');
    const main = String(app.pid);
    expect(served.map((r) => [r.id, r.method, r.url, r.status])).toEqual([
      [`${main}:r1`, 'GET', '/api/orders/1', 200],
      [`${main}:r3`, 'GET', '/stock/sku-1', 200],
      [`${main}:r4`, 'GET', '/api/orders/9', 500],
    ]);
    const made = session.store.db.prepare("SELECT ref, corr, payload FROM events WHERE type = 'http' AND subtype = 'client_request'").all() as { ref: string; corr: string; payload: string }[];
    expect(made.map((m) => [m.ref, m.corr, JSON.parse(m.payload).url])).toEqual([[`${main}:q2`, `${main}:r1`, `${base}/stock/sku-1`]]);

    const traced = await callTool(trace_module, { module_name: 'price.js' }, session);
    expect(traced.isError).toBeFalsy();
    const probe = await callTool(trace_line, { file: 'price.js', line: 3 }, session);
    expect(probe.isError).toBeFalsy();
    expect(await (await fetch(`${base}/api/orders/2`)).json()).toEqual({ id: 2, price: 24, left: 3 });
    expect(await (await fetch(`${base}/api/orders/5`)).json()).toEqual({ id: 5, price: 30, left: 3 });
    type Calls = { calls: { fn: string; args: unknown[]; request_id?: string | null }[] };
    const calls = await eventually(async () => {
      const r = await callTool(get_function_calls, { module_name: 'price.js' }, session!);
      const c = (r.structuredContent as Calls | undefined)?.calls ?? [];
      return c.length === 2 && c;
    }, 'two calls of priceOf');
    expect(calls.map((c) => [c.fn, c.args])).toEqual([['priceOf', ['2', '2']], ['priceOf', ['5', '2']]]);
    type Hits = { hits: { locals: Record<string, unknown>; corr: string | null }[] };
    const hits = await eventually(async () => {
      const r = await callTool(get_probe_hits, {}, session!);
      const h = (r.structuredContent as Hits | undefined)?.hits ?? [];
      return h.length === 2 && h;
    }, 'two probe hits');
    expect(hits.map((h) => [h.locals, h.corr])).toEqual([
      [{ id: '2', qty: '2', unit: '12' }, `${main}:r5`],
      [{ id: '5', qty: '2', unit: '15' }, `${main}:r8`],
    ]);
  });
});
