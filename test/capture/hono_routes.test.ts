// Routes of a Hono app (installed from the registry into test/targets) loaded as CommonJS on
// @hono/node-server, read back through get_http_requests: Hono keeps what it matched on its own request
// object, which the agent finds through the context class's `req` getter (see src/agent/web.ts). Attached
// to an app already serving (Hono found loaded).
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import { Session } from '../../src/session.js';
import { startFixture } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';
import { answered, sendAll } from './web_apps.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

describe.each(['20', '26'])('Hono (CommonJS) on @hono/node-server, Node %s', (major) => {
  it('records the route of each request: mounted with a middleware, thrown, posted, lone; none where Hono made no request object or matched nothing', async () => {
    const app = startFixture(join('..', 'targets', 'programs', 'hono_orders.cjs'), [], { node: nodeTarget(major).bin });
    const port = Number((await app.line(/^listening/)).split(' ')[1]);
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    await session.attach(String(app.pid));
    await sendAll(port, [
      ['GET', '/api/orders/1', 200],
      ['GET', '/api/orders/9', 500],
      ['POST', '/api/orders', 201],
      ['GET', '/users/ann', 200],
      ['GET', '/health', 200],
      ['GET', '/nothing', 404],
    ]);
    const listed = (await answered(session, 6)).requests;
    expect(listed.map((r) => [r.method, r.url, r.status, r.route])).toEqual([
      ['GET', '/api/orders/1', 200, '/api/orders/:id'],
      ['GET', '/api/orders/9', 500, '/api/orders/:id'],
      ['POST', '/api/orders', 201, '/api/orders'],
      ['GET', '/users/ann', 200, '/users/:name'],
      // A lone handler that reads nothing of the request: Hono never makes its request object, and the
      // agent reads no route (see src/agent/web.ts).
      ['GET', '/health', 200, null],
      ['GET', '/nothing', 404, null],
    ]);
  });
});
