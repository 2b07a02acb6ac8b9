// The time-travel, performance and relationship tools on a real capture of the bank fixture: a counter
// incremented twice, a login through the auth worker, a successful and a failed checkout.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { Session } from '../../src/session.js';
import { startFixture } from '../helpers.js';
import { callByName } from '../tool_calls.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

const call = (name: string, args: Record<string, unknown> = {}) => callByName(session!, name, args);

describe('time travel, performance and relationships on a real run', () => {
  it('answer what the run did, exactly', async () => {
    const app = startFixture('bank/app.cjs');
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({}, {}) });
    await session.attach(String(app.pid));
    await session.track('counter');
    await session.traceModule({ module: './test/fixtures/bank/payments.js', maxCalls: 1000, maxPerSecond: 1000, durationMs: 60_000 });
    const main = String(app.pid);
    const counter = `${main}/o1`;
    app.send('inc 2');
    await app.nextLine(/^count 2/);
    await session.sync();
    const between = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    app.send('inc 5');
    await app.nextLine(/^count 7/);
    app.send('login ada hunter2');
    await app.nextLine(/^login ok/);
    app.send('checkout 50');
    await app.nextLine(/^checkout ok/);
    app.send('checkout 500');
    await app.nextLine(/^checkout failed/);
    const end = Date.now() + 1;

    const at = await call('get_state_at', { pid_string: counter, timestamp: between });
    expect(at.data).toMatchObject({ actor: counter, state: 'Counter {count: 2}' });
    expect(at.text).toMatch(/Counter#increment\(2\)/);

    const change = await call('analyze_state_change', { pid_string: counter, before: between, after: end });
    expect(change.text).toMatch(/count: 2 → 7/);
    expect(change.text).toMatch(/Counter#increment\(5\)/);

    const window = await call('get_events_between', { start: between, end, type: 'call', pid_string: counter });
    expect(window.data.total).toBe(2); // increment(5): its call and its return

    const perf = await call('performance_analysis', { module_name: 'payments.js' });
    const byFn = Object.fromEntries(perf.data.functions.map((f: any) => [f.function ?? f.fn, [f.calls, f.errors]]));
    expect(byFn).toEqual({ charge: [2, 1], fee: [2, 0], 'Ledger#record': [1, 0] });

    // Slowest first, over every completed call, as measured: each charge awaits a 5 ms timer and the others
    // are synchronous, yet a loaded machine can stall a synchronous call for longer than that (a fee once
    // measured slower than a charge), so the order asserted is the measured one, not the expected one.
    const every = (await call('slowest_function_calls', { limit: 10, module_name: 'payments.js' })).data.calls as any[];
    expect(every.map((c) => [c.fn, c.outcome, c.async]).sort()).toEqual([
      ['Ledger#record', 'returned', false],
      ['charge', 'returned', true],
      ['charge', 'threw', true],
      ['fee', 'returned', false],
      ['fee', 'returned', false],
    ]);
    const durations = every.map((c) => c.duration_ms);
    expect(durations).toEqual([...durations].sort((a, b) => b - a));
    const slow = await call('slowest_function_calls', { limit: 2, module_name: 'payments.js' });
    expect(slow.data.calls.map((c: any) => c.ref)).toEqual(every.slice(0, 2).map((c) => c.ref));

    const queues = await call('message_queue_analysis');
    expect(queues.data.pending).toEqual([]);
    const auth = session.supervisionTree()[0]!.children.find((c) => c.name === 'auth')!.id;
    const pair = queues.data.pairs.find((p: any) => p.from === main && p.to === auth);
    expect(pair).toMatchObject({ sent: 1, received: 1 });

    const rel = await call('process_relationships', { pid_string: main });
    expect(rel.data.children.map((c: any) => c.id).sort()).toEqual(expect.arrayContaining([auth, counter]));
    const partner = rel.data.partners.find((p: any) => p.actor === auth);
    expect(partner).toMatchObject({ sent: 1, received: 1 });
  });
});
