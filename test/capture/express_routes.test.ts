// Routes of an Express 5 app whose routes are mounted under /api, read back through get_http_requests: the
// route is the full one ("/api/orders/:id") whether the handler answered, or threw and the app's error
// middleware answered (Express restores req.baseUrl as the error leaves the mounted router), and for a POST.
// The text names the route of every request a route answered, whatever its method and status, also when
// the pattern spells the URL, and no route where none answered.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { get_function_calls } from '../../src/tools/get_function_calls.js';
import { get_logs } from '../../src/tools/get_logs.js';
import { get_supervision_tree } from '../../src/tools/get_supervision_tree.js';
import { trace_module } from '../../src/tools/trace_module.js';
import { eventually, FIXTURES, startFixture } from '../helpers.js';
import { nodeTargets } from '../targets/index.js';
import { answered, sendAll, type Sent } from './web_apps.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

/** The calls get_function_calls lists for a module once there are at least `n`. */
async function functionCalls<Call>(module_name: string, n: number, ended = false): Promise<Call[]> {
  let calls: Call[] = [];
  return eventually(async () => {
    const r = await callTool(get_function_calls, { module_name }, session!);
    calls = (r.structuredContent as { calls?: Call[] } | undefined)?.calls ?? [];
    // `ended`: each with its outcome too (an async handler's comes a moment after its response was sent).
    return calls.length >= n && (!ended || calls.every((c) => (c as { outcome?: string }).outcome !== 'running')) && calls;
  }, () => `${n} calls in ${module_name}: ${JSON.stringify(calls)}`);
}

