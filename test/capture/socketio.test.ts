// socket.io (test/targets/programs/socketio_shop): a server and a client of it in one program, attached
// with web recording. Asked what a person asks: which HTTP requests came (engine.io's long-polling
// handshake, then the upgrade to a WebSocket), what went over the WebSocket both ways on each side — the
// orders, their acknowledgements and the 'placed' broadcast, which socket.io encodes once and hands to ws
// as a ready frame, past WebSocket#send — and the server's calls.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { get_function_calls } from '../../src/tools/get_function_calls.js';
import { get_http_requests } from '../../src/tools/get_http_requests.js';
import { trace_module } from '../../src/tools/trace_module.js';
import { eventually, startFixture } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';
import type { Listed } from './web_apps.js';

const SHOP = join('..', 'targets', 'programs', 'socketio_shop');

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

type Row = { subtype: string; ref: string; payload: string };

describe('socket.io server and client in one program on Node 24', () => {
  it('records the messages both ways on both sides, the broadcast included, and the calls each order made', async () => {
    const app = startFixture(join(SHOP, 'together.mjs'), [], { node: nodeTarget('24').bin });
    await app.line(/^listening/);
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    await session.attach(String(app.pid));
    const traced = await callTool(trace_module, { module_name: 'prices.cjs' }, session);
    expect(traced.isError).toBeFalsy();
    app.send('connect');
    await app.line(/^upgraded to websocket/);
    app.send('order jam 2');
    await app.line(/^total 8/);
    await app.line(/^placed 2 jam/);
    app.send('order gin 1');
    await app.line(/^refused no price for gin/);

    const main = String(app.pid);
    let rows: Row[] = [];
    const ws = await eventually(() => {
      rows = session!.store.db.prepare("SELECT subtype, ref, payload FROM events WHERE type = 'ws' AND subtype IN ('send', 'receive') ORDER BY ts_ns, id").all() as Row[];
      return rows.filter((r) => r.payload.includes('431[')).length === 2 && rows;
    }, () => `both sides of the second acknowledgement: ${JSON.stringify(rows)}`);
    // The probe exchange that upgrades the transport, then socket.io's packets: 42 an event, 43 an ack.
    const messages = ws.map((r) => [r.ref, r.subtype, JSON.parse(r.payload).data]);
    const [server, client] = [`${main}:ws1`, `${main}:ws2`];
    expect(messages).toEqual([
      [client, 'send', '2probe'],
      [server, 'receive', '2probe'],
      [server, 'send', '3probe'],
      [client, 'receive', '3probe'],
      [client, 'send', '5'],
      [server, 'receive', '5'],
      [client, 'send', '420["order",{"item":"jam","qty":2}]'],
      [server, 'receive', '420["order",{"item":"jam","qty":2}]'],
      [server, 'send', '430[{"ok":true,"total":8}]'],
      [server, 'send', '42["placed",{"item":"jam","qty":2}]'],
      [client, 'receive', '430[{"ok":true,"total":8}]'],
      [client, 'receive', '42["placed",{"item":"jam","qty":2}]'],
      [client, 'send', '421["order",{"item":"gin","qty":1}]'],
      [server, 'receive', '421["order",{"item":"gin","qty":1}]'],
      [server, 'send', '431[{"ok":false,"error":"no price for gin"}]'],
      [client, 'receive', '431[{"ok":false,"error":"no price for gin"}]'],
    ]);

    // The upgrade request, made and served, each answered 101.
    const http = session.store.db.prepare("SELECT subtype, ref, payload FROM events WHERE type = 'http' ORDER BY ts_ns, id").all() as Row[];
    const made = http.find((r) => r.subtype === 'client_request' && r.payload.includes('transport=websocket'))!;
    expect(JSON.parse(http.find((r) => r.subtype === 'client_response' && r.ref === made.ref)!.payload).status).toBe(101);
    const sid = /sid=([\w-]+)/.exec(made.payload)![1];
    // Before it, engine.io's long-polling requests: how many depends on when the upgrade comes.
    const upgraded = await eventually(async () => {
      const r = await callTool(get_http_requests, {}, session!);
      return (r.structuredContent as { requests: Listed[] }).requests.filter((q) => q.url.includes('transport=websocket'));
    }, 'the served upgrade request');
    expect(upgraded.map((q) => [q.method, q.url, q.status, q.pending])).toEqual([['GET', `/socket.io/?EIO=4&transport=websocket&sid=${sid}`, 101, false]]);

    type Call = { fn: string; args: string[]; outcome: string };
    const r = await callTool(get_function_calls, { module_name: 'prices.cjs' }, session);
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(((r.structuredContent as { calls: Call[] }).calls).map((c) => [c.fn, c.args, c.outcome])).toEqual([
      ['quote', ['"jam"', '2'], 'returned'],
      ['quote', ['"gin"', '1'], 'threw'],
    ]);
  });

  it('records a broadcast to a client connected before the agent came, which has sent nothing since', async () => {
    const app = startFixture(join(SHOP, 'together.mjs'), [], { node: nodeTarget('24').bin });
    await app.line(/^listening/);
    app.send('connect');
    await app.line(/^upgraded to websocket/);
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    await session.attach(String(app.pid));
    app.send('announce sale at noon');
    await app.line(/^news sale at noon/);
    const main = String(app.pid);
    let rows: Row[] = [];
    await eventually(() => {
      rows = session!.store.db.prepare("SELECT subtype, ref, payload FROM events WHERE type = 'ws' AND subtype IN ('send', 'receive') ORDER BY ts_ns, id").all() as Row[];
      return rows.length >= 2;
    }, () => `the news sent and received: ${JSON.stringify(rows)}`);
    expect(rows.map((r) => [r.ref, r.subtype, JSON.parse(r.payload).data])).toEqual([
      [`${main}:ws1`, 'send', '42["news","sale at noon"]'],
      [`${main}:ws2`, 'receive', '42["news","sale at noon"]'],
    ]);
  });
});
