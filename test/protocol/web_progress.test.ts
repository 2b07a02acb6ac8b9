// Through a real MCP client over stdio against the built server: web capture switched on and off by
// configure on a live, already-attached program (reaching a worker thread that starts afterwards), launch
// with web, and the progress notifications of attach, launch and export_trace for a client that passes a
// progressToken.
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startFixture, tempDir } from '../helpers.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
const text = (r: any) => r.content.map((c: any) => c.text).join('\n');

let client: Client;
beforeAll(async () => {
  client = new Client({ name: 'nodescope-web-test', version: '1.0.0' });
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--tool-categories', 'all', '--export-dir', tempDir()], stderr: 'pipe', env: { ...process.env, NODESCOPE_WEB: 'false' } as Record<string, string> });
  await client.connect(transport);
  // The SDK client runs notification handlers a microtask later but drops a request's progress handler as
  // soon as its response is read: a progress notification read in the same chunk as the response is lost
  // (sdk 1.32, shared/protocol.js _onnotification / _onresponse). Responses are handed over a macrotask
  // later here, so what the server sent before its answer is all seen, and the order is what is tested.
  const deliver = transport.onmessage!;
  transport.onmessage = (message, extra) => {
    if ('id' in message && !('method' in message)) setImmediate(() => deliver(message, extra));
    else deliver(message, extra);
  };
});
afterAll(async () => {
  await client?.close();
});

const call = (name: string, args: Record<string, unknown> = {}, progress?: Progress[]) =>
  client.callTool({ name, arguments: args }, undefined, progress ? { onprogress: (p) => progress.push(p) } : undefined) as Promise<any>;

/**
 * The answered requests get_http_requests lists, as [actor, method, url, status]. A request is recorded
 * as pending until the server's response finishes, which may come after the client has read it.
 */
async function requests(): Promise<unknown[][]> {
  const r = await call('get_http_requests');
  if (r.isError) return [];
  return r.structuredContent.requests.filter((q: any) => !q.pending).map((q: any) => [q.actor, q.method, q.url, q.status]);
}

describe('web capture switched at run time, and progress', () => {
  it('configure(web) on an attached program records its requests from then on, in threads that start later too', async () => {
    const app = startFixture('web/late_worker.cjs');
    const port = Number((await app.line(/^listening /)).split(' ')[1]);
    const main = String(app.pid);

    const progress: Progress[] = [];
    const attached = await call('attach', { target: main }, progress);
    expect(attached.isError, text(attached)).toBeFalsy();
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatchObject({ progress: 0, message: `attaching to ${main}` });
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ message: `pid ${main}: agent installed` });
    expect(last.total).toBe(last.progress);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);

    // Off: traffic leaves no trace, and the empty answer names the one call that changes that.
    expect((await fetch(`http://127.0.0.1:${port}/before`)).status).toBe(200);
    const none = await call('get_http_requests');
    expect(none.isError).toBe(true);
    expect(text(none)).toBe('get_http_requests failed: no HTTP requests recorded: configure(web: true) switches web capture on, in every traced thread now and later; then send the server some traffic');

    const on = await call('configure', { web: true });
    expect(on.isError, text(on)).toBeFalsy();
    expect(text(on)).toMatch(/, web on\. \d+ events stored\.$/);
    expect(on.structuredContent).toMatchObject({ web: true });
    expect((await fetch(`http://127.0.0.1:${port}/after`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/missing`)).status).toBe(404);
    expect(await eventually(async () => { const r = await requests(); return r.length === 2 && r; }, 'two requests')).toEqual([
      [main, 'GET', '/after', 200],
      [main, 'GET', '/missing', 404],
    ]);

    // A worker started after configure gets web capture with its agent.
    app.send('worker');
    const workerPort = Number((await app.line(/^worker /)).split(' ')[1]);
    expect((await fetch(`http://127.0.0.1:${workerPort}/in-worker`)).status).toBe(200);
    const tree = await call('get_supervision_tree');
    const worker = (tree.structuredContent as any).tree[0].children.find((c: any) => c.name === 'web-worker').id;
    expect(worker).toMatch(new RegExp(`^${main}/w\\d+$`));
    expect((await eventually(async () => { const r = await requests(); return r.length === 3 && r; }, 'the worker request'))[2]).toEqual([worker, 'GET', '/in-worker', 200]);

    // Off again: nothing more is recorded, in either thread.
    const off = await call('configure', { web: false });
    expect(off.structuredContent).toMatchObject({ web: false });
    expect((await fetch(`http://127.0.0.1:${port}/off`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${workerPort}/off`)).status).toBe(200);
    await call('get_logs'); // a synced round trip: what the agents held has been written
    expect((await requests()).map((r) => r[2])).toEqual(['/after', '/missing', '/in-worker']);

    // export_trace reports its steps, and the file it wrote has the requests as slices.
    const exported: Progress[] = [];
    const ex = await call('export_trace', { path: 'web.trace.json' }, exported);
    expect(ex.isError, text(ex)).toBeFalsy();
    expect(ex.structuredContent).toMatchObject({ requests: 3 });
    expect(exported.map((p) => [p.progress, p.total])).toEqual([[0, 3], [1, 3], [2, 3], [3, 3]]);
    expect(exported.at(-1)!.message).toBe(`wrote ${ex.structuredContent.file}`);

    await call('detach');
    app.send('quit');
  });

  it('launch(web: true) records the launched program\'s requests, with progress', async () => {
    const progress: Progress[] = [];
    const launched = await call('launch', { command: `${process.execPath} ${join(import.meta.dirname, '..', 'fixtures', 'web', 'self_request.cjs')}`, web: true }, progress);
    expect(launched.isError, text(launched)).toBeFalsy();
    const pid = String(launched.structuredContent.pid);
    expect(progress[0]!.message).toMatch(/^starting .*self_request\.cjs$/);
    expect(progress.at(-1)).toMatchObject({ message: `pid ${pid}: agent installed` });
    const seen = await eventually(async () => (await requests()).find((r) => r[0] === pid), 'a request of the launched program');
    expect(seen).toEqual([pid, 'GET', '/ping', 200]);
    await call('stop');
  });

  it('attach(web: true) switches web capture on with the attach', async () => {
    expect((await call('configure', { web: false })).structuredContent).toMatchObject({ web: false });
    const app = startFixture('web/late_worker.cjs');
    const port = Number((await app.line(/^listening /)).split(' ')[1]);
    const attached = await call('attach', { target: String(app.pid), web: true });
    expect(attached.isError, text(attached)).toBeFalsy();
    expect((await fetch(`http://127.0.0.1:${port}/attached`)).status).toBe(200);
    const mine = await eventually(async () => {
      const m = (await requests()).filter((r) => r[0] === String(app.pid));
      return m.length > 0 && m;
    }, 'the request');
    expect(mine).toEqual([[String(app.pid), 'GET', '/attached', 200]]);
    await call('detach');
    app.send('quit');
  });
});
