// A Koa 3 app routed by @koa/router: a prefixed router with a nested one mounted on it, a route that throws
// (answered by Koa's own error handling), a POST, and a URL no route matches.
const Koa = require('koa');
const Router = require('@koa/router');

const orders = new Router();
orders.get('/:id', (ctx) => {
  if (ctx.params.id === '9') throw new Error(`no order ${ctx.params.id}`);
  ctx.body = { id: Number(ctx.params.id) };
});
orders.post('/', (ctx) => {
  ctx.status = 201;
  ctx.body = { id: 3 };
});
const api = new Router({ prefix: '/api' });
api.get('/health', (ctx) => {
  ctx.body = 'ok';
});
api.use('/orders', orders.routes(), orders.allowedMethods());

const app = new Koa();
app.silent = true; // the thrown error is answered 500, not printed
app.use(api.routes()).use(api.allowedMethods());
const server = app.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
