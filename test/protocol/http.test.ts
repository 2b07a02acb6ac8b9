// MCP over Streamable HTTP against the built server (dist/cli.js serve --http): real SDK clients, several at
// once on one shared trace, progress notifications, and the three refusals (token, Origin, non-loopback bind).
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOLS } from '../../src/tools/registry.js';
import { FIXTURES, startFixture, tempDir, type Fixture } from '../helpers.js';
import { conforming } from './conform.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
const text = (r: any) => r.content.map((c: any) => c.text).join('\n');
const run = promisify(execFile);

interface Served {
  proc: ChildProcessWithoutNullStreams;
  url: string;
  token: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const servers: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const p of servers) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

/** HOME is a temp dir so the token file lands there, not in the real ~/.nodescope; so do cpu_profile's files. */
function env(home: string): NodeJS.ProcessEnv {
  // Every tool listed: these tests call some outside the default categories (cpu_profile).
  const e: NodeJS.ProcessEnv = { ...process.env, HOME: home, NODESCOPE_TOOL_CATEGORIES: 'all', NODESCOPE_EXPORT_DIR: join(home, 'exports') };
  delete e.NODESCOPE_TOKEN;
  return e;
}

function serve(home: string, args: string[] = ['--http', '127.0.0.1:0'], extraEnv: NodeJS.ProcessEnv = {}): Promise<Served> {
  const proc = spawn(process.execPath, [CLI, 'serve', ...args], { env: { ...env(home), ...extraEnv }, stdio: 'pipe' });
  servers.push(proc);
  let err = '';
  proc.stderr.setEncoding('utf8');
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no URL; stderr: ${err}`)), 15_000);
    proc.on('exit', (code) => reject(new Error(`serve exited (${code}) before listening; stderr: ${err}`)));
    proc.stderr.on('data', (chunk: string) => {
      err += chunk;
      const url = /^nodescope: MCP over HTTP at (http:\/\/\S+\/mcp)\n/m.exec(err)?.[1];
      const token = extraEnv.NODESCOPE_TOKEN ?? /^nodescope: token ([0-9a-f]{64}) \(written to /m.exec(err)?.[1];
      if (url && token) {
        clearTimeout(timer);
        resolve({ proc, url, token, stderr: () => err, exited });
      }
    });
  });
}

async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'nodescope-http-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  conforming(client);
  return client;
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fetch', version: '1' } },
});

function post(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers }, body: INITIALIZE });
}

describe('MCP over Streamable HTTP', () => {
  const home = tempDir();
  let served: Served;
  let app: Fixture;
  let a: Client;
  let b: Client;

  beforeAll(async () => {
    served = await serve(home);
    app = startFixture('hot.cjs');
    await app.line(/^ready/);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('prints a loopback URL and writes the token to a file only its owner can read, named by its port', () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const file = join(home, '.nodescope', `token-${new URL(served.url).port}`);
    expect(served.stderr()).toContain(`(written to ${file}, readable by you only)`);
    expect(readFileSync(file, 'utf8').trim()).toBe(served.token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a real SDK client lists the tools and calls get_supervision_tree', async () => {
    a = await connect(served.url, served.token);
    const { tools } = await a.listTools();
    expect(tools.map((t) => t.name)).toEqual(TOOLS.map((t) => t.name));
    const empty = await a.callTool({ name: 'get_supervision_tree', arguments: {} });
    expect(empty.isError).toBeFalsy();
    expect(text(empty)).toBe('No process recorded yet. Use launch or attach first.');
    // A "__proto__" key in the JSON body, which the SDK's parsing drops, is refused over HTTP too.
    const proto = await a.callTool({ name: 'detach', arguments: JSON.parse('{"__proto__": {}}') });
    expect([proto.isError, text(proto)]).toEqual([true, 'detach: unknown argument "__proto__". It takes no arguments.']);
  });

  it('two clients at once share one trace', async () => {
    b = await connect(served.url, served.token);
    const attached = await a.callTool({ name: 'attach', arguments: { target: String(app.pid) } });
    expect(attached.isError, text(attached)).toBeFalsy();
    const [fromA, fromB] = await Promise.all([
      a.callTool({ name: 'get_supervision_tree', arguments: {} }),
      b.callTool({ name: 'get_supervision_tree', arguments: {} }),
    ]);
    const root = new RegExp(`^${app.pid} process "hot\\.cjs" — running since `);
    expect(text(fromA)).toMatch(root);
    expect(text(fromB)).toMatch(root);
    expect(fromB.structuredContent).toEqual(fromA.structuredContent);
  });

  it('progress notifications of cpu_profile reach the HTTP client while another client is answered', async () => {
    const progress: Progress[] = [];
    const [profile, tree] = await Promise.all([
      a.callTool({ name: 'cpu_profile', arguments: { pid_string: String(app.pid), duration: 1 } }, undefined, { onprogress: (p) => progress.push(p) }),
      b.callTool({ name: 'get_supervision_tree', arguments: {} }),
    ]);
    expect(profile.isError, text(profile)).toBeFalsy();
    expect((profile.structuredContent as any).samples).toBeGreaterThan(0);
    expect(text(tree)).toMatch(new RegExp(`^${app.pid} process "hot\\.cjs"`));
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) expect(p).toMatchObject({ total: 1000, message: `profiling ${app.pid}` });
    const done = progress.map((p) => p.progress);
    expect(done).toEqual([...done].sort((x, y) => x - y));
  });

  it('nodescope call --server prints the answer, with the token given or read from the token file', async () => {
    const withToken = await run(process.execPath, [CLI, 'call', 'get_supervision_tree', '--server', served.url, '--token', served.token], { env: env(tempDir()) });
    expect(withToken.stdout).toMatch(new RegExp(`^${app.pid} process "hot\\.cjs" — running since `));
    const fromFile = await run(process.execPath, [CLI, 'call', 'get_supervision_tree', '--server', served.url, '--json'], { env: env(home) });
    expect(JSON.parse(fromFile.stdout).tree[0]).toMatchObject({ id: String(app.pid), name: 'hot.cjs', status: 'running' });
    // A numeric flag value stays a string where the tool's schema wants one.
    const info = await run(process.execPath, [CLI, 'call', 'process_info', '--server', served.url, '--pid_string', String(app.pid), '--json'], { env: env(home) });
    expect(JSON.parse(info.stdout)).toMatchObject({ actor: String(app.pid), pid: app.pid, mainThread: true });
    const refused = await run(process.execPath, [CLI, 'call', 'get_supervision_tree', '--server', served.url, '--token', 'wrong'], { env: env(home) }).catch((e) => e);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the server refused the token \(HTTP 401\)/);
  });

  it('nodescope call --help --server lists every tool the server answers, titled, those off its tools/list too', async () => {
    // Its tool categories keep some off tools/list.
    const own = tempDir();
    const categorized = await serve(own, ['--http', '127.0.0.1:0'], { NODESCOPE_TOOL_CATEGORIES: 'core' });
    const client = await connect(categorized.url, categorized.token);
    const listed = (await client.listTools()).tools.map((t) => t.name);
    await client.close();
    const all = await run(process.execPath, [CLI, 'call', '--help', '--server', categorized.url], { env: env(own) });
    const lines = all.stdout.trim().split('\n').slice(1);
    expect(lines.map((l) => l.trim().split(/\s+/)[0]).sort()).toEqual(TOOLS.map((t) => t.name).sort());
    for (const line of lines) expect(line, 'a title').toMatch(/^  \S+\s+\S/);
    const hidden = TOOLS.find((t) => !listed.includes(t.name))!;
    const help = await run(process.execPath, [CLI, 'call', hidden.name, '--help', '--server', categorized.url], { env: env(own) });
    expect(help.stdout).toMatch(new RegExp(`^${hidden.name} — ${hidden.title}`));
  });

  it('refuses a missing or wrong token with 401', async () => {
    const none = await post(served.url, {});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const wrong = await post(served.url, { Authorization: `Bearer ${'0'.repeat(64)}` });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.message).toMatch(/^Unauthorized: send "Authorization: Bearer <token>"/);
  });

  it('refuses a foreign Origin with 403 and accepts a loopback one', async () => {
    const foreign = await post(served.url, { Authorization: `Bearer ${served.token}`, Origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toMatch(/^Origin http:\/\/evil\.example refused/);
    const local = await post(served.url, { Authorization: `Bearer ${served.token}`, Origin: 'http://localhost:6274' });
    expect(local.status).toBe(200);
    expect(local.headers.get('mcp-session-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(local.headers.get('access-control-allow-origin')).toBe('http://localhost:6274');
    await local.body?.cancel();
  });

  it('refuses a foreign Host header (DNS rebinding) with 403', async () => {
    const { port } = new URL(served.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { Host: `evil.example:${port}`, Authorization: `Bearer ${served.token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(INITIALIZE);
    });
    expect(status).toBe(403);
  });

  it('closes cleanly on SIGTERM with clients connected, removing its token file', async () => {
    served.proc.kill('SIGTERM');
    expect(await served.exited).toBe(143);
    expect(served.stderr()).not.toMatch(/failed|Error/);
    expect(existsSync(join(home, '.nodescope', `token-${new URL(served.url).port}`))).toBe(false);
    expect(existsSync(join(home, '.nodescope', `token-${new URL(served.url).port}.pid`))).toBe(false);
  });
});

