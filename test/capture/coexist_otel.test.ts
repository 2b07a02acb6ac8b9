// OpenTelemetry's HTTP instrumentation (loaded with --require, its own AsyncLocalStorage context manager) and
// nodescope's web capture in one Express 5 app that calls a backend with http.get and fetch: nodescope
// records the served and made requests exactly, and OpenTelemetry's spans, their statuses and the trace
// context that reaches the backend are the same as without nodescope — attached, launched, and after detach.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { listeningPorts } from '../../src/trace/discovery.js';
import { get_http_requests } from '../../src/tools/get_http_requests.js';
import { eventually, FIXTURES, startFixture, tempDir } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

const OTEL = join(FIXTURES, 'coexist', 'otel.cjs');
const APP = join(FIXTURES, 'coexist', 'otel_app.cjs');

/** What reached the backend: the path and the traceparent header it came with. */
let arrivals: { url: string; traceparent: string | undefined }[] = [];
let backend: Server;
let backendPort = 0;
beforeAll(async () => {
  backend = createServer((req, res) => {
    arrivals.push({ url: req.url!, traceparent: req.headers.traceparent as string | undefined });
    res.statusCode = req.url!.startsWith('/missing') ? 404 : 200;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url!.length));
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendPort = (backend.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => backend.close(() => r())));

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

interface Span { name: string; kind: number; status: number; httpStatus: number | null; path: string; traceId: string; spanId: string; parentSpanId: string | null }

/** The requests sent, in order: each /orders/:id makes an http.get and a fetch, /broken/:id one http.get answered 404. */
const SENT = ['/orders/7', '/broken/3', '/orders/8'];
/** OpenTelemetry's spans as they end, per request: the http.get's client span (kind 2), then the server span (kind 1); status 2 is ERROR. */
const SPANS = [
  { name: 'GET', kind: 2, status: 0, httpStatus: 200, path: '/stock/7' },
  { name: 'GET', kind: 1, status: 0, httpStatus: 200, path: '/orders/7' },
  { name: 'GET', kind: 2, status: 2, httpStatus: 404, path: '/missing/3' },
  { name: 'GET', kind: 1, status: 2, httpStatus: 502, path: '/broken/3' },
  { name: 'GET', kind: 2, status: 0, httpStatus: 200, path: '/stock/8' },
  { name: 'GET', kind: 1, status: 0, httpStatus: 200, path: '/orders/8' },
];

type Mode = 'plain' | 'attached' | 'launched' | 'launched, preloaded by NODE_OPTIONS';

/**
 * The app on `bin` with OpenTelemetry preloaded by --require, or by NODE_OPTIONS (which nodescope's launch
 * extends with its own preload): started plainly (then attached, web on) or launched by nodescope.
 */
async function start(bin: string, mode: Mode): Promise<{ pid: number; port: number; out: string; stdout: (() => string) | undefined }> {
  const out = tempDir();
  if (mode !== 'plain' && mode !== 'attached') {
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    const preloaded = mode !== 'launched';
    const options = process.env.NODE_OPTIONS;
    if (preloaded) process.env.NODE_OPTIONS = `--require ${OTEL}`;
    let pid: number;
    try {
      ({ pid } = await session.launch([bin, ...(preloaded ? [] : ['--require', OTEL]), APP, String(backendPort), out], { web: true }));
    } finally {
      if (options === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = options;
    }
    const port = Number(await eventually(() => {
      try {
        return readFileSync(join(out, 'port'), 'utf8');
      } catch {
        return undefined;
      }
    }, 'the launched app listening'));
    return { pid, port, out, stdout: undefined };
  }
  const app = startFixture('coexist/otel_app.cjs', [String(backendPort), out], { node: bin, execArgv: ['--require', OTEL] });
  const port = Number((await app.line(/^listening/)).split(' ')[1]);
  if (mode === 'attached') {
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    await session.attach(String(app.pid));
  }
  return { pid: app.pid, port, out, stdout: app.stdout };
}

/**
 * Sends SENT one after the other and answers what the client got, the spans that ended (the `skip` earlier
 * ones left out), and what reached the backend — after checking the trace context of each request: its
 * client span a child of its server span, and at the backend the http.get carrying the client span and the
 * fetch the server span (injected by the app by hand), both in the request's trace.
 */
async function exercise(port: number, out: string, skip = 0): Promise<{ answers: string[]; spans: Omit<Span, 'traceId' | 'spanId' | 'parentSpanId'>[] }> {
  arrivals = [];
  const answers: string[] = [];
  for (const path of SENT) {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    answers.push(`${r.status} ${await r.text()}`);
  }
  const spans = await eventually(() => {
    const lines = readFileSync(join(out, 'spans'), 'utf8').split('\n').filter(Boolean).slice(skip);
    return lines.length >= SPANS.length && lines.map((l) => JSON.parse(l) as Span);
  }, 'the spans of every request');
  const expected: typeof arrivals = [];
  for (let i = 0; i < SENT.length; i++) {
    const [client, server] = [spans[2 * i]!, spans[2 * i + 1]!];
    expect([client.traceId, client.parentSpanId, server.parentSpanId]).toEqual([server.traceId, server.spanId, null]);
    const id = SENT[i]!.split('/')[2];
    if (SENT[i]!.startsWith('/orders')) {
      expected.push({ url: `/stock/${id}`, traceparent: `00-${server.traceId}-${client.spanId}-01` }, { url: `/price/${id}`, traceparent: `00-${server.traceId}-${server.spanId}-01` });
    } else expected.push({ url: `/missing/${id}`, traceparent: `00-${server.traceId}-${client.spanId}-01` });
  }
  expect(new Set(spans.map((s) => s.traceId)).size).toBe(SENT.length);
  expect(arrivals).toEqual(expected);
  return { answers, spans: spans.map(({ name, kind, status, httpStatus, path }) => ({ name, kind, status, httpStatus, path })) };
}

const ANSWERS = ['200 {"id":"7","stock":8,"price":8}', '502 {"backend":404}', '200 {"id":"8","stock":8,"price":8}'];

describe.each(['20', '24'])('OpenTelemetry HTTP instrumentation with nodescope, Node %s target', (major) => {
  const bin = () => nodeTarget(major).bin;

  it('without nodescope: the spans, statuses and trace context this file expects', async () => {
    const app = await start(bin(), 'plain');
    expect(await exercise(app.port, app.out)).toEqual({ answers: ANSWERS, spans: SPANS });
    expect(app.stdout!()).toBe(`listening ${app.port}\n`);
  });

  it.each(['attached', 'launched', 'launched, preloaded by NODE_OPTIONS'] as const)('%s: records every request served and made, and OpenTelemetry works the same, also after detach', async (mode) => {
    const app = await start(bin(), mode);
    expect(await exercise(app.port, app.out)).toEqual({ answers: ANSWERS, spans: SPANS });

    const served = await eventually(async () => {
      const r = await callTool(get_http_requests, {}, session!);
      const { requests } = r.structuredContent as { requests: { id: string; method: string; url: string; status: number; route: string | null; pending: boolean }[] };
      return !r.isError && requests.length === SENT.length && requests.every((q) => !q.pending) && requests;
    }, 'three answered requests');
    const main = String(app.pid);
    expect(served.map((r) => [r.id, r.method, r.url, r.status, r.route])).toEqual([
      [`${main}:r1`, 'GET', '/orders/7', 200, '/orders/:id'],
      [`${main}:r4`, 'GET', '/broken/3', 502, '/broken/:id'],
      [`${main}:r6`, 'GET', '/orders/8', 200, '/orders/:id'],
    ]);
    const made = (session!.store.db.prepare("SELECT subtype, ref, corr, payload FROM events WHERE type = 'http' AND subtype LIKE 'client%' ORDER BY ts_ns, id").all() as { subtype: string; ref: string; corr: string; payload: string }[]).map((r) => {
      const p = JSON.parse(r.payload);
      return [r.subtype, r.ref, r.corr, p.url ?? p.status];
    });
    const price = (id: string) => `http://127.0.0.1:${backendPort}/price/${id}`;
    const stock = (path: string) => `http://127.0.0.1:${backendPort}${path}`;
    expect(made).toEqual([
      ['client_request', `${main}:q2`, `${main}:r1`, stock('/stock/7')],
      ['client_response', `${main}:q2`, `${main}:r1`, 200],
      ['client_request', `${main}:q3`, `${main}:r1`, price('7')],
      ['client_response', `${main}:q3`, `${main}:r1`, 200],
      ['client_request', `${main}:q5`, `${main}:r4`, stock('/missing/3')],
      ['client_response', `${main}:q5`, `${main}:r4`, 404],
      ['client_request', `${main}:q7`, `${main}:r6`, stock('/stock/8')],
      ['client_response', `${main}:q7`, `${main}:r6`, 200],
      ['client_request', `${main}:q8`, `${main}:r6`, price('8')],
      ['client_response', `${main}:q8`, `${main}:r6`, 200],
    ]);

    await session!.detach();
    await eventually(() => listeningPorts(app.pid).join() === String(app.port), () => `only the app's port open after detach (listening: ${listeningPorts(app.pid).join(', ')})`);
    expect(await exercise(app.port, app.out, SPANS.length)).toEqual({ answers: ANSWERS, spans: SPANS });
    if (app.stdout) expect(app.stdout()).toBe(`listening ${app.port}\n`);
  });
  it('attached, requests served at once: each keeps its own request id in nodescope and its own trace in OpenTelemetry', async () => {
    const app = await start(bin(), 'attached');
    arrivals = [];
    const ids = ['1', '2', '3', '4', '5', '6'];
    const answers = await Promise.all(ids.map(async (id) => {
      const r = await fetch(`http://127.0.0.1:${app.port}/orders/${id}`);
      return `${r.status} ${await r.text()}`;
    }));
    expect(answers).toEqual(ids.map((id) => `200 {"id":"${id}","stock":8,"price":8}`));

    const spans = await eventually(() => {
      const lines = readFileSync(join(app.out, 'spans'), 'utf8').split('\n').filter(Boolean);
      return lines.length >= 2 * ids.length && lines.map((l) => JSON.parse(l) as Span);
    }, 'the spans of every request');
    expect(spans.length).toBe(2 * ids.length);
    for (const id of ids) {
      const server = spans.filter((s) => s.kind === 1 && s.path === `/orders/${id}`);
      const client = spans.filter((s) => s.kind === 2 && s.path === `/stock/${id}`);
      expect([server.length, client.length]).toEqual([1, 1]);
      expect([client[0]!.traceId, client[0]!.parentSpanId, server[0]!.parentSpanId, client[0]!.status, server[0]!.status]).toEqual([server[0]!.traceId, server[0]!.spanId, null, 0, 0]);
      expect(arrivals.filter((a) => a.url.endsWith(`/${id}`)).sort((a, b) => a.url.localeCompare(b.url))).toEqual([
        { url: `/price/${id}`, traceparent: `00-${server[0]!.traceId}-${server[0]!.spanId}-01` },
        { url: `/stock/${id}`, traceparent: `00-${server[0]!.traceId}-${client[0]!.spanId}-01` },
      ]);
    }

    type Row = { subtype: string; ref: string; corr: string; payload: string };
    const rows = await eventually(() => {
      const r = session!.store.db.prepare("SELECT subtype, ref, corr, payload FROM events WHERE type = 'http' ORDER BY ts_ns, id").all() as Row[];
      return r.length === 6 * ids.length && r;
    }, 'a request, a response and two requests made, each with its response, for every request');
    const servedBy = new Map(rows.filter((r) => r.subtype === 'request').map((r) => [JSON.parse(r.payload).url.split('/')[2], r.ref]));
    expect([...servedBy.keys()].sort()).toEqual(ids);
    const madeFor = new Map(rows.filter((r) => r.subtype === 'client_request').map((r) => [r.ref, JSON.parse(r.payload).url.split('/').at(-1)]));
    expect(madeFor.size).toBe(2 * ids.length);
    for (const r of rows) {
      const id = r.subtype.startsWith('client') ? madeFor.get(r.ref) : JSON.parse(r.payload).url.split('/')[2];
      expect(`${r.subtype} ${r.corr}`).toBe(`${r.subtype} ${servedBy.get(id)}`);
    }
    expect(rows.filter((r) => r.subtype === 'client_response').map((r) => JSON.parse(r.payload).status)).toEqual(Array(2 * ids.length).fill(200));
  });
});
