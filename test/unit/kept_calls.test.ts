// Recorded calls are kept and written when the channel sends (src/agent/calls.ts `keep`): the agent is installed
// in this thread, a function instrumented in place as trace_module does it, and what reaches the binding is
// read back. What is recorded must be what was passed and returned at the time of the call, in the order of
// recording with the thread's other events.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { install } from '../../src/agent/index.js';
import { functionsAt, instrument, position } from '../../src/trace/instrument.js';
import { AGENT_GLOBAL, decodeBatch, type AgentConfig, type TextBatch, type TextEvent } from '../../src/shared/protocol.js';

type Agent = ReturnType<typeof install> & Record<string, any>;

const actor = String(process.pid);
const binding = `__nodescope_kept_calls_${process.pid}`;
const g = globalThis as Record<string, unknown>;

const SOURCE = `'use strict';
exports.add = function add(a) {
  return a + 1;
};
exports.outer = function outer(a) {
  return exports.add(a) * 2;
};
exports.wrap = function wrap(o) {
  return { got: o };
};
exports.inv = function inv(a) {
  return 1 / a;
};
`;

/** The agent, the module's functions instrumented in place, and the events sent so far. */
function setup(overrides: Partial<AgentConfig> = {}) {
  const batches: TextBatch[] = [];
  g[binding] = (text: string) => batches.push(decodeBatch(text));
  // A flush timer that never fires within a test: what is sent, is sent because something asked for it.
  const config: AgentConfig = { binding, actor, level: 'full', sampleRate: 1, redact: '', batchSize: 256, maxQueue: 20_000, maxInFlight: 100, flushMs: 60_000, fromStart: false, ...overrides };
  const agent = install(config) as Agent;
  const module = '/virtual/kept_calls_lib.cjs';
  const names = ['add', 'outer', 'wrap', 'inv'];
  const sites = functionsAt(SOURCE, names.map((name) => ({ name, ...position(SOURCE, SOURCE.indexOf(`function ${name}`)) })));
  const ids = agent.instrumented({ module, maxCalls: 1e9, maxPerSecond: 1e9, durationMs: 3_600_000 }, module, names, 'live-edit');
  const m = { exports: {} as Record<string, (...a: unknown[]) => any> };
  new Function('exports', 'module', instrument(SOURCE, sites.map((site, i) => ({ site, id: ids[i]! }))))(m.exports, m);
  batches.length = 0;
  const sent = (): TextEvent[] => batches.flatMap((b) => b.events);
  /** call/complete events as [fn sid, args, parent, threw, value], and the test's own events as ['test', i]. */
  const seen = () =>
    sent()
      .filter((e) => e[2] === 'complete' || e[2] === 'test')
      .map((e) => (e[2] === 'test' ? ['test', JSON.parse(e[8] as string).i] : [e[7], ...(JSON.parse(e[8] as string) as unknown[]).slice(1, 5)]));
  return { agent, lib: m.exports, sent, seen };
}

afterEach(() => {
  (g[Symbol.for(AGENT_GLOBAL) as unknown as string] as Agent | undefined)?.uninstall();
  delete g[binding];
});

describe('recorded calls written when the channel sends', () => {
  it('keep their order with the thread\'s other events, and nest', () => {
    const { agent, lib, sent, seen } = setup();
    expect(lib.add!(1)).toBe(2);
    expect(lib.add!(2)).toBe(3);
    // Nothing asked for a send yet: the calls wait, unwritten.
    expect(sent().filter((e) => e[2] === 'complete')).toHaveLength(0);
    agent.emit('process', 'test', actor, { i: 1 });
    expect(lib.outer!(5)).toBe(12);
    agent.flushNow();
    // [call id, args, parent, threw, value]: add's call inside outer has outer's id (3) as its parent.
    expect(seen()).toEqual([
      [1, [1], null, 0, 2],
      [2, [2], null, 0, 3],
      ['test', 1],
      [4, [5], 3, 0, 6],
      [3, [5], null, 0, 12],
    ]);
    const calls = sent().filter((e) => e[2] === 'complete');
    for (let i = 1; i < calls.length; i++) expect(calls[i]![0] as number).toBeGreaterThanOrEqual(calls[i - 1]![0] as number);
  });

  it('record an argument and a result as they were when the call ended, not as they are when written', () => {
    const { agent, lib, seen } = setup();
    const o = { n: 1 };
    const r = lib.wrap!(o);
    o.n = 2;
    r.extra = true;
    agent.flushNow();
    expect(seen()).toEqual([[1, [{ n: 1 }], null, 0, { got: { n: 1 } }]]);
  });

  it('are written at once when a thousand wait, and every one is sent', () => {
    const { agent, lib, sent } = setup();
    let s = 0;
    for (let i = 0; i < 3000; i++) s = lib.add!(s);
    expect(s).toBe(3000);
    // Each time 1,024 wait they are written, and full batches go: some were sent before any flush.
    expect(sent().filter((e) => e[2] === 'complete').length).toBeGreaterThan(0);
    agent.flushNow();
    const args = sent()
      .filter((e) => e[2] === 'complete')
      .map((e) => (JSON.parse(e[8] as string) as [number, number[]])[1][0]);
    expect(args).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(agent.stats().dropped).toBe(0);
  });

  it('record a number JSON cannot carry as the serializer does, kept or written at once', () => {
    const { agent, lib, seen } = setup();
    lib.inv!(0);
    lib.inv!(2);
    agent.flushNow();
    agent.markExiting();
    lib.inv!(0);
    lib.inv!(2);
    const [a, b, c, d] = seen() as unknown[][];
    expect(b).toEqual([2, [2], null, 0, 0.5]);
    expect(a![4]).not.toBe(null);
    expect(a!.slice(1)).toEqual(c!.slice(1));
    expect(b!.slice(1)).toEqual(d!.slice(1));
  });

  it('go before the thread\'s end, and are written at once after it began', () => {
    const { agent, lib, seen } = setup();
    lib.add!(10);
    agent.markExiting();
    lib.add!(20);
    expect(seen()).toEqual([
      [1, [10], null, 0, 11],
      [2, [20], null, 0, 21],
    ]);
  });
});
