// A TypeScript module run with tsx as CommonJS: esbuild compiles its exports to getters that read the
// module's bindings (`convert: () => convert`), which no wrapper can replace. Two cases the tsx test
// (tsx.test.ts) leaves out: a module required only after its trace started (a lazy require), and an export
// that is an arrow function held in a const (`export const convert = (…) => …`), whose binding refuses an
// assignment. Both are recorded whole, under the export's name, on every Node. The same const arrow in an ES
// module (tsx keeps `const convert = __name((…) => …, "convert")` there, exported by name) is traced too.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { inspectorUrl, listeningPorts } from '../../src/trace/discovery.js';
import { attached, eventually, events, FIXTURES, newTracer } from '../helpers.js';
import { nodeTargets } from '../targets/index.js';

const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };
const module = 'test/fixtures/tsx_lazy/cjs/rates.ts';
const resolved = join(FIXTURES, 'tsx_lazy', 'cjs', 'rates.ts');

const calls = (t: Parameters<typeof events>[0]) => events(t, "type = 'call'").map((e) => [e.payload.module, e.subtype, e.payload.fn, e.subtype === 'call' ? e.payload.args : e.payload.result, e.payload.via ?? null]);
const converted = [
  [module, 'call', 'convert', [100, 'USD'], null],
  [module, 'return', 'convert', 110, null],
  [module, 'call', 'format', [110, 'USD'], null],
  [module, 'return', 'format', '1.10 USD', null],
  [module, 'call', 'convert', [200, 'GBP'], null],
  [module, 'return', 'convert', 170, null],
  [module, 'call', 'format', [170, 'GBP'], null],
  [module, 'return', 'format', '1.70 GBP', null],
];

describe.each(nodeTargets().map((n) => [n.major, n.bin]))('tsx CommonJS getters on Node %s', (_major, node) => {
  const start = () => attached('tsx_lazy/cjs/app.ts', { node, execArgv: ['--import', 'tsx'] });
  const convert = async (app: Awaited<ReturnType<typeof start>>['app']) => {
    app.send('convert 100 USD');
    await app.nextLine(/^converted/);
    app.send('convert 200 GBP');
    await app.nextLine(/^converted/);
  };
  /** Once untraced, a call is no longer recorded, and the program's output is its own. */
  const untracedRecordsNoMore = async ({ app, t }: Awaited<ReturnType<typeof start>>): Promise<void> => {
    await t.tracer.untraceModule(module);
    app.send('convert 300 EUR');
    await app.nextLine(/^converted/);
    await t.tracer.sync();
    expect(calls(t.store)).toHaveLength(converted.length);
    expect(app.stdout()).toBe('ready\nloaded\nconverted 1.10 USD\nconverted 1.70 GBP\nconverted 3.00 EUR\n');
  };

  it('traces a module required after its trace started, its const arrow too; stopped, records nothing more', async () => {
    const { app, t } = await start();
    const [report] = await t.tracer.traceModule({ module, ...limits });
    expect(report!.value).toMatchObject({ status: 'pending', resolved });
    app.send('load');
    await app.nextLine(/^loaded/);
    await convert(app);
    await t.tracer.sync();
    expect(calls(t.store)).toEqual(converted);
    const [trace] = await t.tracer.traces();
    expect(trace!.value).toMatchObject({ status: 'traced', via: 'wrappers', functions: ['convert', 'format'], calls: 4 });
    await untracedRecordsNoMore({ app, t });
  });

  it('traces it again in a later session, whose bindings hold the wrappers an ended session left', async () => {
    const { app, t } = await start();
    app.send('load');
    await app.nextLine(/^loaded/);
    await t.tracer.traceModule({ module, ...limits });
    await t.tracer.close();
    // The inspector port the first session opened closes a moment after it detached.
    await eventually(() => listeningPorts(app.pid).length === 0, 'the first session to close its port');
    const later = newTracer();
    try {
      await later.tracer.attach(app.pid);
      const [report] = await later.tracer.traceModule({ module, ...limits });
      expect(report!.value).toMatchObject({ status: 'traced', via: 'wrappers', functions: ['convert', 'format'] });
      await convert(app);
      await later.tracer.sync();
      expect(calls(later.store)).toEqual(converted);
    } finally {
      await later.tracer.close();
    }
    expect(app.stdout()).toBe('ready\nloaded\nconverted 1.10 USD\nconverted 1.70 GBP\n');
  });

  it('traces an exported const arrow of a loaded module under its name, every call whole', async () => {
    const { app, t } = await start();
    app.send('load');
    await app.nextLine(/^loaded/);
    const [report] = await t.tracer.traceModule({ module, ...limits });
    expect(report!.value).toMatchObject({ status: 'traced', via: 'wrappers', resolved, functions: ['convert', 'format'] });
    await convert(app);
    await t.tracer.sync();
    expect(calls(t.store)).toEqual(converted);
    await untracedRecordsNoMore({ app, t });
  });
});

