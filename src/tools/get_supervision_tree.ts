import { z } from 'zod';
import { renderTree, renderTreeMermaid, tracedModules } from '../query/tree.js';
import { defineTool, READ_ONLY } from './define.js';

export const get_supervision_tree = defineTool({
  name: 'get_supervision_tree',
  title: 'The process family as a tree',
  description:
    'Lists every traced OS process with its worker threads, child processes and tracked objects: id (accepted by every tool), name, status, start time, and exit code or signal once ended; then the modules under trace_module and how each is traced.',
  annotations: READ_ONLY,
  schema: {
    format: z.enum(['text', 'mermaid']).optional().describe('"text" (default) or "mermaid": a flowchart many MCP clients draw.'),
  },
  async handler({ format }, ctx) {
    const tree = ctx.supervisionTree();
    const modules = tracedModules(ctx.query.store);
    const warnings = ctx.warnings();
    if (tree.length === 0) return { text: 'No process recorded yet. Use launch or attach first.', data: { tree, modules, warnings } };
    const lines = [format === 'mermaid' ? renderTreeMermaid(tree) : renderTree(tree)];
    if (modules.length && format !== 'mermaid') {
      lines.push('Traced modules:');
      for (const m of modules) lines.push(`- ${m.module} in ${m.actor} by ${m.via}: ${m.functions.join(', ') || '(nothing exported)'}${m.stopped ? ` — stopped: ${m.stopped}` : ''}`);
    }
    if (warnings.length) lines.push(`Warnings: ${warnings.join('; ')}`);
    return { text: lines.join('\n'), data: { tree, modules, warnings } };
  },
});