describe('a server killed with SIGKILL', () => {
  it('leaves its token file, which the next server started removes, as call --server does, the server gone', async () => {
    const home = tempDir();
    const files = (s: Served) => [join(home, '.nodescope', `token-${new URL(s.url).port}`), join(home, '.nodescope', `token-${new URL(s.url).port}.pid`)];
    const killed = async (s: Served) => {
      s.proc.kill('SIGKILL');
      await s.exited;
      return s;
    };
    const first = await killed(await serve(home));
    const [file, pid] = files(first);
    // The token file stays the bare token (what `Bearer $(cat …)` reads); its server beside it.
    expect(readFileSync(file, 'utf8')).toBe(`${first.token}\n`);
    expect(readFileSync(pid, 'utf8')).toBe(`${first.proc.pid} ${hostname()}\n`);
    expect(statSync(pid).mode & 0o777).toBe(0o600);

    const next = await serve(home);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(pid)).toBe(false);
    expect(next.stderr()).toContain(`nodescope: removed the token file of servers that no longer run: ${file}\n`);
    expect(existsSync(files(next)[0]!)).toBe(true);

    // A client that finds the file of a killed server says so, and removes it; a live server's stays.
    const second = await killed(await serve(home));
    const [left, leftPid] = files(second);
    const r = await run(process.execPath, [CLI, 'call', 'get_supervision_tree', '--server', second.url], { env: env(home) }).catch((e) => e);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`nodescope call: no server for ${second.url}: ${left} was written by nodescope serve (pid ${second.proc.pid}), which no longer runs; removed it. Start one with nodescope serve --http\n`);
    expect(existsSync(left)).toBe(false);
    expect(existsSync(leftPid)).toBe(false);
    expect(files(next).map(existsSync)).toEqual([true, true]);
    next.proc.kill('SIGTERM');
    expect(await next.exited).toBe(143);
  });
});

