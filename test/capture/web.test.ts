// HTTP capture on a real Express server: requests with routes and statuses, outgoing fetches, and the
// correlation id that ties each request to the calls made while serving it.
import { get as httpGet } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { attached, eventually, events } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

describe('web', () => {
  it('records requests with route and status, and ties each request to the calls made for it', async () => {
    const { app, t, ready } = await attached('web/server.cjs', { web: true });
    const port = Number(ready.split(' ')[1]);
    await t.tracer.traceModule({ module: './test/fixtures/bank/payments.js', maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 });
    const ok = await fetch(`http://127.0.0.1:${port}/checkout/50`);
    expect(ok.status).toBe(200);
    const failed = await fetch(`http://127.0.0.1:${port}/checkout/500`);
    expect(failed.status).toBe(500);
    const main = String(app.pid);

    const responses = await eventually(() => {
      t.tracer.ingest.flush();
      const r = events(t.store, "type = 'http' AND subtype = 'response'");
      return r.length === 2 && r;
    }, 'two responses');
    expect(responses.map((r) => ({ ...r.payload, duration_ns: typeof r.payload.duration_ns }))).toEqual([
      { method: 'GET', url: '/checkout/50', route: '/checkout/:amount', status: 200, duration_ns: 'number' },
      { method: 'GET', url: '/checkout/500', route: '/checkout/:amount', status: 500, duration_ns: 'number' },
    ]);
    const ids = t.store.db.prepare("SELECT ref, corr FROM events WHERE type = 'http' AND subtype = 'request' ORDER BY ts_ns").all() as { ref: string; corr: string }[];
    expect(ids).toEqual([{ ref: `${main}:r1`, corr: `${main}:r1` }, { ref: `${main}:r2`, corr: `${main}:r2` }]);

    const callsOf = (corr: string) =>
      (t.store.db.prepare("SELECT subtype, payload FROM events WHERE type = 'call' AND corr = ? ORDER BY ts_ns").all(corr) as { subtype: string; payload: string }[]).map((r) => {
        const p = JSON.parse(r.payload);
        return `${r.subtype} ${p.fn}`;
      });
    expect(callsOf(`${main}:r1`)).toEqual(['call fee', 'return fee', 'call charge', 'return charge']);
    expect(callsOf(`${main}:r2`)).toEqual(['call fee', 'return fee', 'call charge', 'throw charge']);
  });

  it('records outgoing fetches as client requests inside the request that made them', async () => {
    const { app, t, ready } = await attached('web/server.cjs', { web: true });
    const port = Number(ready.split(' ')[1]);
    expect((await fetch(`http://127.0.0.1:${port}/proxy`)).status).toBe(200);
    const main = String(app.pid);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = t.store.db.prepare("SELECT subtype, corr, payload FROM events WHERE type = 'http' ORDER BY ts_ns").all() as { subtype: string; corr: string; payload: string }[];
      return r.length === 6 && r;
    }, 'six http events');
    expect(rows.map((r) => [r.subtype, r.corr, JSON.parse(r.payload).url ?? JSON.parse(r.payload).status])).toEqual([
      ['request', `${main}:r1`, '/proxy'],
      ['client_request', `${main}:r1`, `http://127.0.0.1:${port}/checkout/5`],
      ['request', `${main}:r3`, '/checkout/5'],
      ['response', `${main}:r3`, '/checkout/5'],
      ['client_response', `${main}:r1`, 200],
      ['response', `${main}:r1`, '/proxy'],
    ]);
  });

  // A request is sent as one event when its response finishes; these are the requests that do not finish.
  const httpRows = (t: { store: Store }) =>
    (t.store.db.prepare("SELECT subtype, ref, corr, payload FROM events WHERE type = 'http' ORDER BY ts_ns, id").all() as { subtype: string; ref: string; corr: string; payload: string }[]).map((r) => ({
      ...r,
      payload: { ...JSON.parse(r.payload), ...(r.subtype === 'response' ? { duration_ns: typeof JSON.parse(r.payload).duration_ns } : {}) },
    }));
  const get = (port: number, path: string) => {
    const req = httpGet(`http://127.0.0.1:${port}${path}`, (res) => res.resume());
    req.on('error', () => undefined);
    return req;
  };

  // A request is found at its end by its socket while it is the one the socket serves, else by itself
  // (src/agent/web.ts): requests pipelined on one connection are in flight on one socket at once.
  it('records each of the requests pipelined on one connection under its own id', async () => {
    const { app, t, ready } = await attached('web/server.cjs', { web: true });
    const port = Number(ready.split(' ')[1]);
    const main = String(app.pid);
    const socket = connect(port, '127.0.0.1');
    let answered = '';
    socket.on('data', (chunk) => (answered += chunk));
    socket.write(['/checkout/1', '/checkout/2', '/nothing'].map((path) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
    await eventually(() => (answered.match(/HTTP\/1\.1 \d{3} /g) ?? []).length === 3, 'three responses');
    socket.destroy();
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = httpRows(t);
      return r.length === 6 && r;
    }, 'six http rows');
    expect(rows.filter((r) => r.subtype === 'response').map((r) => [r.ref, r.corr, r.payload.url, r.payload.route, r.payload.status])).toEqual([
      [`${main}:r1`, `${main}:r1`, '/checkout/1', '/checkout/:amount', 200],
      [`${main}:r2`, `${main}:r2`, '/checkout/2', '/checkout/:amount', 200],
      [`${main}:r3`, `${main}:r3`, '/nothing', null, 404],
    ]);
  });

  it('records a request in flight before its response, and its response once when it comes', async () => {
    const { app, t, ready } = await attached('web/in_flight.cjs', { web: true });
    const port = Number(ready.split(' ')[1]);
    const main = String(app.pid);
    get(port, '/hold');
    await app.line(/^held/);
    await t.tracer.sync();
    expect(httpRows(t)).toEqual([{ subtype: 'request', ref: `${main}:r1`, corr: `${main}:r1`, payload: { method: 'GET', url: '/hold' } }]);
    expect((await fetch(`http://127.0.0.1:${port}/release`)).status).toBe(200);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = httpRows(t);
      return r.length === 4 && r;
    }, 'four http rows');
    // The release finishes first (the held response is ended inside its handler, written after it).
    expect(rows.sort((a, b) => a.ref.localeCompare(b.ref) || a.subtype.localeCompare(b.subtype))).toEqual([
      { subtype: 'request', ref: `${main}:r1`, corr: `${main}:r1`, payload: { method: 'GET', url: '/hold' } },
      { subtype: 'response', ref: `${main}:r1`, corr: `${main}:r1`, payload: { method: 'GET', url: '/hold', route: null, status: 200, duration_ns: 'number' } },
      { subtype: 'request', ref: `${main}:r2`, corr: `${main}:r2`, payload: { method: 'GET', url: '/release' } },
      { subtype: 'response', ref: `${main}:r2`, corr: `${main}:r2`, payload: { method: 'GET', url: '/release', route: null, status: 200, duration_ns: 'number' } },
    ]);
  });

  it('records a request made while it is in flight, and its response once when it comes', async () => {
    const { app, t, ready } = await attached('web/in_flight.cjs', { web: true });
    const port = Number(ready.split(' ')[1]);
    const main = String(app.pid);
    get(port, '/call-held');
    await app.line(/^held/);
    await t.tracer.sync();
    expect(httpRows(t).filter((r) => r.subtype === 'client_request')).toEqual([{ subtype: 'client_request', ref: `${main}:q2`, corr: `${main}:r1`, payload: { method: 'GET', url: `http://127.0.0.1:${port}/hold` } }]);
    expect((await fetch(`http://127.0.0.1:${port}/release`)).status).toBe(200);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = httpRows(t);
      return r.length === 8 && r;
    }, 'eight http rows');
    expect(rows.filter((r) => r.ref === `${main}:q2`).map((r) => (r.subtype === 'client_response' ? { ...r, payload: { ...r.payload, duration_ns: typeof r.payload.duration_ns } } : r))).toEqual([
      { subtype: 'client_request', ref: `${main}:q2`, corr: `${main}:r1`, payload: { method: 'GET', url: `http://127.0.0.1:${port}/hold` } },
      { subtype: 'client_response', ref: `${main}:q2`, corr: `${main}:r1`, payload: { status: 200, duration_ns: 'number' } },
    ]);
    expect(rows.filter((r) => r.subtype === 'response').map((r) => [r.ref, r.payload.url])).toEqual(expect.arrayContaining([[`${main}:r1`, '/call-held'], [`${main}:r3`, '/hold']]));
  });

  it.each(['20', '26'])('Node %s: records a request made for an upgrade (a WebSocket handshake) as answered 101, not in flight for ever', async (major) => {
    const { app, t, ready } = await attached('web/in_flight.cjs', { web: true, node: nodeTarget(major).bin });
    const port = Number(ready.split(' ')[1]);
    const main = String(app.pid);
    expect(await (await fetch(`http://127.0.0.1:${port}/call-upgrade`)).text()).toBe('upgraded 101');
    const made = await eventually(async () => {
      await t.tracer.sync();
      const rows = httpRows(t).filter((r) => r.subtype.startsWith('client_'));
      return rows.length === 2 && rows;
    }, 'the request made and its end');
    expect(made.map((r) => (r.subtype === 'client_response' ? { ...r, payload: { ...r.payload, duration_ns: typeof r.payload.duration_ns } } : r))).toEqual([
      { subtype: 'client_request', ref: `${main}:q2`, corr: `${main}:r1`, payload: { method: 'GET', url: `http://127.0.0.1:${port}/chat` } },
      { subtype: 'client_response', ref: `${main}:q2`, corr: `${main}:r1`, payload: { status: 101, duration_ns: 'number' } },
    ]);
  });

  // fetch keeps its connection alive, made while the first request was served: the second request's
  // response comes in on it, in the first one's async context (corr r1 was recorded for it).
  it('records the response of a request made in flight under the request that made it, on a connection an earlier request opened', async () => {
    const { app, t, ready } = await attached('web/in_flight.cjs', { web: true });
    const port = Number(ready.split(' ')[1]);
    const main = String(app.pid);
    for (const _ of [1, 2]) {
      const served = new Promise((resolve) => get(port, '/fetch-held').on('response', (res) => res.on('end', resolve)));
      await app.nextLine(/^held/);
      await t.tracer.sync(); // the request made is sent on its own while it is in flight
      expect((await fetch(`http://127.0.0.1:${port}/release`)).status).toBe(200);
      await served;
    }
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = httpRows(t).filter((r) => r.subtype.startsWith('client'));
      return r.length === 4 && r;
    }, 'two requests made and their responses');
    const callers = httpRows(t).filter((r) => r.subtype === 'request' && r.payload.url === '/fetch-held').map((r) => r.ref);
    expect(callers).toHaveLength(2);
    expect(rows.map((r) => [r.subtype, r.corr])).toEqual([
      ['client_request', callers[0]],
      ['client_response', callers[0]],
      ['client_request', callers[1]],
      ['client_response', callers[1]],
    ]);
  });

  it('records a request made that failed as its client_request and client_error, inside the request that made it', async () => {
    const { app, t, ready } = await attached('web/in_flight.cjs', { web: true });
    const port = Number(ready.split(' ')[1]);
    const main = String(app.pid);
    expect((await fetch(`http://127.0.0.1:${port}/call-refused`)).status).toBe(502);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = httpRows(t);
      return r.length === 4 && r;
    }, 'four http rows');
    expect(rows.map((r) => [r.subtype, r.ref, r.corr])).toEqual([
      ['request', `${main}:r1`, `${main}:r1`],
      ['client_request', `${main}:q2`, `${main}:r1`],
      ['client_error', `${main}:q2`, `${main}:r1`],
      ['response', `${main}:r1`, `${main}:r1`],
    ]);
    expect(rows[1]!.payload).toEqual({ method: 'GET', url: 'http://127.0.0.1:1/' });
    expect(rows[2]!.payload).toMatchObject({ status: null, error: { message: expect.stringContaining('ECONNREFUSED') } });
    expect(typeof rows[2]!.payload.duration_ns).toBe('number');
  });

  it('keeps the request a process was serving when it crashed', async () => {
    const { app, t, ready } = await attached('web/in_flight.cjs', { web: true });
    const port = Number(ready.split(' ')[1]);
    const main = String(app.pid);
    get(port, '/crash');
    expect((await app.exited).code).not.toBe(0);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      return events(t.store, "type = 'error' AND subtype = 'uncaught_exception'").length === 1 && httpRows(t);
    }, 'the crash');
    expect(rows).toEqual([{ subtype: 'request', ref: `${main}:r1`, corr: `${main}:r1`, payload: { method: 'GET', url: '/crash' } }]);
  });

  it('stores the URL a request came with and the one it was answered under when the app rewrote it', async () => {
    const { app, t, ready } = await attached('web/in_flight.cjs', { web: true });
    const port = Number(ready.split(' ')[1]);
    const main = String(app.pid);
    expect((await fetch(`http://127.0.0.1:${port}/rewrite`)).status).toBe(200);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = httpRows(t);
      return r.length === 2 && r;
    }, 'two http rows');
    expect(rows).toEqual([
      { subtype: 'request', ref: `${main}:r1`, corr: `${main}:r1`, payload: { method: 'GET', url: '/rewrite' } },
      { subtype: 'response', ref: `${main}:r1`, corr: `${main}:r1`, payload: { method: 'GET', url: '/rewritten', route: null, status: 200, duration_ns: 'number' } },
    ]);
  });

  it('records no HTTP traffic without the web option', async () => {
    const { app, t, ready } = await attached('web/server.cjs');
    const port = Number(ready.split(' ')[1]);
    await fetch(`http://127.0.0.1:${port}/checkout/5`);
    await new Promise((r) => setTimeout(r, 200));
    t.tracer.ingest.flush();
    expect(events(t.store, "type = 'http'")).toEqual([]);
  });
});

