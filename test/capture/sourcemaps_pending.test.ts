// A TypeScript app compiled by tsc with source maps (test/fixtures/tsc_lazy: dist/*.js + .map committed next
// to src/*.ts), whose rates module is required only later. trace_module named by its TypeScript source
// before then waits for the JavaScript file the source compiles to (the loaded files' maps say where:
// src/app.ts → dist/app.js puts src/rates.ts at dist/rates.js) and traces it when it loads. Named before a
// launch, when nothing is loaded yet, the main script's map says where.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Tracer } from '../../src/trace/tracer.js';
import { Query } from '../../src/query/index.js';
import { paging } from '../../src/query/page.js';
import { attached, eventually, events, FIXTURES, newTracer } from '../helpers.js';
import { nodeTargets } from '../targets/index.js';

const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };
const label = 'test/fixtures/tsc_lazy/src/rates.ts';

describe.each(nodeTargets().map((n) => [n.major, n.bin]))('a tsc app on Node %s', (_major, node) => {
  it.each(['src/rates.ts', label])('traces %s, named before its compiled file loads, when it loads', async (name) => {
    const { app, t } = await attached('tsc_lazy/dist/app.js', { node });
    const [report] = await t.tracer.traceModule({ module: name, ...limits });
    expect(report!.value).toMatchObject({ status: 'pending', module: label, resolved: join(FIXTURES, 'tsc_lazy/dist/rates.js') });
    app.send('load');
    await app.nextLine(/^loaded/);
    app.send('convert 100 USD');
    await app.nextLine(/^converted/);
    await t.tracer.sync();
    const calls = events(t.store, "type = 'call'").map((e) => [e.payload.module, e.subtype, e.payload.fn, e.subtype === 'call' ? e.payload.args : e.payload.result]);
    expect(calls).toEqual([
      [label, 'call', 'convert', [100, 'USD']],
      [label, 'return', 'convert', 110],
      [label, 'call', 'format', [110, 'USD']],
      [label, 'return', 'format', '1.10 USD'],
    ]);
    // Asked for by the name it was traced by.
    const q = new Query(t.store);
    expect(q.functionCalls({ module: name, fn: 'convert', window: { sinceMs: null, untilMs: null } }, paging(1, 10)).calls).toHaveLength(1);
    expect(app.stdout()).toBe('ready\nloaded\nconverted 1.10 USD\n');
  });
});

const launched: Tracer[] = [];
afterEach(async () => {
  for (const t of launched.splice(0)) await t.close();
});

describe.each(nodeTargets().map((n) => [n.major, n.bin]))('a tsc app launched on Node %s', (_major, node) => {
  it('traces src/rates.ts, named before the launch, when its compiled file loads', async () => {
    const t = newTracer();
    launched.push(t.tracer);
    await t.tracer.traceModule({ module: 'src/rates.ts', ...limits });
    const link = await t.tracer.launch([node, 'dist/app.js', 'load', 'convert 100 USD'], { cwd: join(FIXTURES, 'tsc_lazy') });
    await eventually(() => {
      t.tracer.ingest.flush();
      return t.store.actor(String(link.pid))?.ended_ms != null;
    }, 'the program to end');
    const calls = events(t.store, "type = 'call'").map((e) => [e.payload.module, e.subtype, e.payload.fn, e.subtype === 'call' ? e.payload.args : e.payload.result]);
    expect(calls).toEqual([
      ['src/rates.ts', 'call', 'convert', [100, 'USD']],
      ['src/rates.ts', 'return', 'convert', 110],
      ['src/rates.ts', 'call', 'format', [110, 'USD']],
      ['src/rates.ts', 'return', 'format', '1.10 USD'],
    ]);
  });
});
