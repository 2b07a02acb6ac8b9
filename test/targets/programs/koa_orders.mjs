// The same Koa 3 app as an ES module: koa and @koa/router are imported, not required.
import Koa from 'koa';
import Router from '@koa/router';

const api = new Router({ prefix: '/api' });
api.get('/orders/:id', (ctx) => {
  ctx.body = { id: Number(ctx.params.id) };
});
const app = new Koa();
app.use(api.routes());
const server = app.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
