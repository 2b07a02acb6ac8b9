// Installs the Node binaries that capture tests run their targets on, and the packages their programs use
// (test/targets), once: `npm test` runs this first, so a fresh clone needs no step of its own. Quiet when
// they are already there.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'targets');
const { dependencies, devDependencies } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const wanted = [...Object.keys(dependencies), ...Object.keys(devDependencies ?? {})];
if (!wanted.every((name) => existsSync(join(dir, 'node_modules', name, 'package.json')))) {
  process.stderr.write('nodescope: installing Node 22/24/26 target binaries and the packages of test/targets (once)\n');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
}
