// Programs launched as a person launches them: `launch` with trace_modules named as they say it
// (src/price.ts, relative to the program's folder), and a script that stops nodescope while the program runs.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { setup } from '../../src/api.js';
import { resolveConfig } from '../../src/config.js';
import { Session } from '../../src/session.js';
import { callTool } from '../../src/server.js';
import { get_function_calls } from '../../src/tools/get_function_calls.js';
import { get_supervision_tree } from '../../src/tools/get_supervision_tree.js';
import { trace_module } from '../../src/tools/trace_module.js';
import { eventually, events, FIXTURES, newTracer } from '../helpers.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { nodeTarget } from '../targets/index.js';
import { DEFAULT_PROBE_LIMITS } from '../../src/trace/probes.js';

const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };
const APP = join(FIXTURES, 'launched_ts');

const launched: Tracer[] = [];
afterEach(async () => {
  for (const t of launched.splice(0)) await t.close();
});

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe.each(['22', '24', '26'])('A TypeScript program launched on Node %s', (major) => {
  it('traces trace_modules "src/price.ts" (a path from its working directory, no ./) from its first line', async () => {
    const t = newTracer();
    launched.push(t.tracer);
    await t.tracer.traceModule({ module: 'src/price.ts', ...limits });
    const link = await t.tracer.launch([nodeTarget(major).bin, 'src/app.ts', '3'], { cwd: APP });
    await eventually(() => {
      t.tracer.ingest.flush();
      return t.store.actor(String(link.pid))?.ended_ms != null;
    }, 'the program to end');
    const calls = events(t.store, "type = 'call'").map((e) => [e.subtype, e.payload.fn, e.payload.module]);
    const quoted = (code: 'HALF' | 'none' | 'BAD') => [
      ['call', 'quote', 'src/price.ts'],
      ['call', 'lineTotal', 'src/price.ts'],
      ['return', 'lineTotal', 'src/price.ts'],
      ['call', 'lineTotal', 'src/price.ts'],
      ['return', 'lineTotal', 'src/price.ts'],
      ['call', 'discount', 'src/price.ts'],
      [code === 'BAD' ? 'throw' : 'return', 'discount', 'src/price.ts'],
      [code === 'BAD' ? 'throw' : 'return', 'quote', 'src/price.ts'],
    ];
    expect(calls).toEqual([...quoted('HALF'), ...quoted('none'), ...quoted('BAD')]);
  });
});

describe('A second program launched in a session with trace_modules', () => {
  it("traces its module, named as in its own folder, though the program already traced loaded none of that name", async () => {
    const session = new Session({ config: resolveConfig({}, {}) });
    try {
      const first = await session.launch([process.execPath, join(FIXTURES, 'pool/app.cjs')]);
      const second = await session.launch([nodeTarget('24').bin, 'src/app.ts', '1'], { cwd: APP, traceModules: ['src/price.ts'] });
      expect(second.pid).not.toBe(first.pid);
      const calls = await eventually(async () => {
        const r = await callTool(get_function_calls, { module_name: 'src/price.ts', pid_string: String(second.pid) }, session);
        const found = ((r.structuredContent as { calls?: { fn: string }[] } | undefined)?.calls ?? []).map((c) => c.fn);
        return found.length >= 4 && found;
      }, 'the calls of the second program');
      expect(calls).toEqual(['quote', 'lineTotal', 'lineTotal', 'discount']);
    } finally {
      await session.dispose();
    }
  });
});

describe('trace_module once every program of the session has ended', () => {
  it('is kept for the next program launched, and says so', async () => {
    const session = new Session({ config: resolveConfig({}, {}) });
    const quotes = async (pid: number) => {
      const r = await callTool(get_function_calls, { module_name: 'src/price.ts', pid_string: String(pid) }, session);
      return ((r.structuredContent as { calls?: { fn: string }[] } | undefined)?.calls ?? []).map((c) => c.fn);
    };
    try {
      const first = await session.launch([nodeTarget('24').bin, 'src/app.ts', '1'], { cwd: APP });
      await eventually(async () => ((await callTool(get_supervision_tree, {}, session)).content[0] as { text: string }).text.match(new RegExp(`^${first.pid} process .* — exited`, "m")), 'the first program to end');
      const traced = await callTool(trace_module, { module_name: 'src/price.ts' }, session);
      const text = (traced.content[0] as { text: string }).text;
      expect(traced.isError, text).toBeFalsy();
      expect(text).toContain('- no thread is running now: traced in the processes and threads launched or attached later');
      const second = await session.launch([nodeTarget('24').bin, 'src/app.ts', '1'], { cwd: APP });
      expect(await eventually(async () => ((await quotes(second.pid)).length >= 4 ? quotes(second.pid) : undefined), 'the second program\'s calls')).toEqual(['quote', 'lineTotal', 'lineTotal', 'discount']);
    } finally {
      await session.dispose();
    }
  });
});

