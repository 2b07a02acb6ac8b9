// What the answers say about real launched programs where a person would otherwise be misled: how a
// process ended that no parent of ours saw end, the `node --test` runner Node starts without an inspector,
// a package named by its name when its command-line script is the program, and a probe reading a `let`
// before its line ran.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import { supervisionTree, renderTree } from '../../src/query/tree.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { TOOLS } from '../../src/tools/registry.js';
import { DEFAULT_PROBE_LIMITS } from '../../src/trace/probes.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { attached, eventually, events, FIXTURES, newTracer, tempDir } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

const launched: Tracer[] = [];
const sessions: Session[] = [];
afterEach(async () => {
  for (const t of launched.splice(0)) await t.close();
  for (const s of sessions.splice(0)) await s.dispose();
});

async function tools() {
  const session = new Session({ config: resolveConfig({}, {}) });
  sessions.push(session);
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await callTool(TOOLS.find((t) => t.name === name)!, args, session);
    return { text: (r.content as { text: string }[]).map((c) => c.text).join('\n'), data: r.structuredContent as any, isError: r.isError ?? false };
  };
  return { session, call };
}

describe('A process whose parent is not traced and does not reap it', () => {
  it('is shown killed by the signal that ended it, read from the zombie it left, not running', async () => {
    const t = newTracer();
    launched.push(t.tracer);
    // `exec sleep` makes sleep the parent of the traced node: it never waits for it, so it stays a zombie.
    const child = join(FIXTURES, 'detached/child.cjs');
    const link = await t.tracer.launch(['sh', '-c', `${JSON.stringify(nodeTarget('24').bin)} ${JSON.stringify(child)} signal & exec sleep 8`]);
    await eventually(() => {
      t.tracer.ingest.flush();
      return t.store.actor(String(link.pid))?.ended_ms != null;
    }, 'the end of the process to be recorded');
    expect(renderTree(supervisionTree(t.store))).toMatch(new RegExp(`^${link.pid} process "child.cjs signal" — killed by SIGTERM at \\S+Z$`));
    expect(t.store.actor(String(link.pid))).toMatchObject({ status: 'killed', exit_code: null, exit_signal: 'SIGTERM' });
  });

  it('that outlives its parent and exits with a code keeps the code its agent reported', async () => {
    const t = newTracer();
    launched.push(t.tracer);
    const parent = await t.tracer.launch([nodeTarget('24').bin, join(FIXTURES, 'detached/parent.cjs'), 'code', '3']);
    const child = await eventually(() => {
      t.tracer.ingest.flush();
      return t.store.actors().find((a) => a.parent === String(parent.pid) && a.ended_ms != null);
    }, 'the detached child to end');
    expect(renderTree(supervisionTree(t.store)).split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${parent.pid} process "parent.cjs code 3" — exited \\(code 0\\) at \\S+Z$`)),
      expect.stringMatching(new RegExp(`^└─ ${child.id} process "child.cjs code 3" — exited \\(code 3\\) at \\S+Z$`)),
    ]);
  });
});

describe('A family ended by SIGTERM', () => {
  it('says "killed by SIGTERM" for each member, in the text tree and in the Mermaid one', async () => {
    const { call } = await tools();
    const started = await call('launch', { command: `${nodeTarget('24').bin} ${join(FIXTURES, 'detached/signals.cjs')}` });
    expect(started.isError, started.text).toBe(false);
    const main = started.data.pid;
    let last = '';
    const answer = await eventually(async () => {
      const r = await call('get_supervision_tree', {});
      last = r.text;
      return r.text.split('\n').length === 3 && !r.text.includes('running') && r;
    }, () => `the family to end; the tree says:\n${last}`);
    expect(answer.text.replace(/ at \S+Z/g, '').split('\n')).toEqual([
      `${main} process "signals.cjs" — killed by SIGTERM`,
      expect.stringMatching(new RegExp(`^├─ \\d+ process "signals.cjs child" — killed by SIGTERM$`)),
      `└─ ${main}/w1 worker "idle" — exited (code 1)`,
    ]);
    const mermaid = (await call('get_supervision_tree', { format: 'mermaid' })).text;
    expect(mermaid).toContain(`  a${main}["${main} process signals.cjs<br/>killed by SIGTERM"]`);
    expect(mermaid).toContain(`  a${main}_w1["${main}/w1 worker idle<br/>exited (code 1)"]`);
  });
});

describe('A worker started with no name by a dependency (as pino starts thread-stream\'s)', () => {
  it('is known in the tree by its script from the package on; Node\'s module hooks thread by its node: URL', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'node_modules', 'sink', 'lib'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'sink', 'lib', 'worker.js'), "require('node:worker_threads').parentPort.once('message', () => process.exit(0));\n");
    writeFileSync(join(dir, 'app.js'), "require('node:module').register('data:text/javascript,export async function resolve(s, c, next) { return next(s, c); }');\nconst { Worker } = require('node:worker_threads');\nconst w = new Worker(require.resolve('./node_modules/sink/lib/worker.js'));\nw.once('online', () => console.log('online'));\nsetTimeout(() => w.postMessage('end'), 300);\n");
    const { call } = await tools();
    const started = await call('launch', { command: `${nodeTarget('24').bin} app.js`, cwd: dir });
    const main = started.data.pid;
    const answer = await eventually(async () => {
      const r = await call('get_supervision_tree', {});
      return r.text.startsWith(`${main} process "app.js" — exited`) && r;
    }, 'the program to end');
    // The hooks thread's end is not reported: it ends with its process.
    expect(answer.text.replace(/ at \S+Z/g, '').split('\n')).toEqual([
      `${main} process "app.js" — exited (code 0)`,
      `├─ ${main}/w1 worker node:internal/modules/esm/worker — gone (no exit code)`,
      `└─ ${main}/w2 worker sink/lib/worker.js — exited (code 0)`,
    ]);
  });
});

describe.each(['22', '24', '26'])('node --test launched on Node %s', (major) => {
  it('says that the runner is not traced, as Node gives it no inspector, and that its test files are', async () => {
    const { call } = await tools();
    const started = await call('launch', { command: `${nodeTarget(major).bin} --test calc.test.mjs`, cwd: join(FIXTURES, 'node_test') });
    expect(started.isError, started.text).toBe(false);
    const last = started.text.split('\n').at(-1)!;
    const runner = /^Warnings: pid (\d+) /.exec(last)?.[1];
    expect(last).toBe(`Warnings: pid ${runner} (node --test calc.test.mjs) is not traced: Node started it without an inspector; the processes it starts are`);
    expect(started.text.split('\n').slice(0, 2)).toEqual([
      `Launched pid ${started.data.pid} (actor ${started.data.pid}), agent installed before its first line.`,
      expect.stringMatching(new RegExp(`^${started.data.pid} process "calc.test.mjs" — (running since|exited \\(code 1\\) at) \\S+Z$`)),
    ]);
  });
});

describe('trace_module named by a package whose command-line script is the program', () => {
  it('traces the package\'s main module, not the script of the same name, and says how to trace that one', async () => {
    // node_modules/greeter: bin/greeter (the program, as npx would start it) requires lib/greeter.js.
    const dir = tempDir();
    const pkg = join(dir, 'node_modules', 'greeter');
    mkdirSync(join(pkg, 'bin'), { recursive: true });
    mkdirSync(join(pkg, 'lib'));
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'greeter', main: 'lib/greeter.js', bin: { greeter: 'bin/greeter' } }));
    writeFileSync(join(pkg, 'lib', 'greeter.js'), "exports.greet = (who) => `hello ${who}`;\n");
    writeFileSync(join(pkg, 'bin', 'greeter'), "#!/usr/bin/env node\nconst { greet } = require('../lib/greeter.js');\nsetInterval(() => console.log(require('../lib/greeter.js').greet('you')), 100);\n");
    const { call } = await tools();
    const started = await call('launch', { command: `${nodeTarget('24').bin} node_modules/greeter/bin/greeter`, cwd: dir });
    expect(started.isError, started.text).toBe(false);
    const traced = await call('trace_module', { module_name: 'greeter' });
    expect(traced.isError, traced.text).toBe(false);
    expect(traced.text.split('\n').slice(0, 3)).toEqual([
      `trace_module greeter (${join(pkg, 'lib', 'greeter.js')}):`,
      `- ${started.data.pid}: greet wrapped on the exports (V8 took the live edit but left the function as it was): calls through references taken before tracing are missed`,
      `That is the main module of the package greeter; its command-line script (${join(pkg, 'bin', 'greeter')}) is another module: give its path to trace it.`,
    ]);
    const calls = await eventually(async () => {
      const r = await call('get_function_calls', { module_name: 'greeter' });
      return r.data?.calls?.length > 0 && r;
    }, 'a call of greet');
    expect(calls.data.calls[0]).toMatchObject({ fn: 'greet', args: ['"you"'], result: '"hello you"' });
  });
});

describe('trace_module of a loaded module whose exports are getters (as esbuild and tsx compile them)', () => {
  it('reaches the function a getter returns: a wrapper in the binding the getter reads records every call whole', async () => {
    const { call } = await tools();
    const started = await call('launch', { command: `${nodeTarget('24').bin} app.cjs`, cwd: join(FIXTURES, 'getters') });
    const traced = await call('trace_module', { module_name: 'price.cjs' });
    expect(traced.isError).toBe(false);
    expect(traced.text.split('\n').slice(0, 2)).toEqual([
      `trace_module price.cjs (${join(FIXTURES, 'getters', 'price.cjs')}):`,
      `- ${started.data.pid}: quote (exported through getters) replaced by wrappers in the module's own scope, which its getters return (~1 µs per call): every call through the exports recorded whole`,
    ]);
    const calls = await eventually(async () => {
      const r = await call('get_function_calls', { module_name: 'price.cjs' });
      return r.data?.calls?.length >= 2 && r.data.calls;
    }, 'two calls of quote');
    expect(calls.slice(0, 2)).toMatchObject([
      { fn: 'quote', args: ['2'], outcome: 'returned', result: '5' },
      { fn: 'quote', args: ['2'], outcome: 'returned', result: '5' },
    ]);
  });
});

describe('A probe capturing a let above its declaration', () => {
  it('says what the name may be, not a bare ReferenceError', async () => {
    const { t } = await attached('tdz.cjs');
    const probe = await t.tracer.traceLine({ file: join(FIXTURES, 'tdz.cjs'), line: 4, capture: ['total', 'items'], limits: DEFAULT_PROBE_LIMITS });
    const hit = await eventually(() => {
      t.tracer.ingest.flush();
      return events(t.store, "type = 'probe' AND subtype = 'hit'")[0];
    }, 'a hit');
    expect([hit.payload.probe, hit.payload.values, hit.payload.errors]).toEqual([
      probe.id,
      { items: [1, 2] },
      { total: 'total is not defined at this line: declared further down, misspelt, or an outer variable this function does not use (V8 keeps only those)' },
    ]);
  });
});