describe('ws', () => {
  it('records a WebSocket connection of the ws package: open, messages both ways, close', async () => {
    const { t, ready } = await attached('web/ws_server.cjs', { web: true });
    const port = Number(ready.split(' ')[1]);
    const { WebSocket } = await import('ws');
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((r) => client.once('open', r));
    client.send('hello');
    expect(String(await new Promise((r) => client.once('message', r)))).toBe('HELLO');
    client.close(1000);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = events(t.store, "type = 'ws'");
      return r.length === 4 && r;
    }, 'four ws events');
    expect(rows.map((r) => [r.subtype, r.payload])).toEqual([
      ['open', { url: null }],
      ['receive', { data: 'hello' }],
      ['send', { data: 'HELLO' }],
      ['close', { code: 1000 }],
    ]);
    const refs = new Set(t.store.db.prepare("SELECT ref FROM events WHERE type = 'ws'").all().map((r: any) => r.ref));
    expect(refs.size).toBe(1);
  });
});

describe('fastify', () => {
  it('records the route pattern of a Fastify app', async () => {
    const { t, ready } = await attached('web/fastify_server.cjs', { web: true });
    const port = Number(ready.split(' ')[1]);
    expect((await fetch(`http://127.0.0.1:${port}/items/42`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/boom`)).status).toBe(500);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = events(t.store, "type = 'http' AND subtype = 'response'");
      return r.length === 2 && r;
    }, 'two responses');
    expect(rows.map((r) => [r.payload.url, r.payload.route, r.payload.status])).toEqual([
      ['/items/42', '/items/:id', 200],
      ['/boom', '/boom', 500],
    ]);
  });
});
