// Processes named as people call them, on a real run: `node --test --test-isolation=none` (no script: the
// runner with its flags) whose test builds with esbuild, which spawns its service binary. The service has no
// agent and outlives the test process (esbuild unrefs it), so no one reports its end: the tree says so.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderTree, supervisionTree } from '../../src/query/tree.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { eventually, events, FIXTURES, newTracer } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

const launched: Tracer[] = [];
afterEach(async () => {
  for (const t of launched.splice(0)) await t.close();
});

describe('process names', () => {
  it('names the test runner "node --test …" and esbuild\'s service "esbuild --service=… --ping", untraced once its parent ended', async () => {
    const t = newTracer();
    launched.push(t.tracer);
    const link = await t.tracer.launch([nodeTarget('24').bin, '--test', '--test-isolation=none'], { cwd: join(FIXTURES, 'process_names') });
    const main = String(link.pid);
    await eventually(() => {
      t.tracer.ingest.flush();
      return t.store.actor(main)?.ended_ms != null;
    }, 'the test run to end');
    expect(events(t.store, "type = 'log'").map((e) => e.payload.text)).toContain('built const x = 1;');
    const tree = supervisionTree(t.store);
    const version = (await import('esbuild')).version;
    expect(tree.map((n) => [n.id, n.name, n.status])).toEqual([[main, 'node --test --test-isolation=none', 'exited']]);
    const service = tree[0]!.children.filter((c) => c.kind === 'process');
    expect(service.map((c) => [c.name, c.status, c.untraced])).toEqual([[`esbuild --service=${version} --ping`, 'unknown', true]]);
    expect(renderTree(tree).split('\n')[1]).toBe(`└─ ${service[0]!.id} process "esbuild --service=${version} --ping" — untraced; parent ended at ${tree[0]!.ended}`);
  });
});
