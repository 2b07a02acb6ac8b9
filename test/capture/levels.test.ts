// tracing_level and sample_rate, honoured by every source in the target: one real run per level.
import { afterEach, describe, expect, it } from 'vitest';
import { LEVELS, levelAllows, type Level } from '../../src/shared/protocol.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { newTracer, startFixture } from '../helpers.js';

let tracer: Tracer | undefined;
afterEach(async () => {
  await tracer?.close();
  tracer = undefined;
});

/** Drives every source once: lifecycle (start), messages (login), state + calls (counter), calls (payments), logs. */
async function exercise(level: Level, sampleRate = 1) {
  const app = startFixture('bank/app.cjs');
  await app.line(/^ready/);
  const t = newTracer({ level, sampleRate });
  tracer = t.tracer;
  await t.tracer.attach(app.pid);
  await t.tracer.track('counter');
  await t.tracer.traceModule({ module: './test/fixtures/bank/payments.js', maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 });
  for (let i = 0; i < 10; i++) app.send('inc 1');
  app.send('login ada hunter2');
  app.send('checkout 5');
  await app.line(/^checkout ok/);
  // Everything the app did is in once every thread has handed over what it holds (the auth worker's
  // receipt and reply travel through its own channel, on its own flush timer) and the store has it.
  await t.tracer.sync();
  const types = (t.store.db.prepare('SELECT type, count(*) AS n FROM events GROUP BY type').all() as { type: string; n: number }[]);
  return { store: t.store, counts: Object.fromEntries(types.map((r) => [r.type, r.n])) as Record<string, number> };
}

const SOURCES = { lifecycle: 'process', message: 'message', state: 'state', call: 'call', log: 'log' } as const;

describe('tracing_level', () => {
  it.each(LEVELS)('%s records exactly the sources it allows', async (level) => {
    const { counts } = await exercise(level);
    const recorded = Object.entries(SOURCES).filter(([, type]) => (counts[type] ?? 0) > 0).map(([source]) => source);
    const allowed = Object.keys(SOURCES).filter((source) => levelAllows(level, source as never));
    expect(recorded).toEqual(allowed);
    if (level === 'off') expect(counts).toEqual({});
  });
});

describe('sample_rate', () => {
  it('keeps a deterministic share of non-critical events and every critical one', async () => {
    const full = await exercise('full', 1);
    const fullCounts = full.counts;
    await tracer?.close();
    const half = await exercise('full', 0.5);
    // Critical events are all there.
    for (const type of ['process', 'worker', 'object']) expect(half.counts[type]).toBe(fullCounts[type]);
    // Each thread samples its own stream: the share kept is one half, up to one event per thread.
    const nonCritical = (c: Record<string, number>) => (c.message ?? 0) + (c.state ?? 0) + (c.call ?? 0) + (c.log ?? 0);
    expect(Math.abs(nonCritical(half.counts) - nonCritical(fullCounts) / 2)).toBeLessThanOrEqual(3);
  });
});
