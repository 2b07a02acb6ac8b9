// A module traced again, under another name (./stock.mjs given at launch, stock.mjs later) or the same (an
// absolute path, named as the trace from the working directory) is the same trace: the answer says so, and
// the module keeps one trace of its functions. Before, an ES module's second trace fell back to breakpoints
// beside the live edit (V8 refused a second edit of the same functions), and a CommonJS module loaded was
// edited again and listed with its functions twice.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import { Session } from '../../src/session.js';
import { callTool } from '../../src/server.js';
import { get_logs } from '../../src/tools/get_logs.js';
import { get_supervision_tree } from '../../src/tools/get_supervision_tree.js';
import { trace_module } from '../../src/tools/trace_module.js';
import { eventually, FIXTURES } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

const APP = join(FIXTURES, 'retrace');
const text = (r: { content: unknown[] }) => (r.content[0] as { text: string }).text;

describe.each([
  ['20', process.execPath],
  ['24', nodeTarget('24').bin],
])('A module traced again under another name, on Node %s', (_major, node) => {
  it('is answered as traced already, and keeps one trace', async () => {
    const session = new Session({ config: resolveConfig({}, {}) });
    try {
      const app = await session.launch([node, 'app.mjs'], { cwd: APP, traceModules: ['./stock.mjs'] });
      // Both modules loaded: the CommonJS one is then traced in place, as the ES module was from its first line.
      await eventually(async () => text(await callTool(get_logs, {}, session)).includes('[log] 3 fig'), 'the program to use its modules');
      const cjs = await callTool(trace_module, { module_name: './prices.cjs' }, session);
      expect(cjs.isError, text(cjs)).toBeFalsy();
      const answers = [];
      for (const module_name of ['stock.mjs', join(APP, 'prices.cjs')]) {
        const r = await callTool(trace_module, { module_name }, session);
        expect(r.isError, text(r)).toBeFalsy();
        answers.push(text(r).split('\n').slice(0, 2));
      }
      expect(answers).toEqual([
        [`trace_module stock.mjs (${join(APP, 'stock.mjs')}):`, `- ${app.pid}: already traced as ./stock.mjs`],
        [`trace_module ${join(APP, 'prices.cjs')} (${join(APP, 'prices.cjs')}):`, `- ${app.pid}: already traced`],
      ]);
      const tree = text(await callTool(get_supervision_tree, {}, session));
      expect(tree.slice(tree.indexOf('Traced modules:'))).toBe(['Traced modules:', `- ./stock.mjs in ${app.pid} by live-edit: reserve`, `- prices.cjs in ${app.pid} by live-edit: price`].join('\n'));
    } finally {
      await session.dispose();
    }
  });

  it('asked again with function_names, says the trace it has is kept and how to get them', async () => {
    const session = new Session({ config: resolveConfig({}, {}) });
    try {
      // Traced before it loaded: wrapped at its first require (the agent's own trace, not an edit).
      const app = await session.launch([node, 'app.mjs'], { cwd: APP, traceModules: ['./prices.cjs'] });
      await eventually(async () => text(await callTool(get_logs, {}, session)).includes('[log] 3 fig'), 'the program to use its modules');
      const r = await callTool(trace_module, { module_name: './prices.cjs', function_names: 'price' }, session);
      expect(r.isError, text(r)).toBeFalsy();
      expect(text(r).split('\n')[1]).toBe(`- ${app.pid}: already traced; function_names take effect on a new trace: untrace it first`);
    } finally {
      await session.dispose();
    }
  });
});
