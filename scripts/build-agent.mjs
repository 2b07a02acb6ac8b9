// Bundles src/agent into one dependency-free script (dist/agent.js) that the tracer evaluates inside each
// target thread. platform "neutral" makes any import of a Node built-in or package a build error: the agent
// reaches built-ins only through process.getBuiltinModule at run time.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/agent/index.ts'],
  bundle: true,
  platform: 'neutral',
  format: 'iife',
  globalName: '__nodescopeAgentModule',
  target: 'node20',
  outfile: 'dist/agent.js',
  legalComments: 'none',
  logLevel: 'warning',
});
