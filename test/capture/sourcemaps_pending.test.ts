// A TypeScript app compiled by tsc with source maps (test/fixtures/tsc_lazy: dist/*.js + .map committed next
// to src/*.ts), whose rates module is required only later. trace_module named by its TypeScript source
// before then waits for the JavaScript file the source compiles to (the loaded files' maps say where:
// src/app.ts → dist/app.js puts src/rates.ts at dist/rates.js) and traces it when it loads.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Query } from '../../src/query/index.js';
import { paging } from '../../src/query/page.js';
import { attached, events, FIXTURES } from '../helpers.js';
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