describe.each(['22', '24', '26'])('A program launched with two ES modules to trace on Node %s', (major) => {
  it('runs to its end, its modules traced from the first line', async () => {
    const t = newTracer();
    launched.push(t.tracer);
    for (const module of ['src/app.ts', 'src/price.ts']) await t.tracer.traceModule({ module, ...limits });
    const link = await t.tracer.launch([nodeTarget(major).bin, 'src/app.ts', '3'], { cwd: APP });
    const ended = await eventually(() => {
      t.tracer.ingest.flush();
      const actor = t.store.actor(String(link.pid));
      return actor?.ended_ms != null && actor;
    }, 'the program to end');
    expect(ended.exit_code).toBe(0);
    expect(events(t.store, "type = 'log'").map((e) => e.payload.text)).toEqual(['round 0 quote 8.5', 'round 1 quote 17', 'round 2 failed: unknown code BAD']);
    // app.ts exports no function: its own one, the timer's promise executor, is traced each round too.
    expect(events(t.store, "type = 'call' AND subtype = 'call'").map((e) => e.payload.fn)).toEqual(Array(3).fill(['quote', 'lineTotal', 'lineTotal', 'discount', 'Promise callback']).flat());
  });
});

describe.each(['22', '24', '26'])('A worker pool launched on Node %s while an ES-module trace waits', (major) => {
  it('runs its workers: each new worker is let go past the pause on its first line', async () => {
    const t = newTracer();
    launched.push(t.tracer);
    // A module traced earlier in the session, in another program: every thread of the next program waits
    // for it too, the pool's workers among them.
    const first = await t.tracer.launch([nodeTarget(major).bin, 'src/app.ts', '100000'], { cwd: APP });
    await t.tracer.traceModule({ module: 'src/price.ts', ...limits });
    process.kill(first.pid);
    const link = await t.tracer.launch([nodeTarget(major).bin, join(FIXTURES, 'pool/app.cjs')]);
    await eventually(() => {
      t.tracer.ingest.flush();
      return events(t.store, "type = 'log' AND json_extract(payload, '$.text') = 'ready'").length === 1;
    }, `the pool of ${link.pid} to answer its first task`);
  });
});

/** The calls recorded, as [thread, kind, function, arguments | result | error message]. */
const poolCalls = (store: Parameters<typeof events>[0]) =>
  events(store, "type = 'call'").map((e) => [e.actor, e.subtype, e.payload.fn, e.payload.args ?? e.payload.result ?? e.payload.error.message]);
/** The pool fixtures' three tasks (test/fixtures/pool/task.cjs), run in thread `w1`. */
const threeTasks = (w1: string) => [
  [w1, 'call', 'price', [{ sku: 'a', qty: 1 }]],
  [w1, 'return', 'price', { sku: 'a', total: 2.5 }],
  [w1, 'call', 'price', [{ sku: 'b', qty: 0 }]],
  [w1, 'throw', 'price', 'bad quantity 0'],
  [w1, 'call', 'price', [{ sku: 'c', qty: 2 }]],
  [w1, 'return', 'price', { sku: 'c', total: 5 }],
];

describe.each(['22', '24', '26'])('A worker pool launched on Node %s with its task module traced from the start', (major) => {
  it('records the calls of the task function that is module.exports itself, in the pool\'s thread', async () => {
    const t = newTracer();
    launched.push(t.tracer);
    await t.tracer.traceModule({ module: 'task.cjs', ...limits });
    const link = await t.tracer.launch([nodeTarget(major).bin, 'lazy_require.cjs'], { cwd: join(FIXTURES, 'pool') });
    await eventually(() => {
      t.tracer.ingest.flush();
      return events(t.store, "type = 'log' AND json_extract(payload, '$.text') = '2.5,bad quantity 0,5'").length === 1;
    }, 'the batch');
    await t.tracer.sync();
    expect(poolCalls(t.store)).toEqual(threeTasks(`${link.pid}/w1`));
  });
});

