// Route handlers a framework keeps from startup, traced in place after the fact (trace_module with
// function_names "*"): V8's live edit answers "Ok" for any edit, but a closure made before it runs the new
// code only where V8's diff finds the function again, which depends on how the instrumentation is spelled
// (src/trace/v8_diff.ts). Each shape of handler must be recorded whole, from its first call after the trace.
import { describe, expect, it } from 'vitest';
import { attached, events } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };

describe.each(['20', '22', '24'])('Handlers registered at startup, on Node %s', (major) => {
  it('are recorded whole, each shape of arrow: expression or block body, async, with or without parameters; the one V8 cannot carry over is named', async () => {
    const { app, t } = await attached('startup_handlers/app.mjs', { node: nodeTarget(major).bin });
    const [report] = await t.tracer.traceModule({ module: 'startup_handlers/routes.mjs', functions: ['*'], ...limits });
    expect(report!.value).toMatchObject({ status: 'traced', via: 'live-edit' });
    // The one shape no spelling saves says so; its calls go unrecorded (the list below is exact).
    expect((report!.value as { note: string }).note).toContain(
      `app.get('/double') callback: closures made before the trace run untraced (V8's live edit cannot carry over an arrow whose body does not end in ")")`,
    );
    // Other function_names for a module traced already are not merged into its trace: the answer says so.
    const [again] = await t.tracer.traceModule({ module: 'startup_handlers/routes.mjs', functions: ['register'], ...limits });
    expect((again!.value as { note: string }).note).toBe('already traced; function_names take effect on a new trace: untrace it first');
    const replies: string[] = [];
    for (const line of ['/item 7', '/stats 0', '/json 3', '/echo 5', '/double 4']) {
      app.send(line);
      replies.push(await app.nextLine(/^\//));
    }
    expect(replies).toEqual(['/item {"id":7}', '/stats {"orders":2}', '/json "{\\"ok\\":3}"', '/echo 5', '/double 8']);
    await t.tracer.sync();
    const calls = events(t.store, "type = 'call'").map((e) => [e.subtype, e.payload.fn, e.subtype === 'call' ? e.payload.args : e.payload.result]);
    const req = (id: number) => [{ id, json: { $t: 'function', name: 'json' } }];
    expect(calls).toEqual([
      ['call', "app.get('/item') callback", req(7)],
      ['return', "app.get('/item') callback", { id: 7 }],
      ['call', "app.get('/stats') callback", []],
      ['return', "app.get('/stats') callback", { orders: 2 }],
      ['call', "app.get('/json') callback", req(3)],
      ['return', "app.get('/json') callback", '{"ok":3}'],
      ['call', "app.get('/echo') callback", req(5)],
      ['return', "app.get('/echo') callback", 5],
    ]);
  });
});
