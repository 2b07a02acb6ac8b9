// Routes of an Express 5 app whose routes are mounted under /api, read back through get_http_requests: the
// route is the full one ("/api/orders/:id") whether the handler answered, or threw and the app's error
// middleware answered (Express restores req.baseUrl as the error leaves the mounted router), and for a POST.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { get_http_requests } from '../../src/tools/get_http_requests.js';
import { startFixture } from '../helpers.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

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

    type Answer = { total: number; requests: { method: string; url: string; status: number; route: string | null; pending: boolean }[] };
    let requests: Answer['requests'] = [];
    for (const deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 20))) {
      const r = await callTool(get_http_requests, {}, session!);
      const data = r.structuredContent as Answer;
      if (!r.isError && data.total === 4 && data.requests.every((q) => !q.pending)) {
        requests = data.requests;
        break;
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for four answered requests');
    }
    expect(requests.map((r) => [r.method, r.url, r.status, r.route])).toEqual([
      ['GET', '/api/orders/1', 200, '/api/orders/:id'],
      ['GET', '/api/orders/9', 500, '/api/orders/:id'],
      ['POST', '/api/orders', 201, '/api/orders'],
      ['GET', '/api/orders/2/', 200, '/api/orders/:id'],
    ]);
  });
});
