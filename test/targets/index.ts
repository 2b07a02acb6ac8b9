// The Node binaries capture tests run targets on: the machine's own (the server's, Node 20 here) and the
// ones test/targets installs (scripts/install-targets.mjs, run by `npm test`).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface NodeTarget {
  /** "20", "22", "24", "26" */
  major: string;
  bin: string;
}

function installed(major: string): NodeTarget {
  const bin = join(here, 'node_modules', `node${major}`, 'bin', 'node');
  if (!existsSync(bin)) throw new Error(`Node ${major} target binary missing at ${bin}: run "node scripts/install-targets.mjs"`);
  return { major, bin };
}

/** Every version a capture matrix runs on, the machine's own first; NODESCOPE_TARGETS=24,26 picks some. */
export function nodeTargets(): NodeTarget[] {
  const own = { major: process.versions.node.split('.')[0]!, bin: process.execPath };
  const picked = process.env.NODESCOPE_TARGETS?.split(',').map((v) => v.trim());
  const majors = ['22', '24', '26'].filter((m) => m !== own.major);
  return [own, ...majors.map(installed)].filter((t) => !picked || picked.includes(t.major));
}

export function nodeTarget(major: string): NodeTarget {
  return nodeTargets().find((t) => t.major === major) ?? installed(major);
}
