// Bundles src/agent into one dependency-free script (dist/agent.js) that the tracer evaluates inside each
// target thread. platform "neutral" makes any import of a Node built-in or package a build error: the agent
// reaches built-ins only through process.getBuiltinModule at run time.
import { statSync } from 'node:fs';
import { build } from 'esbuild';

// On Node 20 a NodeWorker.sendMessageToWorker message of 64 KiB or more gets no answer at all (measured:
// 65,610 bytes worked, 66,774 hung): the tracer sends the bundle to workers in pieces (src/trace/thread.ts).
// The limit here only keeps the bundle from growing unnoticed.
// Minified whole, identifiers too (54.6 KB → 41.5 KB when they were dropped), so every thread parses less;
// the agent's frames are told by their script name (nodescope-agent.js), not by function names.
const LIMIT = 128 * 1024;

await build({
  entryPoints: ['src/agent/index.ts'],
  bundle: true,
  platform: 'neutral',
  format: 'iife',
  globalName: '__nodescopeAgentModule',
  target: 'node20',
  outfile: 'dist/agent.js',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: true,
  logLevel: 'warning',
});

const { size } = statSync('dist/agent.js');
if (size > LIMIT) {
  console.error(`dist/agent.js is ${size} bytes: over ${LIMIT}, it would not reach worker threads (see the comment above)`);
  process.exit(1);
}
