// Routes of a Koa 3 app routed by @koa/router (installed from the registry into test/targets), read back
// through get_http_requests: @koa/router leaves the route it matched on Koa's context, which nothing on
// the request leads to. Attached to a CommonJS app that is already serving (Koa found loaded), and
// launched as an ES module (Koa found as it loads, imported rather than required).
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import { Session } from '../../src/session.js';
import { eventually, startFixture } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';
import { answered, sendAll } from './web_apps.js';

const PROGRAMS = join(import.meta.dirname, '..', 'targets', 'programs');

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

/** [method, url, status, route] of the `n` requests get_http_requests lists once all of them are answered. */
async function requests(n: number): Promise<[string, string, number, string | null][]> {
  return (await answered(session!, n)).requests.map((r) => [r.method, r.url, r.status, r.route]);
}

describe.each(['20', '26'])('Koa 3 with @koa/router on Node %s', (major) => {
  it('records the route of each request: nested and prefixed, thrown, posted, and none where no route matched', async () => {
    const app = startFixture(join('..', 'targets', 'programs', 'koa_orders.cjs'), [], { node: nodeTarget(major).bin });
    const port = Number((await app.line(/^listening/)).split(' ')[1]);
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    await session.attach(String(app.pid));
    await sendAll(port, [
      ['GET', '/api/orders/1', 200],
      ['GET', '/api/orders/9', 500],
      ['POST', '/api/orders', 201],
      ['GET', '/api/health', 200],
      ['GET', '/api/orders', 405],
      ['GET', '/nothing', 404],
    ]);
    expect(await requests(6)).toEqual([
      ['GET', '/api/orders/1', 200, '/api/orders/:id'],
      ['GET', '/api/orders/9', 500, '/api/orders/:id'],
      ['POST', '/api/orders', 201, '/api/orders'],
      ['GET', '/api/health', 200, '/api/health'],
      ['GET', '/api/orders', 405, null],
      ['GET', '/nothing', 404, null],
    ]);
  });

  it('records the route of an ES module app launched before Koa is loaded', async () => {
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    const launched = await session.launch([nodeTarget(major).bin, join(PROGRAMS, 'koa_orders.mjs')]);
    const port = await eventually(async () => {
      await session!.sync();
      const row = session!.store.db.prepare("SELECT payload FROM events WHERE type = 'log' AND actor = ?").get(String(launched.pid)) as { payload: string } | undefined;
      return row && Number(/listening (\d+)/.exec(JSON.parse(row.payload).text)?.[1]);
    }, 'the app to listen');
    expect((await fetch(`http://127.0.0.1:${port}/api/orders/4`)).status).toBe(200);
    expect(await requests(1)).toEqual([['GET', '/api/orders/4', 200, '/api/orders/:id']]);
  });
});