describe('binding', () => {
  it('refuses a non-loopback host unless --allow-remote is given, and says why', async () => {
    const home = tempDir();
    const refused = await run(process.execPath, [CLI, 'serve', '--http', '0.0.0.0:0'], { env: env(home) }).catch((e) => e);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^nodescope: refusing to serve MCP on 0\.0\.0\.0: that address is reachable from other machines.*--allow-remote/);
    expect(existsSync(join(home, '.nodescope'))).toBe(false);

    const remote = await serve(home, ['--http', '0.0.0.0:0', '--allow-remote']);
    expect(remote.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/mcp$/);
    expect(remote.stderr()).toMatch(/--allow-remote: listening on 0\.0\.0\.0, reachable from other machines/);
    remote.proc.kill('SIGINT');
    expect(await remote.exited).toBe(130);
  });
});

describe('tools added by configuration', () => {
  it('are served over HTTP and called by name through call --server', async () => {
    const home = tempDir();
    const served = await serve(home, ['--http', '127.0.0.1:0', '--tools', join(FIXTURES, 'custom_tool.mjs')]);
    const client = await connect(served.url, served.token);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('count_logs');
    await client.close();
    const r = await run(process.execPath, [CLI, 'call', 'count_logs', '--server', served.url, '--pid_string', 'nobody'], { env: env(home) }).catch((e) => e);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^count_logs failed: no actor "nobody"/);
    served.proc.kill('SIGTERM');
    expect(await served.exited).toBe(143);
  });
});

describe('a token from NODESCOPE_TOKEN and a persisted trace', () => {
  it('is not printed, and is written to the token file of its port (persisted or not), readable by its owner only', async () => {
    const home = tempDir();
    const dir = tempDir();
    const token = 'a-token-chosen-by-the-user';
    const served = await serve(home, ['--http', '127.0.0.1:0', '--persist', '--persist-path', join(dir, 'trace.db')], { NODESCOPE_TOKEN: token });
    const file = join(home, '.nodescope', `token-${new URL(served.url).port}`);
    expect(served.stderr()).toContain(`nodescope: token from NODESCOPE_TOKEN, also written to ${file} (readable by you only)`);
    expect(served.stderr()).not.toContain(token);
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, 'trace.db.token'))).toBe(false);
    const r = await run(process.execPath, [CLI, 'call', 'get_supervision_tree', '--server', served.url, '--token-file', file], { env: env(home) });
    expect(r.stdout).toBe('No process recorded yet. Use launch or attach first.\n');
    served.proc.kill('SIGTERM');
    expect(await served.exited).toBe(143);
  });
});

describe('two servers', () => {
  it('each keep their own token file, and call --server finds the right one from the URL', async () => {
    const home = tempDir();
    const one = await serve(home);
    const two = await serve(home);
    expect(one.token).not.toBe(two.token);
    for (const s of [one, two]) {
      expect(readFileSync(join(home, '.nodescope', `token-${new URL(s.url).port}`), 'utf8').trim()).toBe(s.token);
      const r = await run(process.execPath, [CLI, 'call', 'get_supervision_tree', '--server', s.url], { env: env(home) });
      expect(r.stdout).toBe('No process recorded yet. Use launch or attach first.\n');
    }
    one.proc.kill('SIGTERM');
    expect(await one.exited).toBe(143);
    expect(existsSync(join(home, '.nodescope', `token-${new URL(one.url).port}`))).toBe(false);
    // The other server's token file is untouched, and its command still works.
    const r = await run(process.execPath, [CLI, 'call', 'get_supervision_tree', '--server', two.url], { env: env(home) });
    expect(r.stdout).toBe('No process recorded yet. Use launch or attach first.\n');
    two.proc.kill('SIGTERM');
    expect(await two.exited).toBe(143);
  });
});