describe.each(['22', '24', '26'])('A Piscina pool launched on Node %s and destroyed after its tasks', (major) => {
  it('hands over its thread\'s calls before the thread blocks in Atomics.wait, where the pool ends it', async () => {
    const t = newTracer();
    launched.push(t.tracer);
    await t.tracer.traceModule({ module: 'task.cjs', ...limits });
    const link = await t.tracer.launch([nodeTarget(major).bin, 'destroy.cjs'], { cwd: join(FIXTURES, 'pool') });
    const w1 = `${link.pid}/w1`;
    await eventually(() => {
      t.tracer.ingest.flush();
      return t.store.actor(w1)?.ended_ms != null && events(t.store, "type = 'log' AND json_extract(payload, '$.text') = '2.5,bad quantity 0,5'").length === 1;
    }, 'the batch and the end of the pool');
    await t.tracer.sync();
    // The warm-up of the thread calls nothing: three tasks, three calls.
    expect(poolCalls(t.store)).toEqual(threeTasks(w1));
  });
});

describe.each(['22', '24', '26'])('A program launched on Node %s while a probe is set and an ES-module trace waits', (major) => {
  it('runs: the thread is armed for the module only when it is let go', async () => {
    const t = newTracer();
    launched.push(t.tracer);
    // Both set on an earlier program of the session; each new thread gets them.
    const first = await t.tracer.launch([nodeTarget(major).bin, 'src/app.ts', '100000'], { cwd: APP });
    await t.tracer.traceLine({ file: 'src/app.ts', line: 13, limits: DEFAULT_PROBE_LIMITS });
    await t.tracer.traceModule({ module: 'src/price.ts', ...limits });
    process.kill(first.pid);
    await eventually(() => gone(first.pid), 'the first program to end');
    t.store.db.prepare('DELETE FROM events').run();
    const link = await t.tracer.launch([nodeTarget(major).bin, 'src/app.ts', '3'], { cwd: APP });
    await eventually(() => {
      t.tracer.ingest.flush();
      return t.store.actor(String(link.pid))?.ended_ms != null;
    }, 'the program to end');
    expect(events(t.store, "type = 'log'").map((e) => e.payload.text)).toEqual(['round 0 quote 8.5', 'round 1 quote 17', 'round 2 failed: unknown code BAD']);
    expect(events(t.store, "type = 'call' AND subtype = 'call'").map((e) => e.payload.fn)).toEqual(Array(3).fill(['quote', 'lineTotal', 'lineTotal', 'discount']).flat());
    expect(events(t.store, "type = 'probe' AND subtype = 'hit'").map((e) => e.payload.locals.i)).toEqual([0, 1, 2]);
  });
});

describe.each(['22', '24', '26'])('node --test launched on Node %s', (major) => {
  it('records what the tests printed in the test file\'s process, not the runner\'s serialized reports', async () => {
    const t = newTracer();
    launched.push(t.tracer);
    // The runner itself has no inspector (Node starts it without one): the launch answers its child.
    const link = await t.tracer.launch([nodeTarget(major).bin, '--test', 'calc.test.mjs'], { cwd: join(FIXTURES, 'node_test') });
    const ended = await eventually(() => {
      t.tracer.ingest.flush();
      const actor = t.store.actor(String(link.pid));
      return actor?.ended_ms != null && actor;
    }, 'the test file to end');
    expect(ended.exit_code).toBe(1);
    expect(events(t.store, "type = 'log'").map((e) => [e.actor, e.payload.stream, e.payload.text])).toEqual([
      [String(link.pid), 'stdout', 'totalling [1,2]'],
      [String(link.pid), 'stdout', 'totalling []'],
    ]);
  });
});

describe('A script using the package API', () => {
  it('stops while its launched program runs, and the program is ended without an error in the script', async () => {
    const scope = await setup({ launch: [nodeTarget('24').bin, 'src/app.ts', '100000'], cwd: APP });
    const tree = (await scope.call('get_supervision_tree')) as { tree: { pid: number }[] };
    const pid = tree.tree[0]!.pid;
    await scope.stop();
    // Reaped by this process once its exit event has run: an error thrown there would fail this file.
    await eventually(() => gone(pid), 'the launched program to end');
    await new Promise((r) => setImmediate(r));
  });
});
