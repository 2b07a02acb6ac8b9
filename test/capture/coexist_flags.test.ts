// Node's own diagnostics flags on a target nodescope attaches to or launches: --cpu-prof still writes its
// profile at exit and the exit code stays the program's; --heapsnapshot-signal keeps writing snapshots on its
// signal while nodescope records; and a process that takes SIGUSR1 for heap snapshots is never sent one
// (it would pause to write a snapshot, and open no inspector).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listeningPorts } from '../../src/trace/discovery.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { eventually, events, FIXTURES, newTracer, startFixture, tempDir } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';
import { traceWork, WORK, workRecorded } from './coexist_work.js';


let tracer: Tracer | undefined;
afterEach(async () => {
  await tracer?.close();
  tracer = undefined;
});

function traced() {
  const t = newTracer();
  tracer = t.tracer;
  return t;
}

/** The exit codes recorded, once there is one. */
const exitCodes = (t: ReturnType<typeof traced>) =>
  eventually(() => {
    t.tracer.ingest.flush();
    const exits = events(t.store, "type = 'process' AND subtype = 'exit'");
    return exits.length > 0 && exits.map((e) => e.payload.code);
  }, 'the exit');

/** The one V8 CPU profile in `dir`, parsed. */
function profileIn(dir: string): { nodes: { callFrame: { functionName: string } }[] } {
  const files = readdirSync(dir);
  expect(files).toEqual([expect.stringMatching(/^CPU\..*\.cpuprofile$/)]);
  return JSON.parse(readFileSync(join(dir, files[0]!), 'utf8'));
}

describe.each(['20', '24'])('Node diagnostics flags, Node %s target', (major) => {
  const node = () => nodeTarget(major).bin;

  it('--cpu-prof, attached: the profile is written at exit, with the exit code the program chose', async () => {
    const dir = tempDir();
    const app = startFixture('coexist/inspected.cjs', [], { node: node(), execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    await app.line(/^ready/);
    const t = traced();
    await t.tracer.attach(app.pid);
    await traceWork(t.tracer);
    await workRecorded(t, app);
    app.send('exit 3');
    expect(await app.exited).toEqual({ code: 3, signal: null });
    expect(profileIn(dir).nodes[0]!.callFrame.functionName).toBe('(root)');
    expect(await exitCodes(t)).toEqual([3]);
    expect(app.stdout()).toBe('ready\ntotal 6\n');
  });

  it('--cpu-prof, launched: the profile is written at exit, with the exit code the program chose', async () => {
    const dir = tempDir();
    const t = traced();
    await t.tracer.launch([node(), '--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', `require(${JSON.stringify(WORK)}).total([1]); setTimeout(() => process.exit(3), 50)`]);
    expect(await exitCodes(t)).toEqual([3]);
    await eventually(() => readdirSync(dir).length > 0, 'the profile');
    expect(profileIn(dir).nodes[0]!.callFrame.functionName).toBe('(root)');
  });

  it('--heapsnapshot-signal=SIGUSR2: snapshots still come on the signal while nodescope records, and nothing is left after detach', async () => {
    const dir = tempDir();
    const app = startFixture('coexist/inspected.cjs', [], { node: node(), execArgv: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] });
    await app.line(/^ready/);
    const t = traced();
    await t.tracer.attach(app.pid);
    await traceWork(t.tracer);
    process.kill(app.pid, 'SIGUSR2');
    await eventually(() => readdirSync(dir).some((f) => /^Heap\..*\.heapsnapshot$/.test(f)), 'the heap snapshot');
    await workRecorded(t, app);
    await t.tracer.detach();
    await eventually(() => listeningPorts(app.pid).length === 0, 'the inspector port nodescope opened closed');
    app.send('work');
    await app.nextLine(/^total 6$/);
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/^Heap\..*\.heapsnapshot$/)]);
    expect(app.stdout()).toBe('ready\ntotal 6\ntotal 6\n');
  });

  it('--heapsnapshot-signal=SIGUSR1: attach by pid sends no signal and says why', async () => {
    const dir = tempDir();
    const app = startFixture('coexist/inspected.cjs', [], { node: node(), execArgv: ['--heapsnapshot-signal=SIGUSR1', `--diagnostic-dir=${dir}`] });
    await app.line(/^ready/);
    const t = traced();
    await expect(t.tracer.attach(app.pid)).rejects.toThrow(`pid ${app.pid} writes a heap snapshot on SIGUSR1 (--heapsnapshot-signal=SIGUSR1): not signalled`);
    app.send('work');
    await app.line(/^total 6$/);
    expect([readdirSync(dir), listeningPorts(app.pid)]).toEqual([[], []]);
  });

  /** The app with source maps on, traced at pricing.js (esbuild's output: its exports are getters); answers `stack()`, the stack it prints. */
  async function tracedPricing() {
    const app = startFixture('coexist/maps/app.cjs', [], { node: node(), execArgv: ['--enable-source-maps'] });
    await app.line(/^ready/);
    const stack = async () => {
      const line = app.nextLine(/^stack /);
      app.send('fail');
      return JSON.parse((await line).slice(6)) as string[];
    };
    const before = await stack();
    expect(before.slice(0, 2)).toEqual(['RangeError: bad quantity 0 for jam', '    at Object.price (<dir>/pricing.ts:11:30)']);
    const t = traced();
    await t.tracer.attach(app.pid);
    await t.tracer.traceModule({ module: join(FIXTURES, 'coexist', 'maps', 'pricing.js'), maxCalls: 100, maxPerSecond: 100, durationMs: 60_000 });
    app.send('price');
    await app.line(/^total 6$/);
    return { app, t, stack, before };
  }

  it('--enable-source-maps: the stack the program prints still names its TypeScript line where it threw, and the throw is recorded', async () => {
    const { t, stack, before } = await tracedPricing();
    // Traced through wrappers (the exports are getters): the wrapper's own frames are left out of the stack
    // where the error leaves it (src/agent/stacks.ts), so the program prints what it printed untraced.
    expect(await stack()).toEqual(before);
    const recorded = await eventually(() => {
      t.tracer.ingest.flush();
      const c = events(t.store, "type = 'call'");
      return c.length === 4 && c;
    }, 'four call events');
    expect(recorded.map((e) => `${e.subtype} ${e.payload.fn}`)).toEqual(['call price', 'return price', 'call price', 'throw price']);
    expect(recorded[3]!.payload.error).toMatchObject({ class: 'RangeError', message: 'bad quantity 0 for jam' });
  });

  // The wrapper went into the function's binding (which an esbuild getter reads): detach puts the function back.
  it('--enable-source-maps: after detach the stack the program prints is the one it printed before', async () => {
    const { app, t, stack, before } = await tracedPricing();
    await t.tracer.detach();
    await eventually(() => listeningPorts(app.pid).length === 0, 'the inspector port nodescope opened closed');
    expect(await stack()).toEqual(before);
  });

  it('--enable-source-maps: after untrace_module the stack the program prints is the one it printed before', async () => {
    const { t, stack, before } = await tracedPricing();
    await t.tracer.untraceModule(join(FIXTURES, 'coexist', 'maps', 'pricing.js'));
    expect(await stack()).toEqual(before);
  });
});
