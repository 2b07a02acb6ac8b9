import { renderTree } from '../query/tree.js';
import { defineTool, READ_ONLY } from './define.js';

export const get_supervision_tree = defineTool({
  name: 'get_supervision_tree',
  title: 'The process family as a tree',
  description:
    'Lists every traced OS process with its worker threads and child processes: id (accepted by every tool), name, status, start time, and exit code or signal once ended.',
  annotations: READ_ONLY,
  schema: {},
  async handler(_args, ctx) {
    const tree = ctx.supervisionTree();
    const warnings = ctx.warnings();
    const text = tree.length === 0 ? 'No process recorded yet. Use launch or attach first.' : renderTree(tree);
    return { text: warnings.length ? `${text}\nWarnings: ${warnings.join('; ')}` : text, data: { tree, warnings } };
  },
});