describe.each(nodeTargets().map((n) => [n.major, n.bin]))('tsx ES module on Node %s', (major, node) => {
  it('traces its exported const arrow under its name', async () => {
    const { app, t } = await attached('tsx_lazy/esm/app.ts', { node, execArgv: ['--import', 'tsx'] });
    const esm = 'test/fixtures/tsx_lazy/esm/rates.ts';
    const [report] = await t.tracer.traceModule({ module: esm, ...limits });
    expect(report!.value).toMatchObject({ status: 'traced', functions: expect.arrayContaining(['convert', 'format']) });
    for (let i = 0; i < 2; i++) {
      app.send('convert 100 USD');
      await app.nextLine(/^converted/);
    }
    await t.tracer.sync();
    // Where V8 live-edits (Node 20-24), both are instrumented in place: every call whole. Node 26 has no live
    // edit: every call of convert by a conditional breakpoint (arguments only, its binding a const), and the
    // first call of format by a breakpoint that puts a wrapper in its binding.
    const whole = [
      [esm, 'call', 'convert', [100, 'USD'], null],
      [esm, 'return', 'convert', 110, null],
      [esm, 'call', 'format', [110, 'USD'], null],
      [esm, 'return', 'format', '1.10 USD', null],
    ];
    const byBreakpoint = [esm, 'call', 'convert', [100, 'USD'], 'breakpoint'];
    const on26 = [byBreakpoint, [esm, 'call', 'format', [110, 'USD'], 'breakpoint'], byBreakpoint, ...whole.slice(2)];
    expect(calls(t.store)).toEqual(major === '26' ? on26 : [...whole, ...whole]);
    expect(app.stdout()).toBe('ready\nconverted 1.10 USD\nconverted 1.10 USD\n');
  });
});

/**
 * Another client on the target's inspector (a debugger front end), asking an evaluation every millisecond
 * (up to 100 unanswered): its messages keep arriving while nodescope's own evaluations run.
 */
async function busyClient(pid: number): Promise<{ close(): void; answers(): number }> {
  const ws = new WebSocket(await inspectorUrl('127.0.0.1', listeningPorts(pid)[0]!));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let [asked, answers] = [0, 0];
  ws.on('message', () => answers++);
  const asking = setInterval(() => {
    if (asked - answers < 100) ws.send(JSON.stringify({ id: ++asked, method: 'Runtime.evaluate', params: { expression: '0' } }));
  }, 1);
  return {
    close: () => {
      clearInterval(asking);
      ws.close();
    },
    answers: () => answers,
  };
}

describe.each(nodeTargets().map((n) => [n.major, n.bin]))('tsx getters on Node %s, the program held', (_major, node) => {
  // Putting a wrapper in a const binding takes one pause of the thread in the getter, ended in a few round
  // trips (0.05-0.2 s measured, under load). A pause that began inside an evaluation of the inspector's
  // (nodescope reading the exports) after a message came in never ended: Node's inspector waits for an
  // interrupt to dispatch that message, and none comes; the program stood still for good (its timer late by
  // the whole test), and close() waited on it. The bound is the fixture's own: its timer's greatest lateness.
  const BOUND_MS = 2_000;
  const rates = 'test/fixtures/tsx_pause/rates.ts';
  it(`is never held ${BOUND_MS} ms by a trace of its getters, with another client asking all along; it runs on after close`, async () => {
    const { app, t } = await attached('tsx_pause/app.ts', { node, execArgv: ['--import', 'tsx'] });
    const other = await busyClient(app.pid);
    try {
      app.send('late');
      await app.nextLine(/^late/);
      const [report] = await t.tracer.traceModule({ module: rates, ...limits });
      expect(report!.value).toMatchObject({ status: 'traced', via: 'wrappers', functions: ['convert', 'format'] });
      app.send('convert 100 USD');
      await app.nextLine(/^converted/);
      await t.tracer.sync();
      expect(calls(t.store)).toEqual(converted.slice(0, 4).map(([, ...rest]) => [rates, ...rest]));
      expect(other.answers()).toBeGreaterThan(0);
      await t.tracer.close();
      app.send('late');
      const late = Number((await app.nextLine(/^late/)).split(' ')[1]);
      expect(late).toBeLessThan(BOUND_MS);
      app.send('convert 200 GBP');
      expect(await app.nextLine(/^converted/)).toBe('converted 1.70 GBP');
    } finally {
      other.close();
    }
  });
});
