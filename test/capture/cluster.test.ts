// A node:cluster HTTP server run as pm2's cluster mode or throng run one (test/fixtures/cluster/server.cjs: a
// primary, 2 forked workers on one port, a message to the primary per request, a refork after a crash),
// launched and attached by pid as a user does, on each Node version, and asked through the tools what a user
// asks: which workers there are, who served which request, what they told the primary, how one ended.
import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { Session } from '../../src/session.js';
import { eventually, FIXTURES, startFixture } from '../helpers.js';
import { callByName } from '../tool_calls.js';
import { nodeTargets } from '../targets/index.js';

const SERVER = `${FIXTURES}/cluster/server.cjs`;
const PRICES = `${FIXTURES}/cluster/prices.cjs`;

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

const call = (name: string, args: Record<string, unknown> = {}) => callByName(session!, name, args);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** One request on a connection of its own (round-robin hands each connection to the next worker): the body, or the error. */
function get(port: number, path: string): Promise<any> {
  return new Promise((resolve) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    })
      .on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code }))
      .end();
  });
}

/** The tree's lines without their times. */
async function tree(): Promise<string[]> {
  return (await call('get_supervision_tree')).text.split('\n').filter((l) => !l.startsWith('Traced modules') && !l.startsWith('- ')).map((l) => l.replace(/ (since|at) \S+Z$/, ''));
}

/** Lines of an answer without their leading time and trailing id. */
const bare = (text: string) => text.split('\n').filter((l) => /^\d{4}-\S+Z /.test(l)).map((l) => l.replace(/^\S+Z /, '').replace(/ \[[^\]]+\]$/, '').replace(/ in \S+ ms/, '').replace(/ \(\S+ ms\)/, '').replace(/after \S+ ms/, 'after'));

/** get_function_calls's lines as `<pid> price("<sku>")`. */
const callLines = (text: string) => text.split('\n').filter((l) => /^\d{4}-\S+Z /.test(l)).map((l) => l.split(' ').slice(1, 3).join(' '));

