import { renderTree, renderTreeMermaid } from '../query/tree.js';
import { format } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { rows, treeView } from './output.js';

export const get_supervision_tree = defineTool({
  name: 'get_supervision_tree',
  title: 'The process family as a tree',
  description:
    'Traced processes, their worker threads, child processes and tracked objects: id (every tool takes it), name, status, exit code; and traced modules.',
  annotations: READ_ONLY,
  schema: { format },
  output: { tree: rows, modules: rows, warnings: rows },
  async handler({ format }, ctx) {
    const tree = ctx.supervisionTree();
    const modules = ctx.query.tracedModules();
    const warnings = ctx.warnings();
    if (tree.length === 0) return { text: 'No process recorded yet. Use launch or attach first.', data: { tree: [], modules, warnings } };
    const lines = [format === 'mermaid' ? renderTreeMermaid(tree) : renderTree(tree)];
    if (modules.length && format !== 'mermaid') {
      lines.push('Traced modules:');
      for (const m of modules) lines.push(`- ${m.module} in ${m.actor} by ${m.via}: ${m.functions.join(', ') || '(nothing exported)'}${m.stopped ? ` — stopped: ${m.stopped}` : ''}`);
    }
    if (warnings.length) lines.push(`Warnings: ${warnings.join('; ')}`);
    return { text: lines.join('\n'), data: { tree: treeView(tree), modules, warnings } };
  },
});