describe('Express 5 routes', () => {
  it('reports the full mounted route for a success, an async throw answered by the error middleware, and a POST', async () => {
    const app = startFixture('express5/orders.cjs');
    const port = Number((await app.line(/^listening/)).split(' ')[1]);
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    await session.attach(String(app.pid));
    const base = `http://127.0.0.1:${port}/api`;
    expect((await fetch(`${base}/orders/1`)).status).toBe(200);
    expect((await fetch(`${base}/orders/9`)).status).toBe(500);
    const posted = await fetch(`${base}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"item":"jam"}' });
    expect(posted.status).toBe(201);
    expect((await fetch(`${base}/orders/2/`)).status).toBe(200);

    const { requests } = await answered(session, 4);
    expect(requests.map((r) => [r.method, r.url, r.status, r.route])).toEqual([
      ['GET', '/api/orders/1', 200, '/api/orders/:id'],
      ['GET', '/api/orders/9', 500, '/api/orders/:id'],
      ['POST', '/api/orders', 201, '/api/orders'],
      ['GET', '/api/orders/2/', 200, '/api/orders/:id'],
    ]);
  });

  it("names the route in the text whenever one answered, for every method and status", async () => {
    const app = startFixture('express5/routes.cjs');
    const port = Number((await app.line(/^listening/)).split(' ')[1]);
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    await session.attach(String(app.pid));
    const sent: Sent = [
      ['GET', '/health', 200],
      ['POST', '/api/orders', 201],
      ['DELETE', '/api/orders', 404],
      ['GET', '/api/old', 302],
      ['PUT', '/api/orders/7', 204],
      ['HEAD', '/api/orders/7', 200],
      ['GET', '/api/orders?page=2', 200],
      ['OPTIONS', '/api/orders', 200],
      ['GET', '/static/a.css', 200],
      ['GET', '/nothing', 404],
    ];
    await sendAll(port, sent);
    const { text } = await answered(session, sent.length);
    const lines = text.split('\n').slice(1, 1 + sent.length).map((l) => l.replace(/^\S+ \d+ /, '').replace(/ in [\d.]+ ms/, '').replace(/ \[\d+:r\d+\]$/, ''));
    expect(lines).toEqual([
      'GET /health → 200 (route /health)',
      'POST /api/orders → 201 (route /api/orders)',
      'DELETE /api/orders → 404 (route /api/orders)',
      'GET /api/old → 302 (route /api/old)',
      'PUT /api/orders/7 → 204 (route /api/orders/:id)',
      'HEAD /api/orders/7 → 200 (route /api/orders/:id)',
      'GET /api/orders?page=2 → 200 (route /api/orders)',
      'OPTIONS /api/orders → 200',
      'GET /static/a.css → 200',
      'GET /nothing → 404',
    ]);
  });
});

// An app's entry file exports nothing: its route handlers are callbacks registered before nodescope came.
// trace_module on it traces every function in it, named by the call each is passed to. Where V8 live-edits
// (Node 20 to 24), the handlers' existing closures are instrumented (innermost first: src/trace/esm.ts
// editInPlace) and each call is recorded whole; Node 26 has no live edit: breakpoints record the arguments.
describe.each(nodeTargets().filter((t) => t.major !== '22').map((t) => [t.major, t.bin]))('trace_module on an entry file that exports no function (Node %s)', (major, node) => {
  it('traces its route handlers by the route they serve, with what they returned and threw', async () => {
    const app = startFixture('express5/orders.cjs', [], { node });
    const port = Number((await app.line(/^listening/)).split(' ')[1]);
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    await session.attach(String(app.pid));
    const traced = await callTool(trace_module, { module_name: 'orders.cjs' }, session);
    const text = traced.content.map((c) => (c as { text: string }).text).join('\n');
    expect(traced.isError, text).toBeFalsy();
    const liveEdit = major !== '26';
    const how = liveEdit ? 'instrumented in place' : 'traced by conditional breakpoints, since this Node has no live edit (setScriptSource functionality no longer available)';
    expect(text).toContain(`: it exports no function of its own, so every function in it: router.get('/orders/:id') callback, Promise callback, router.post('/orders') callback, app.use callback, app.listen callback ${how}`);

    const base = `http://127.0.0.1:${port}/api`;
    expect((await fetch(`${base}/orders/1`)).status).toBe(200);
    expect((await fetch(`${base}/orders/9`)).status).toBe(500);
    expect((await fetch(`${base}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"item":"jam","card":"4111 1111 1111 1111"}' })).status).toBe(201);

    type Call = { fn: string; args: string[]; outcome: string; error?: string; async?: boolean; corr?: string };
    const calls = await functionCalls<Call>('orders.cjs', 6, liveEdit);
    const get = "router.get('/orders/:id') callback";
    const post = "router.post('/orders') callback";
    // Each call is its request's: the ids get_http_requests shows.
    const [r1, r2, r3] = [1, 2, 3].map((n) => `${app.pid}:r${n}`);
    // A request shows what its handler was asked, not its stream internals; the card number stays secret.
    expect(calls[0]!.args[0]).toMatch(/^IncomingMessage \{method: "GET", url: "\/orders\/1", params: \{id: "1"\}, …\d+ more\}$/);
    expect(calls[5]!.args[0]).toMatch(/^IncomingMessage \{method: "POST", url: "\/orders", params: \{\}, body: \{item: "jam", card: "\[redacted\]"\}, …\d+ more\}$/);
    // Oldest first by when each began: a handler, then the promise executor it called.
    expect(calls.map((c) => [c.fn, c.corr])).toEqual([
      [get, r1],
      ['Promise callback', r1],
      [get, r2],
      ['Promise callback', r2],
      ['app.use callback', r2],
      [post, r3],
    ]);
    if (liveEdit) {
      expect(calls.map((c) => [c.outcome, c.async ?? false])).toEqual([
        ['returned', true],
        ['returned', false],
        ['threw', true],
        ['returned', false],
        ['returned', false],
        ['returned', true],
      ]);
      expect(calls[2]!.error).toContain('no order 9');
    }
  });

  it("traces a routes file's handlers rather than the router it exports", async () => {
    const app = startFixture('express5/shop.cjs', [], { node });
    const port = Number((await app.line(/^listening/)).split(' ')[1]);
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    await session.attach(String(app.pid));
    const traced = await callTool(trace_module, { module_name: 'items.cjs' }, session);
    const text = traced.content.map((c) => (c as { text: string }).text).join('\n');
    expect(text).toContain(": it exports no function of its own, so every function in it: router.get('/items/:sku') callback ");
    expect((await fetch(`http://127.0.0.1:${port}/api/items/a`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/api/items/z`)).status).toBe(404);
    type Call = { fn: string; args: string[]; result?: string };
    const calls = await functionCalls<Call>('items.cjs', 2);
    expect(calls.map((c) => [c.fn, c.args[0]!.match(/params: \{[^}]*\}/)?.[0]])).toEqual([
      ["router.get('/items/:sku') callback", 'params: {sku: "a"}'],
      ["router.get('/items/:sku') callback", 'params: {sku: "z"}'],
    ]);
  });
});

// Launched with trace_modules naming the routes file: wrapped at its first require, its export is Express's
// router, none of its own functions, so its own are traced in place instead (Node 26: by breakpoints).
describe.each(nodeTargets().filter((t) => t.major !== '22').map((t) => [t.major, t.bin]))('a routes file traced before it loaded (Node %s)', (major, node) => {
  it("records its handlers' calls, not the router it exports", async () => {
    session = new Session({ config: resolveConfig({}, {}) });
    const { pid } = await session.launch([node, join(FIXTURES, 'express5/shop.cjs')], { traceModules: ['items.cjs'], cwd: join(FIXTURES, 'express5') });
    const listening = await eventually(async () => {
      const r = await callTool(get_logs, { grep: 'listening' }, session!);
      return (r.structuredContent as { lines?: { text: string }[] } | undefined)?.lines?.[0]?.text;
    }, 'the launched app listening');
    const port = Number(listening.split(' ')[1]);
    // Traced again once it has loaded: its handler is reached some milliseconds after the app listens (a
    // request before that reached the router's wrapper).
    type Call = { fn: string; args: string[]; outcome: string };
    const handler = "router.get('/items/:sku') callback";
    const recorded = async () => (((await callTool(get_function_calls, { module_name: 'items.cjs' }, session!)).structuredContent as { calls?: Call[] } | undefined)?.calls ?? []).filter((c) => c.fn === handler);
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/api/items/a`)).status === 200 && (await recorded()).length > 0, 'a request to reach the traced handler');
    const before = (await recorded()).length;
    expect((await fetch(`http://127.0.0.1:${port}/api/items/z`)).status).toBe(404);
    const calls = (await eventually(async () => ((await recorded()).length > before ? recorded() : undefined), 'the second request recorded')).slice(before - 1);
    expect(calls.map((c) => c.args[0]!.match(/params: \{[^}]*\}/)?.[0])).toEqual(['params: {sku: "a"}', 'params: {sku: "z"}']);
    const tree = (await callTool(get_supervision_tree, {}, session)).content[0] as { text: string };
    expect(tree.text).toContain(`items.cjs in ${pid} by wrappers: router — stopped: its exports are not its own functions: those are traced instead`);
    // Where V8 live-edits, an edit that lands while a request runs the handler is refused (the function is on
    // the stack), and the handler goes to breakpoints: the requests this test sends meanwhile can cause that.
    const how = new RegExp(`items\\.cjs in ${pid} by (${major === '26' ? 'breakpoints' : 'live-edit|breakpoints'}): router\\.get\\('/items/:sku'\\) callback`).exec(tree.text);
    expect(how, tree.text).not.toBeNull();
    if (how![1] === 'live-edit') expect(calls.map((c) => c.outcome)).toEqual(['returned', 'returned']);
  });
});

describe('trace_module on two instances of one app', () => {
  it('answers them in one line when both were traced alike', async () => {
    const apps = [startFixture('express5/shop.cjs'), startFixture('express5/shop.cjs')];
    for (const app of apps) await app.line(/^listening/);
    session = new Session({ config: resolveConfig({}, {}) });
    for (const app of apps) await session.attach(String(app.pid));
    const traced = await callTool(trace_module, { module_name: 'items.cjs' }, session);
    const lines = (traced.content[0] as { text: string }).text.split('\n');
    expect(lines.filter((l) => l.startsWith('- '))).toEqual([
      `- ${apps[0]!.pid}, ${apps[1]!.pid}: it exports no function of its own, so every function in it: router.get('/items/:sku') callback instrumented in place (live edit, ~0.8 µs a call): every call through any reference, with results, errors and durations`,
    ]);
  });
});

describe('trace_module on an ES-module entry file that exports no function', () => {
  it('instruments every function of the file named, the arrow at its top level too', async () => {
    const app = startFixture('express5/orders.mjs');
    await app.line(/^listening/);
    session = new Session({ config: resolveConfig({}, {}) });
    await session.attach(String(app.pid));
    const traced = await callTool(trace_module, { module_name: 'orders.mjs' }, session);
    const text = traced.content.map((c) => (c as { text: string }).text).join('\n');
    // An arrow at an ES module's top level too, where its body ends in ")" (the end V8 must find again).
    expect(text).toContain(
      ": it exports no function of its own, so every function in it: router.get('/orders/:id') callback, Promise callback, router.post('/orders') callback, app.use callback, app.listen callback instrumented in place (live edit, ~0.8 µs a call): every call through any reference, with results, errors and durations",
    );
  });
});