async function scenario(primary: number, port: number): Promise<void> {
  // Who the workers are, once both are traced.
  const workers = await eventually(async () => {
    const t = (await call('get_supervision_tree')).data.tree as { pid: number; children: { pid: number; cluster_worker?: number; status: string }[] }[];
    const kids = t.find((n) => n.pid === primary)?.children ?? [];
    return kids.length === 2 && kids.every((k) => k.cluster_worker !== undefined) && kids;
  }, 'the primary and its 2 cluster workers in the tree');
  const byId = new Map(workers.map((w) => [w.cluster_worker!, w.pid]));
  const [w1, w2] = [byId.get(1)!, byId.get(2)!];
  expect(await tree()).toEqual([
    `${primary} process "server.cjs ${port}" — running`,
    `├─ ${workers[0]!.pid} cluster worker ${workers[0]!.cluster_worker} "server.cjs ${port}" — running`,
    `└─ ${workers[1]!.pid} cluster worker ${workers[1]!.cluster_worker} "server.cjs ${port}" — running`,
  ]);

  // Four requests, each on a connection of its own: who served which, as the server itself says.
  const served: [string, number][] = [];
  for (const sku of ['apple', 'pear', 'apple', 'pear']) {
    const body = await get(port, `/price?sku=${sku}`);
    expect(body).toMatchObject({ sku, cents: sku === 'apple' ? 120 : 95 });
    served.push([sku, body.pid]);
  }
  expect(new Set(served.map(([, pid]) => pid))).toEqual(new Set([w1, w2]));
  const requests = await eventually(async () => {
    const r = await call('get_http_requests');
    // A response is recorded as it finishes, which may come after the client has read it.
    return r.data.requests.length === 4 && r.data.requests.every((q: { pending: boolean }) => !q.pending) && r;
  }, '4 requests and their responses recorded');
  expect(bare(requests.text)).toEqual(served.map(([sku, pid]) => `${pid} GET /price?sku=${sku} → 200`));
  expect(callLines((await call('get_function_calls', { module_name: 'prices.cjs' })).text)).toEqual(
    served.map(([sku, pid]) => `${pid} price("${sku}")`),
  );

  // What each worker told the primary: its own messages, each received; none of node:cluster's handshake.
  for (const pid of [w1, w2]) {
    const flow = await eventually(async () => {
      const f = await call('get_message_flow', { from_pid: String(pid), to_pid: String(primary) });
      return !f.text.includes('pending') && f;
    }, `the messages of ${pid} received`);
    const mine = served.filter(([, p]) => p === pid);
    expect(flow.text.split('\n')[0]).toBe(`Messages between ${pid} "server.cjs ${port}" and ${primary} "server.cjs ${port}": ${mine.length}`);
    expect(bare(flow.text)).toEqual(mine.map(([sku]) => `${pid} → ${primary} [ipc] {served: "${sku}", pid: ${pid}} · received after`));
  }
  const queues = (await call('message_queue_analysis')).text;
  expect(queues).toContain('Pending per receiver: none');
  expect(queues).not.toContain('NODE_CLUSTER');

  // A request that makes its worker exit with code 1: the worker is shown so, the request unanswered by it,
  // and the worker the primary forks in its place is cluster worker 3, traced and serving.
  const next = served.at(-1)![1] === w1 ? w2 : w1;
  expect(await get(port, '/crash')).toEqual({ error: 'ECONNRESET' });
  const third = await eventually(async () => {
    const t = (await call('get_supervision_tree')).data.tree as { pid: number; children: { pid: number; cluster_worker?: number; status: string }[] }[];
    const kids = t.find((n) => n.pid === primary)?.children ?? [];
    return kids.find((k) => k.cluster_worker === 3 && k.status === 'running') && kids.some((k) => k.pid === next && k.status === 'exited') && kids.find((k) => k.cluster_worker === 3)!.pid;
  }, 'the crashed worker exited and a third one running');
  const survivor = next === w1 ? w2 : w1;
  expect(await tree()).toEqual([
    `${primary} process "server.cjs ${port}" — running`,
    ...[
      [w1, `cluster worker 1 "server.cjs ${port}" — ${w1 === next ? 'exited (code 1)' : 'running'}`],
      [w2, `cluster worker 2 "server.cjs ${port}" — ${w2 === next ? 'exited (code 1)' : 'running'}`],
      [third, `cluster worker 3 "server.cjs ${port}" — running`],
    ].map(([pid, rest], i) => `${i === 2 ? '└─' : '├─'} ${pid} ${rest}`),
  ]);
  const crash = (await call('get_http_requests')).text;
  expect(bare(crash)[4]).toBe(`${next} GET /crash → no response: ${next} exited (code 1) before answering`);
  expect((await call('get_logs', { pid_string: String(primary) })).text).toContain(`exit ${next} 1`);

  // The replacement, once it listens and prices.cjs is traced in it as in its siblings, takes its turn.
  await eventually(async () => (await call('get_logs', { pid_string: String(primary) })).text.includes(`refork ${third}`), 'the primary to log the refork');
  // (by each of the ways it is in the survivor: Node 26 adds a breakpoint for the reference the worker took
  // before the trace, a moment after the wrappers)
  await eventually(async () => {
    const modules = (await call('get_supervision_tree')).data.modules as { actor: string; via: string }[];
    const ways = (pid: number) => modules.filter((m) => m.actor === String(pid)).map((m) => m.via).sort().join();
    return ways(third) === ways(survivor);
  }, `prices.cjs traced in ${third} as in ${survivor}`);
  const after: [string, number][] = [];
  for (const sku of ['pear', 'apple']) after.push([sku, (await get(port, `/price?sku=${sku}`)).pid]);
  expect(new Set(after.map(([, pid]) => pid))).toEqual(new Set([survivor, third]));
  const all = await eventually(async () => {
    const r = await call('get_http_requests');
    return r.data.requests.length === 7 && r.data.requests.every((q: { pending: boolean; ended?: string }) => !q.pending || q.ended) && r;
  }, '7 requests and their responses recorded');
  expect(bare(all.text).slice(5)).toEqual(after.map(([sku, pid]) => `${pid} GET /price?sku=${sku} → 200`));
  // Launched, prices.cjs is traced in the replacement before its first line; attached, once it is followed,
  // and listed as traced only once its edits are in (it was listed ~40 ms before, and a call at once went
  // unrecorded in 2 of 4 runs on Node 20).
  const calls = await eventually(async () => {
    const listed = callLines((await call('get_function_calls', { module_name: 'prices.cjs' })).text).slice(4);
    return listed.length >= after.length && listed;
  }, `the calls of price after the refork`);
  const expected = after;
  expect(calls).toEqual(expected.map(([sku, pid]) => `${pid} price("${sku}")`));
}

describe.each(nodeTargets().filter((t) => t.major !== '22'))('A node:cluster HTTP server on Node $major', ({ bin }) => {
  it('launched: primary → 2 cluster workers, who served which request, their messages to the primary, a crash and its refork', async () => {
    session = new Session({ config: resolveConfig({}, {}) });
    const port = await freePort();
    const launched = await call('launch', { command: `${bin} ${SERVER} ${port}`, trace_modules: PRICES, web: true });
    let tree = '';
    await eventually(async () => {
      tree = (await call('get_supervision_tree')).text;
      return (await call('get_logs', {})).text.includes(`ready ${port}`);
    }, () => `the server ready; the tree: ${tree}`);
    await scenario(launched.data.pid, port);
  });

  it('attached by the pid of its primary: the same answers', async () => {
    const port = await freePort();
    const app = startFixture('cluster/server.cjs', [String(port)], { node: bin });
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({}, {}) });
    await call('attach', { target: String(app.pid), web: true });
    await call('trace_module', { module_name: PRICES });
    await scenario(app.pid, port);
  });
});
