// Files the tracer hands to targets, found relative to the package root so that the same code works from
// src/ (tests) and dist/ (the installed package).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('nodescope: cannot find the package root');
    dir = parent;
  }
  return dir;
}

const root = packageRoot();

/** The agent bundle built by scripts/build-agent.mjs (`npm run build`). */
export function agentBundlePath(): string {
  const path = join(root, 'dist', 'agent.js');
  if (!existsSync(path)) throw new Error(`nodescope: ${path} is missing; run \`npm run build\` first`);
  return path;
}

/** nodescope's own files (its preload, its in-app helper): a target has them loaded, but they are not the program's. */
export function isOwnFile(path: string): boolean {
  return path.startsWith(join(root, 'src') + '/') || path.startsWith(join(root, 'dist') + '/');
}

/** The preload that launched processes load through NODE_OPTIONS to announce themselves. */
export function announcePreloadPath(): string {
  return join(root, 'src', 'preload', 'announce.cjs');
}

/** The bundled demo app. */
export function demoDir(): string {
  return join(root, 'demo');
}
