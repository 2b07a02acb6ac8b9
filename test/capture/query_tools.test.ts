// The issue 4 read tools on real captures: an Express server whose /checkout fails with 500 (get_http_requests
// finds it; get_function_calls and get_execution_path for that request list exactly what serving it did), and
// IPC between a parent and its child (system_snapshot_at between a send and its receipt shows it in flight), and console output (get_logs).
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import type { ToolDefinition } from '../../src/tools/define.js';
import { get_http_requests } from '../../src/tools/get_http_requests.js';
import { get_logs } from '../../src/tools/get_logs.js';
import { TOOLS } from '../../src/tools/registry.js';
import { system_snapshot_at } from '../../src/tools/system_snapshot_at.js';
import { eventually, startFixture } from '../helpers.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

const TOOLS_USED: ToolDefinition<any>[] = [...TOOLS, get_http_requests, get_logs, system_snapshot_at];
const call = async (name: string, args: Record<string, unknown>) => {
  const r = await callTool(TOOLS_USED.find((t) => t.name === name)!, args, session!);
  return { text: (r.content as { text: string }[]).map((c) => c.text).join('\n'), data: r.structuredContent as any, isError: r.isError ?? false };
};

describe('issue 4 tools on real captures', () => {
  it('get_http_requests finds the failed checkout; get_function_calls and get_execution_path answer for that request', async () => {
    const app = startFixture('web/server.cjs');
    const port = Number((await app.line(/^listening/)).split(' ')[1]);
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    await session.attach(String(app.pid));
    expect((await call('trace_module', { module_name: './test/fixtures/bank/payments.js' })).isError).toBe(false);
    expect((await fetch(`http://127.0.0.1:${port}/checkout/50`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/checkout/500`)).status).toBe(500);
    const main = String(app.pid);

    const failed = await eventually(async () => {
      const r = await call('get_http_requests', { status_min: 500 });
      return !r.isError && r.data.total === 1 && r.data.requests[0];
    }, 'the failed request');
    expect(failed).toMatchObject({ id: `${main}:r2`, actor: main, method: 'GET', url: '/checkout/500', route: '/checkout/:amount', status: 500, pending: false });
    expect((await call('get_http_requests', { route: '/checkout/:amount' })).data.requests.map((r: any) => [r.url, r.status])).toEqual([
      ['/checkout/50', 200],
      ['/checkout/500', 500],
    ]);

    const calls = await call('get_function_calls', { module_name: 'payments.js', request_id: failed.id });
    expect(calls.data.calls.map((c: any) => [c.fn, c.outcome, c.corr])).toEqual([
      ['fee', 'returned', failed.id],
      ['charge', 'threw', failed.id],
    ]);
    const path = await call('get_execution_path', { pid_string: main, request_id: failed.id });
    expect(path.data.entries.map((e: any) => e.event)).toEqual(['http/request', 'call/call', 'call/call', 'http/response']);
    expect(path.data.entries.map((e: any) => e.ref)).toEqual([failed.id, calls.data.calls[0].ref, calls.data.calls[1].ref, failed.id]);
  });

  it("nodescope's own events, sent while a request's handler runs, are not part of that request", async () => {
    const app = startFixture('web/server.cjs');
    const port = Number((await app.line(/^listening/)).split(' ')[1]);
    session = new Session({ config: resolveConfig({ web: 'true' }, {}) });
    await session.attach(String(app.pid));
    const busy = fetch(`http://127.0.0.1:${port}/busy/1500`);
    await app.line(/^busy/);
    // The inspector runs the host's calls in the middle of the handler: the trace's report is sent from there.
    expect((await call('trace_module', { module_name: './test/fixtures/bank/payments.js' })).isError).toBe(false);
    expect((await busy).status).toBe(200);
    const request = await eventually(async () => {
      const r = await call('get_http_requests', { route: '/busy/:ms' });
      return !r.isError && r.data.total === 1 && !r.data.requests[0].pending && r.data.requests[0];
    }, 'the busy request');
    const path = await call('get_execution_path', { pid_string: String(app.pid), request_id: request.id });
    expect(path.data.entries.map((e: any) => e.event)).toEqual(['http/request', 'log/log', 'http/response']);
    // Reported once it began, and again whole once every function was edited: neither in the request.
    const started = session.query.store.db.prepare("SELECT DISTINCT corr FROM events WHERE type = 'agent' AND subtype = 'trace_started'").all();
    expect(started).toEqual([{ corr: null }]);
  });

  it('system_snapshot_at a moment between a send and its receipt shows the message in flight', async () => {
    const app = startFixture('ipc.cjs');
    const childPid = Number((await app.line(/^ready/)).split(' ')[1]);
    session = new Session({ config: resolveConfig({}, {}) });
    await session.attach(String(app.pid));
    const [p, c] = [String(app.pid), String(childPid)];
    // The child's agent records its start as it installs: a receipt can be recorded from then on.
    await eventually(() => session!.query.store.db.prepare("SELECT 1 FROM events WHERE actor = ? AND type = 'process' AND subtype = 'start'").get(c), 'the child to be attached');
    app.send('ping 7');
    await app.line(/^pong 7/);
    const rows = await eventually(() => {
      const r = session!.query.store.db.prepare("SELECT subtype, actor, wall_ms FROM events WHERE type = 'message' ORDER BY ts_ns").all() as { subtype: string; actor: string; wall_ms: number }[];
      return r.length === 4 && r;
    }, () => `four IPC events; got ${JSON.stringify(session!.query.store.db.prepare("SELECT type, subtype, actor FROM events WHERE type IN ('message', 'process', 'child') ORDER BY ts_ns").all())}`);
    expect(rows.map((r) => [r.subtype, r.actor])).toEqual([['send', p], ['receive', c], ['send', c], ['receive', p]]);

    const between = await call('system_snapshot_at', { timestamp: rows[0]!.wall_ms });
    expect(between.data.in_flight.map((m: any) => [m.from, m.to, m.channel, m.message, m.received !== null])).toEqual([[p, c, 'ipc', '{ping: 7}', true]]);
    expect(between.text).toContain(`${p} → ${c} [ipc] {ping: 7}`);
    const second = await call('system_snapshot_at', { timestamp: rows[2]!.wall_ms });
    expect(second.data.in_flight.map((m: any) => [m.from, m.message])).toEqual([[c, '{pong: 7}']]);
    expect((await call('system_snapshot_at', { timestamp: rows[3]!.wall_ms })).data.in_flight).toEqual([]);
  });

  it("get_logs answers the target's console output, filtered, without nodescope's own", async () => {
    const app = startFixture('bank/app.cjs');
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({}, {}) });
    await session.attach(String(app.pid));
    app.send('inc 2');
    await app.nextLine(/^count/);
    app.send('inc 3');
    await app.nextLine(/^count/);
    const main = String(app.pid);
    const logs = await eventually(async () => {
      const r = await call('get_logs', { grep: 'count' });
      return r.data.total === 2 && r;
    }, 'two console lines');
    expect(logs.data.lines.map((l: any) => [l.actor, l.level, l.text])).toEqual([
      [main, 'log', 'count 2'],
      [main, 'log', 'count 5'],
    ]);
    expect((await call('get_logs', { grep: 'count', tail: 1 })).text.split('\n').slice(-1)).toEqual([
      'showing the last 1 of more than 1; raise tail (at most 500) or narrow with since, level or grep',
    ]);
    expect((await call('get_logs', { level: 'error', grep: 'count' })).data.total).toBe(0);
    expect((await call('get_logs', {})).data.lines.filter((l: any) => /nodescope/i.test(l.text))).toEqual([]);
  });
});
