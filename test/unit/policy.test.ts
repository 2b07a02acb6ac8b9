// The recording policy on the host path: rows the host observes itself (output the launcher saw, an exit)
// are filtered by the tracer's one RecordingPolicy on their way in; the Store writes whatever it is given.
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { Ingest } from '../../src/trace/ingest.js';
import { RecordingPolicy } from '../../src/trace/policy.js';
import type { Level } from '../../src/shared/protocol.js';
import { newTracer } from '../helpers.js';

/** The types of the rows stored after the host observed one row of each of `types`, in order. */
function recorded(policy: RecordingPolicy, types: string[]): string[] {
  const store = new Store();
  const ingest = new Ingest(store, undefined, policy);
  types.forEach((type, i) => ingest.record({ type, subtype: 'x', actor: '100', from_actor: null, to_actor: null, corr: null, ref: null, payload: JSON.stringify({ i }), ts_ns: 1_000 + i }));
  ingest.flush();
  return (store.db.prepare('SELECT type FROM events ORDER BY id').all() as { type: string }[]).map((r) => r.type);
}

describe('RecordingPolicy', () => {
  const types = ['process', 'message', 'state', 'call', 'http', 'log'];
  it.each([
    ['full', types],
    ['messages_only', ['process', 'message']],
    ['states_only', ['process', 'state']],
    ['minimal', ['process']],
    ['off', []],
  ] as [Level, string[]][])('level %s admits exactly %j on the host path', (level, admitted) => {
    expect(recorded(new RecordingPolicy(level), types)).toEqual(admitted);
  });

  it('samples non-critical events deterministically and never critical ones', () => {
    const run = () => recorded(new RecordingPolicy('full', 0.25), Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? 'process' : 'call')));
    const a = run();
    expect(a.filter((t) => t === 'process')).toHaveLength(10);
    expect(a.filter((t) => t === 'call')).toHaveLength(22); // ⌊90 × 0.25⌋
    expect(run()).toEqual(a);
  });

  it("is the tracer's one: configure() changes what the host path admits", async () => {
    const { tracer } = newTracer({ level: 'full' });
    expect(recorded(tracer.policy, ['log'])).toEqual(['log']);
    await tracer.configure({ level: 'minimal' });
    expect(recorded(tracer.policy, ['log', 'process'])).toEqual(['process']);
    await tracer.close();
  });
});
