// A loaded CommonJS module whose functions the program took references to before the trace (a destructured
// require): Node 20–24 instrument them in place (live edit), so every call is recorded whole; Node 26's V8
// has no live edit, so the exports get wrappers (calls through them recorded whole) and each function a
// breakpoint for the calls that come through older references (arguments only), never recording a call twice.
import { describe, expect, it } from 'vitest';
import { nodeTarget } from '../targets/index.js';
import { attached, events } from '../helpers.js';

const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };

describe.each([
  ['24', 'live-edit'],
  ['26', 'wrappers'],
])('a destructured require of a loaded CommonJS module, Node %s', (major, via) => {
  it('records every call, through the references and through the exports, once each; the program sees the same', async () => {
    const { app, t } = await attached('destructured/app.cjs', { node: nodeTarget(major).bin });
    const [report] = await t.tracer.traceModule({ module: './test/fixtures/destructured/prices.cjs', ...limits });
    expect(report!.value).toMatchObject({ status: 'traced', via, functions: ['quote', 'tax'] });
    if (major === '26') expect(report!.value.note).toContain('quote, tax wrapped on the exports (');
    if (major === '26') expect(report!.value.note).toContain('calls through references taken before tracing are recorded by a breakpoint in each (arguments only');
    for (const n of [1, 2]) {
      app.send(`run ${n}`);
      expect(await app.nextLine(/^done /)).toBe(`done ${n} ${n * 3} ${n * 3} ${(n * 3) / 10} quote/2`);
    }
    await t.tracer.sync();
    const calls = events(t.store, "type = 'call' AND subtype = 'call'").map((e) => [e.payload.fn, e.payload.args]);
    expect(calls).toEqual([
      ['quote', ['a1', 1]],
      ['quote', ['b1', 1]],
      ['tax', [3]],
      ['quote', ['a2', 2]],
      ['quote', ['b2', 2]],
      ['tax', [6]],
    ]);
    // Through the exports, results too; through a reference taken before, on Node 26 only the arguments.
    const results = events(t.store, "type = 'call' AND subtype = 'return'").map((e) => [e.payload.fn, e.payload.result]);
    expect(results).toEqual(
      major === '26'
        ? [['quote', { sku: 'b1', amount: 3 }], ['tax', 0.3], ['quote', { sku: 'b2', amount: 6 }], ['tax', 0.6]]
        : [['quote', { sku: 'a1', amount: 3 }], ['quote', { sku: 'b1', amount: 3 }], ['tax', 0.3], ['quote', { sku: 'a2', amount: 6 }], ['quote', { sku: 'b2', amount: 6 }], ['tax', 0.6]],
    );
    // Untraced: wrappers and breakpoints gone, the program as it was.
    await t.tracer.untraceModule('./test/fixtures/destructured/prices.cjs');
    app.send('run 3');
    expect(await app.nextLine(/^done /)).toBe('done 3 9 9 0.9 quote/2');
    await t.tracer.sync();
    expect(events(t.store, "type = 'call'").length).toBe(major === '26' ? 10 : 12);
  });
});
