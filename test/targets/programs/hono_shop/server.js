// A Hono app served by @hono/node-server: orders under a route group, one that fails, a call to an upstream
// (stock) with fetch, and a price computed by a module of its own.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { priceOf } from './price.js';

const stock = new Hono();
stock.get('/stock/:sku', (c) => c.json({ sku: c.req.param('sku'), left: 3 }));

const orders = new Hono();
orders.get('/:id', async (c) => {
  const id = Number(c.req.param('id'));
  if (id === 9) throw new Error(`order ${id} is corrupt`);
  const left = await (await fetch(`http://127.0.0.1:${port}/stock/sku-${id}`)).json();
  return c.json({ id, price: priceOf(id, 2), left: left.left });
});
orders.post('/', async (c) => c.json({ id: 3, ...(await c.req.json()) }, 201));

const app = new Hono();
app.route('/', stock);
app.route('/api/orders', orders);
app.onError((err, c) => c.json({ error: err.message }, 500));

let port = 0;
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  port = info.port;
  console.log(`listening ${info.port}`);
});
process.on('SIGTERM', () => server.close());
