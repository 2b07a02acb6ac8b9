// Bundles src/agent into one dependency-free script (dist/agent.js) that the tracer evaluates inside each
// target thread. platform "neutral" makes any import of a Node built-in or package a build error: the agent
// reaches built-ins only through process.getBuiltinModule at run time.
import { statSync } from 'node:fs';
import { build } from 'esbuild';

// The bundle travels to each worker inside one NodeWorker.sendMessageToWorker message, and on Node 20 a
// message of 64 KiB or more to a worker gets no answer at all (measured: 65,610 bytes worked, 66,774 hung).
// Minified whole (identifiers too: 54.6 KB kept them, 64 KiB is the wall) to stay well under it; the
// agent's frames are told by their script name (nodescope-agent.js), not by function names.
const LIMIT = 52 * 1024;

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
