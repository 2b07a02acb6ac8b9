// The URL of each request a program makes with node:http, as it would type it: scheme, host, port and path
// (the port is not on the request object: node:http wrote it only into the Host header), whether made
// with a URL string or an options object; through a forward proxy, the URL the proxy was asked for; with a
// Host header naming a virtual host, the address it went to; an IPv6 host in brackets. Node 26 reads a
// request's path through an accessor, Node 20 keeps it as data.
import { afterEach, describe, expect, it } from 'vitest';
import { attached, eventually } from '../helpers.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { nodeTarget } from '../targets/index.js';

let tracer: Tracer | undefined;
afterEach(async () => {
  await tracer?.close();
  tracer = undefined;
});

describe.each(['20', '26'])('Requests made with node:http on Node %s', (major) => {
  it('records each one under its full URL', async () => {
    const { app, t, ready } = await attached('web/client_urls.cjs', { web: true, node: nodeTarget(major).bin });
    tracer = t.tracer;
    const [, v4, v6] = ready.split(' ');
    app.send('go');
    expect(await app.line(/^\d/)).toBe('200 200 200 200 200');
    const made = await eventually(() => {
      t.tracer.ingest.flush();
      const rows = t.store.db.prepare("SELECT payload FROM events WHERE type = 'http' AND subtype = 'client_request' ORDER BY ts_ns, id").all() as { payload: string }[];
      return rows.length === 5 && rows.map((r) => JSON.parse(r.payload) as { method: string; url: string });
    }, 'five requests made');
    expect(made.map((r) => [r.method, r.url])).toEqual([
      ['GET', `http://127.0.0.1:${v4}/orders/1?full=yes`],
      ['DELETE', `http://127.0.0.1:${v4}/orders/2`],
      ['GET', 'http://shop.example/orders/3'],
      ['GET', `http://127.0.0.1:${v4}/orders/4`],
      ['GET', `http://[::1]:${v6}/orders/5`],
    ]);
  });
});
