// The package API, as a script would use it: setup → traceNamedProcess → stateTimeline → stop.
import { afterEach, describe, expect, it } from 'vitest';
import { setup, type NodeScope } from '../../src/api.js';
import { startFixture } from '../helpers.js';

let scope: NodeScope | undefined;
afterEach(async () => {
  await scope?.stop();
  scope = undefined;
});

describe('package API', () => {
  it('attaches, tracks an object, answers its timeline and message flow, and stops', async () => {
    const app = startFixture('bank/app.cjs');
    await app.line(/^ready/);
    scope = await setup({ attach: app.pid });
    const tracked = await scope.traceNamedProcess('counter');
    expect(tracked.tracked).toEqual([expect.objectContaining({ id: `${app.pid}/o1`, class: 'Counter' })]);
    app.send('inc 4');
    app.send('login ada hunter2');
    await app.line(/^login ok/);
    const timeline = await scope.stateTimeline('counter');
    // The first state whole, then what changed.
    expect((timeline.snapshots as any[]).map((s) => s.state ?? s.changes)).toEqual(['Counter {count: 0}', [{ path: 'count', kind: 'changed', before: '0', after: '4' }]]);
    const flow = await scope.messageFlow(String(app.pid), 'auth');
    expect((flow.messages as any[]).map((m) => m.status)).toEqual(['received', 'received']);
    await expect(scope.stateTimeline('nobody')).rejects.toThrow(/no actor "nobody"/);
  });
});
