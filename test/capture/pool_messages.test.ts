// A Piscina pool's tasks and results go over a MessageChannel per thread, not the worker's parentPort: the
// pool keeps port1 and sends port2 to its thread. Launched (the pool made after the agent), both ends are
// recorded as messages between the main thread and that thread, each send with its receipt.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, events, FIXTURES, newTracer } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';
import type { Tracer } from '../../src/trace/tracer.js';

const launched: Tracer[] = [];
afterEach(async () => {
  for (const t of launched.splice(0)) await t.close();
});

describe.each(['20', '24'])('A Piscina pool launched on Node %s', (major) => {
  const node = major === process.versions.node.split('.')[0] ? process.execPath : nodeTarget(major).bin;
  it.each(['sync', 'disabled'])("atomics %s: records each task the main thread sends its thread over the pool's port, and each result, with their receipts", async (atomics) => {
    const t = newTracer();
    launched.push(t.tracer);
    const link = await t.tracer.launch([node, 'destroy_at_once.cjs', atomics], { cwd: join(FIXTURES, 'pool') });
    const main = String(link.pid);
    const w1 = `${main}/w1`;
    const port = () => events(t.store, "type = 'message' AND json_extract(payload, '$.channel') = 'port'");
    const flow = await eventually(() => (t.tracer.ingest.flush(), port().length >= 12 && port()), 'three tasks and their results');
    const what = (m: any) => m.task ?? m.result ?? m.error.message;
    expect(flow.map((e) => [e.subtype, e.actor, e.from_actor, e.to_actor, e.payload.message.taskId, what(e.payload.message)])).toEqual(
      [
        [0, { sku: 'a', qty: 1 }, { sku: 'a', total: 2.5 }],
        [1, { sku: 'b', qty: 0 }, 'bad quantity 0'],
        [2, { sku: 'c', qty: 2 }, { sku: 'c', total: 5 }],
      ].flatMap(([id, task, result]) => [
        ['send', main, main, w1, id, task],
        ['receive', w1, main, w1, id, task],
        ['send', w1, w1, main, id, result],
        ['receive', main, w1, main, id, result],
      ]),
    );
    // Each paired with its receipt, as the message flow shows it.
    const pairs = t.store.db.prepare("SELECT count(DISTINCT ref) AS n FROM events WHERE type = 'message' AND json_extract(payload, '$.channel') = 'port'").get() as { n: number };
    expect(pairs.n).toBe(6);
  });
});
