// Installs the Node binaries that capture tests run their targets on (test/targets), once: `npm test` runs
// this first, so a fresh clone needs no step of its own. Quiet when they are already there.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'targets');
const wanted = ['node22', 'node24', 'node26'];
if (!wanted.every((name) => existsSync(join(dir, 'node_modules', name, 'bin', 'node')))) {
  process.stderr.write('nodescope: installing Node 22/24/26 target binaries into test/targets (once)\n');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
}
