// The stacks a program prints of errors it catches from traced functions are the ones it prints untraced:
// no frame of a wrapper (a CommonJS module traced before it loads) or of the call hook (an ES module
// instrumented in place), and the instrumented function under its own name; for async functions that throw
// before their first await as well.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { eventually, events, FIXTURES, newTracer } from '../helpers.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { nodeTarget } from '../targets/index.js';

const APP = join(FIXTURES, 'stacks');
const limits = { maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 };

const launched: Tracer[] = [];
afterEach(async () => {
  for (const t of launched.splice(0)) await t.close();
});

describe.each([
  ['20', process.execPath],
  ['24', nodeTarget('24').bin],
  ['26', nodeTarget('26').bin],
])('A program printing the stacks of errors from its traced modules, on Node %s', (_major, node) => {
  it('prints what it prints untraced, while the calls are recorded', async () => {
    const untraced = spawnSync(node, ['app.mjs'], { cwd: APP, encoding: 'utf8' });
    expect(untraced.status).toBe(0);
    const t = newTracer();
    launched.push(t.tracer);
    for (const module of ['./prices.cjs', './stock.mjs']) await t.tracer.traceModule({ module, ...limits });
    const link = await t.tracer.launch([node, 'app.mjs'], { cwd: APP });
    await eventually(() => {
      t.tracer.ingest.flush();
      return t.store.actor(String(link.pid))?.ended_ms != null;
    }, 'the program to end');
    // Node's own frames below the program's differ on 24 and 26 under launch, traced modules or not: the
    // main module's job starts from the inspector's pause on its first line (processTicksAndRejections).
    const own = (text: string) => text.split('\n').filter((line) => !line.includes('node:internal/')).join('\n');
    expect(own(events(t.store, "type = 'log'").map((e) => e.payload.text).join('\n'))).toBe(own(untraced.stdout.trimEnd()));
    expect(events(t.store, "type = 'call'").map((e) => [e.subtype, e.payload.fn])).toEqual([
      ['call', 'price'],
      ['throw', 'price'],
      ['call', 'price'],
      ['return', 'price'],
      ['call', 'reserve'],
      ['throw', 'reserve'],
      ['call', 'quote'],
      ['throw', 'quote'],
      ['call', 'restock'],
      ['throw', 'restock'],
    ]);
  });
});
