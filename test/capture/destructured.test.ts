// A loaded CommonJS module whose functions the program took references to before the trace (a destructured
// require), traced through the tools as a user does: Node 20–24 instrument them in place (live edit), so every
// call is recorded whole; Node 26's V8 has no live edit, so the exports get wrappers (calls through them
// recorded whole) and each function a breakpoint for the calls that come through older references (arguments
// only), never recording a call twice — and trace_module's answer says so (it said those calls are missed).
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { get_execution_path } from '../../src/tools/get_execution_path.js';
import { get_function_calls } from '../../src/tools/get_function_calls.js';
import { trace_module } from '../../src/tools/trace_module.js';
import { untrace } from '../../src/tools/untrace.js';
import { events, startFixture } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

const text = (r: { content: unknown }) => (r.content as { text: string }[]).map((c) => c.text).join('\n');

describe.each([
  ['24', 'quote, tax instrumented in place'],
  ['26', 'quote, tax wrapped on the exports ('],
])('a destructured require of a loaded CommonJS module, Node %s', (major, how) => {
  it('records every call, through the references and through the exports, once each; the program sees the same', async () => {
    const app = startFixture('destructured/app.cjs', [], { node: nodeTarget(major).bin });
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({}, {}) });
    await session.attach(String(app.pid));
    const traced = text(await callTool(trace_module, { module_name: './test/fixtures/destructured/prices.cjs' }, session));
    const line = traced.split('\n')[1]!;
    expect(line).toContain(`- ${app.pid}: ${how}`);
    if (major === '26') expect(line).toContain('calls through references taken before tracing are recorded by a breakpoint in each (arguments only');
    expect(traced).not.toContain('miss');
    for (const n of [1, 2]) {
      app.send(`run ${n}`);
      expect(await app.nextLine(/^done /)).toBe(`done ${n} ${n * 3} ${n * 3} ${(n * 3) / 10} quote/2`);
    }
    await session.sync();
    const calls = events(session.store, "type = 'call' AND subtype = 'call'").map((e) => [e.payload.fn, e.payload.args]);
    expect(calls).toEqual([
      ['quote', ['a1', 1]],
      ['quote', ['b1', 1]],
      ['tax', [3]],
      ['quote', ['a2', 2]],
      ['quote', ['b2', 2]],
      ['tax', [6]],
    ]);
    // Through the exports, results too; through a reference taken before, on Node 26 only the arguments.
    const results = events(session.store, "type = 'call' AND subtype = 'return'").map((e) => [e.payload.fn, e.payload.result]);
    expect(results).toEqual(
      major === '26'
        ? [['quote', { sku: 'b1', amount: 3 }], ['tax', 0.3], ['quote', { sku: 'b2', amount: 6 }], ['tax', 0.6]]
        : [['quote', { sku: 'a1', amount: 3 }], ['quote', { sku: 'b1', amount: 3 }], ['tax', 0.3], ['quote', { sku: 'a2', amount: 6 }], ['quote', { sku: 'b2', amount: 6 }], ['tax', 0.6]],
    );
    // The answers a user reads: a breakpoint's call is said to be arguments only, not a call that never returned.
    const byReference = (args: string, result: string) =>
      major === '26' ? `quote(${args}) — arguments only (recorded by a breakpoint, which sees no return)` : `quote(${args}) → ${result}`;
    const listed = await callTool(get_function_calls, { module_name: 'prices.cjs', function_name: 'quote', limit: 2 }, session);
    const lines = text(listed).split('\n').slice(1, 3).map((l) => l.replace(/^\S+Z /, '').replace(/ \(\S+ ms\)/, '').replace(/ \[\S+\]$/, ''));
    expect(lines).toEqual([`${app.pid} ${byReference('"a1", 1', '{sku: "a1", amount: 3}')}`, `${app.pid} quote("b1", 1) → {sku: "b1", amount: 3}`]);
    expect((listed.structuredContent as { calls: { outcome: string }[] }).calls.map((c) => c.outcome)).toEqual([major === '26' ? 'arguments_only' : 'returned', 'returned']);
    const path = text(await callTool(get_execution_path, { pid_string: String(app.pid) }, session));
    expect(path).toContain(byReference('"a2", 2', '{sku: "a2", amount: 6}'));
    expect(path).not.toContain('no return recorded');
    // Untraced: wrappers and breakpoints gone, the program as it was.
    expect((await callTool(untrace, { module_name: './test/fixtures/destructured/prices.cjs' }, session)).isError).toBeFalsy();
    app.send('run 3');
    expect(await app.nextLine(/^done /)).toBe('done 3 9 9 0.9 quote/2');
    await session.sync();
    expect(events(session.store, "type = 'call'").length).toBe(major === '26' ? 10 : 12);
  });
});
