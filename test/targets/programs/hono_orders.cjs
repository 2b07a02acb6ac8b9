// A Hono app loaded as CommonJS, on @hono/node-server: a route group mounted with app.route and a middleware
// on it, a route that throws (answered by the app's onError), a POST, a lone route whose handler reads its
// params, one whose handler reads nothing of the request, and a URL no route matches.
const { serve } = require('@hono/node-server');
const { Hono } = require('hono');

const orders = new Hono();
orders.use('*', async (c, next) => {
  await next();
  c.header('x-orders', '1');
});
orders.get('/:id', (c) => {
  const id = Number(c.req.param('id'));
  if (id === 9) throw new Error(`no order ${id}`);
  return c.json({ id });
});
orders.post('/', (c) => c.json({ id: 3 }, 201));

const app = new Hono();
app.get('/users/:name', (c) => c.text(`hello ${c.req.param('name')}`));
app.get('/health', (c) => c.text('ok'));
app.route('/api/orders', orders);
app.onError((err, c) => c.json({ error: err.message }, 500));

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => console.log(`listening ${info.port}`));
process.on('SIGTERM', () => server.close());
