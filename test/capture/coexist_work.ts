// The traced module of the coexistence tests (test/fixtures/coexist/work.cjs): tracing it, and checking that
// one `work` command sent to the app is recorded as the call and return of `total`.
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Store } from '../../src/store/store.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { eventually, events, FIXTURES, type Fixture } from '../helpers.js';

export const WORK = join(FIXTURES, 'coexist', 'work.cjs');

export const traceWork = (tracer: Tracer) => tracer.traceModule({ module: WORK, maxCalls: 100, maxPerSecond: 100, durationMs: 60_000 });

/** Sends `work`, waits for the app's answer, and expects it recorded (the first call of this trace). */
export async function workRecorded(t: { store: Store; tracer: Tracer }, app: Fixture): Promise<void> {
  const printed = app.nextLine(/^total 6$/);
  app.send('work');
  await printed;
  const calls = await eventually(() => {
    t.tracer.ingest.flush();
    const c = events(t.store, "type = 'call'");
    return c.length === 2 && c;
  }, 'the traced call and its return');
  expect(calls.map((c) => `${c.subtype} ${c.payload.fn}`)).toEqual(['call total', 'return total']);
}
