// What a traced function records when its body changes what it was passed, on a CommonJS module instrumented
// in place (src/trace/instrument.ts, the agent's call hook): the arguments as passed (sloppy mode's mapped
// `arguments` moves with its parameters), no arguments, a rest parameter, defaults and a destructured one,
// `new.target` and `this`, an error rethrown as it was; the program sees what it sees untraced.
import { afterEach, describe, expect, it } from 'vitest';
import type { Tracer } from '../../src/trace/tracer.js';
import { attached, events } from '../helpers.js';

let tracer: Tracer | undefined;
afterEach(async () => {
  await tracer?.close();
  tracer = undefined;
});

const UNTRACED = { shift: ['changed', 'also', 'changed', 2], count: 4, rest: [1, 2], defaults: [11, 3], made: [true, 3, 'called'], own: 'exports', caught: [true, 'bad 7', 7] };

describe('arguments and results of a function instrumented in place', () => {
  it('records what was passed and what came back; the program sees the same as untraced', async () => {
    const { app, t } = await attached('args/app.cjs');
    tracer = t.tracer;
    const [report] = await t.tracer.traceModule({ module: './test/fixtures/args/lib.cjs', maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 });
    expect(report!.value).toMatchObject({ status: 'traced', via: 'live-edit' });
    app.send('run');
    expect(JSON.parse((await app.nextLine(/^seen /)).slice(5))).toEqual(UNTRACED);
    await t.tracer.sync();
    const calls = events(t.store, "type = 'call'").map((e) => [e.subtype, e.payload.fn, e.payload.args ?? e.payload.result ?? e.payload.error]);
    // The error as thrown: its class, message and own property; the stack starts where it was made.
    const thrown = calls[1]![2] as { stack: string };
    expect(thrown.stack).toMatch(/^RangeError: bad 7\n {4}at Object\.fails \(.*lib\.cjs:26:17\)\n {4}at Socket\.<anonymous> \(.*app\.cjs:11:11\)/);
    expect(calls).toEqual([
      ['call', 'fails', [7]],
      ['throw', 'fails', { $t: 'Error', class: 'RangeError', message: 'bad 7', n: 7, stack: thrown.stack }],
      ['call', 'Made', [3]],
      ['return', 'Made', { $t: 'undefined' }],
      // Passed 1 and 2, though the body moved both before it returned.
      ['call', 'shift', [1, 2]],
      ['return', 'shift', ['changed', 'also', 'changed', 2]],
      ['call', 'count', [1, 'two', null, true]],
      ['return', 'count', 4],
      ['call', 'rest', [1, 2, 3]],
      ['return', 'rest', [1, 2]],
      // Defaults are not arguments: what the caller passed, nothing when it passed nothing.
      ['call', 'defaults', []],
      ['return', 'defaults', 11],
      ['call', 'defaults', [1, { b: 2 }]],
      ['return', 'defaults', 3],
      ['call', 'Made', [4]],
      ['return', 'Made', 'called'],
      ['call', 'own', []],
      ['return', 'own', 'exports'],
    ]);
  });
});
