// An ES-module trace waiting for its module costs a pause of that module only, not one per script: a
// program of a few hundred modules (a test runner, a framework) started in 1 s, not 7-8 s, once this was so.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { attached, events, FIXTURES } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };

describe.each([
  ['.mjs', 'traced.mjs', undefined],
  ['.mts by type stripping on Node 24', 'traced.mts', '24'],
  ['.mts compiled by tsx', 'traced.mts tsx', undefined],
] as const)('A trace waiting for an ES module (%s) imported with 200 others', (_, line, major) => {
  it('pauses the thread once, in that module, and traces it before its first line', async () => {
    const { app, t } = await attached('many_modules/main.mjs', { node: major ? nodeTarget(major).bin : undefined });
    const link = t.tracer.links.get(app.pid)!;
    const [report] = await t.tracer.traceModule({ module: join(FIXTURES, 'many_modules', line.split(' ')[0]!), ...limits });
    expect(report!.value).toMatchObject({ status: 'pending' });
    let pauses = 0;
    link.main.session.on('Debugger.paused', () => pauses++);
    app.send(line);
    expect(await app.nextLine(/^loaded|Error/)).toBe('loaded 42 2 199');
    await t.tracer.sync();
    expect(events(t.store, "type = 'call'").map((e) => [e.subtype, e.payload.fn, e.payload.args ?? e.payload.result])).toEqual([
      ['call', 'double', [21]],
      ['return', 'double', 42],
      ['call', 'double', [1]],
      ['return', 'double', 2],
    ]);
    expect(pauses).toBe(1);
  });
});
