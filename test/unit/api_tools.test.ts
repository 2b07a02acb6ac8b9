// The package API (src/api.ts) against the tool definitions: every method calls a tool that exists, with
// arguments that tool takes and accepts, and every tool has a method — so neither can drift from the other.
import { describe, expect, it } from 'vitest';
import { NodeScope, type Answer } from '../../src/api.js';
import { readArguments } from '../../src/server.js';
import type { Session } from '../../src/session.js';
import { TOOLS } from '../../src/tools/registry.js';

class Recording extends NodeScope {
  readonly calls: [string, Record<string, unknown>][] = [];
  override async call(name: string, args: Record<string, unknown> = {}): Promise<Answer> {
    this.calls.push([name, Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined))]);
    return {};
  }
}

/** Every method, called with every option it has. */
const SAMPLES: Record<string, (s: NodeScope) => unknown> = {
  detach: (s) => s.detach(),
  evaluate: (s) => s.evaluate('4242', '1 + 1'),
  attach: (s) => s.attach(4242),
  launch: (s) => s.launch('node app.js', { cwd: '/tmp', traceModules: ['./a.js', './b.js'] }),
  traceModule: (s) => s.traceModule('./a.js', { functionNames: ['f', 'Cart#total'], maxCalls: 10, maxRate: 5, durationS: 30 }),
  untrace: (s) => s.untrace({ module: './a.js' }),
  traceLine: (s) => s.traceLine('src/a.ts', 12, { condition: 'x < 0', capture: ['x'], log: 'x={x}', limits: 'hits=3 rate=1 burst=2 for=1m budget=10ms' }),
  probeHits: (s) => s.probeHits({ probe: 'p1', pid: '4242', requestId: '4242:r1', since: '-5m', page: 1, limit: 5 }),
  traceProcess: (s) => s.traceProcess('4242'),
  traceNamedProcess: (s) => s.traceNamedProcess('cart'),
  supervisionTree: (s) => s.supervisionTree(),
  functionCalls: (s) => s.functionCalls('./a.js', { functionName: 'f', pid: '4242', requestId: '4242:r1', since: '-5m', until: 1_795_000_000_000, page: 2, limit: 5 }),
  messageFlow: (s) => s.messageFlow('4242', '4242/w1', { since: '-5m', until: '2026-11-22T16:00:00Z', page: 1, limit: 5 }),
  stateTimeline: (s) => s.stateTimeline('4242/o1', { since: '-5m', page: 1, limit: 5 }),
  analyzeStateChanges: (s) => s.analyzeStateChanges('4242/o1', { until: '-1m', page: 1, limit: 5 }),
  executionPath: (s) => s.executionPath('4242', { requestId: '4242:r1', since: '-5m', page: 1, limit: 5 }),
  getStateAt: (s) => s.getStateAt('4242/o1', 1_795_000_000_000),
  getEventsBetween: (s) => s.getEventsBetween('-5m', '-1m', { type: 'call', pid: '4242', module: './a.js', page: 1, limit: 5 }),
  systemSnapshotAt: (s) => s.systemSnapshotAt('-1m'),
  analyzeStateChange: (s) => s.analyzeStateChange('4242/o1', '-5m', '-1m'),
  performanceAnalysis: (s) => s.performanceAnalysis('./a.js'),
  slowestFunctionCalls: (s) => s.slowestFunctionCalls(5),
  messageQueueAnalysis: (s) => s.messageQueueAnalysis(),
  processInfo: (s) => s.processInfo('4242'),
  processRelationships: (s) => s.processRelationships('4242'),
  cpuProfile: (s) => s.cpuProfile('4242', 2),
  exportTrace: (s) => s.exportTrace({ start: '-5m', end: '-1m', path: '/tmp/t.json' }),
  configure: (s) => s.configure({ tracingLevel: 'full', sampleRate: 0.5, maxEvents: 1000, retention: 'call=10m' }),
  getLogs: (s) => s.getLogs({ pid: '4242', level: 'warn', grep: 'x', since: '-5m', tail: 10 }),
  httpRequests: (s) => s.httpRequests({ statusMin: 500, slowMs: 10, route: '/x', method: 'GET', since: '-5m', until: '-1m', page: 1, limit: 5 }),
  findProcesses: (s) => s.findProcesses({ module: 'app.js', className: 'Cart' }),
};

/** Tools without a method of their own: stop() ends the whole session instead. */
const NO_METHOD = ['stop'];

describe('the package API', () => {
  it('has a sample call for every method (add one here for a new method)', () => {
    const methods = Object.getOwnPropertyNames(NodeScope.prototype).filter((m) => !['constructor', 'call', 'stop'].includes(m));
    expect(methods.sort()).toEqual(Object.keys(SAMPLES).sort());
  });

  it('calls tools that exist, with arguments each tool takes and accepts', async () => {
    const scope = new Recording(undefined as unknown as Session);
    for (const [method, sample] of Object.entries(SAMPLES)) {
      const before = scope.calls.length;
      await sample(scope);
      expect([method, scope.calls.length - before]).toEqual([method, 1]);
      const [name, args] = scope.calls.at(-1)!;
      const tool = TOOLS.find((t) => t.name === name);
      expect(tool, `${method} calls ${name}, which is no tool`).toBeDefined();
      const read = readArguments(tool!, args);
      expect([method, 'error' in read ? read.error : 'ok']).toEqual([method, 'ok']);
    }
    const called = new Set(scope.calls.map(([name]) => name));
    expect(TOOLS.map((t) => t.name).filter((n) => !called.has(n) && !NO_METHOD.includes(n))).toEqual([]);
  });
});
