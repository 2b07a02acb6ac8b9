// The benchmark harness must keep working as the code grows: CI runs its smoke version (tiny durations, no
// assertions about the bars) and fails if any scenario crashes. dist/ is built by `pretest`. It takes about
// 15–20 s; the limit is generous because every attach waits up to 1 s when some other process holds 9229.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('bench --smoke runs every scenario and prints the table', () => {
  const run = spawnSync(process.execPath, ['bench/run.mjs', '--smoke'], { cwd: root, encoding: 'utf8', timeout: 55_000 });
  const output = `${run.stdout}\n${run.stderr}`;
  expect(run.error, output).toBeUndefined();
  expect(run.status, output).toBe(0);
  expect(run.stdout).toContain('| scenario | metric | baseline | traced | ratio / figure | bar | result |');
  expect(run.stdout).not.toContain('| ERROR |');
}, 60_000);
