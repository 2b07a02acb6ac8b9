// A Piscina pool whose task module is an ES module, launched as a person launches it: `launch` with
// trace_modules "./task.mjs". The pool's thread, held before its bootstrap, cannot resolve a name itself;
// it traces the file the program's main thread resolved the name to, before the module's first line.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import { Session } from '../../src/session.js';
import { callTool } from '../../src/server.js';
import { get_function_calls } from '../../src/tools/get_function_calls.js';
import { eventually, FIXTURES } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

type Call = { actor: string; fn: string; args: string[]; result?: string; error?: string };

describe.each([
  ['20', process.execPath],
  ['24', nodeTarget('24').bin],
])('A Piscina pool with an ES-module task, launched on Node %s with trace_modules', (_major, node) => {
  it("records every task call in the pool's thread, the first one too", async () => {
    const session = new Session({ config: resolveConfig({}, {}) });
    try {
      const app = await session.launch([node, 'app.mjs'], { cwd: join(FIXTURES, 'piscina_esm'), traceModules: ['./task.mjs'] });
      const calls = await eventually(async () => {
        const r = await callTool(get_function_calls, { module_name: './task.mjs' }, session);
        const found = (r.structuredContent as { calls?: Call[] } | undefined)?.calls ?? [];
        return found.length >= 3 && found;
      }, 'the three tasks');
      const w1 = `${app.pid}/w1`;
      expect(calls.map((c) => [c.actor, c.fn, c.args, c.result ?? c.error])).toEqual([
        [w1, 'resize', ['{w: 1, h: 2}'], '{area: 2}'],
        [w1, 'resize', ['{w: -2, h: 2}'], `Error: negative width -2 (at ${join(FIXTURES, 'piscina_esm/task.mjs')}:3:20)`],
        [w1, 'square', ['3'], '9'],
      ]);
    } finally {
      await session.dispose();
    }
  });
});
