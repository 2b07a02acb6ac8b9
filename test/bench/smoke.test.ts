// The benchmark harness must keep working as the code grows: CI runs its smoke version (tiny sizes, no
// judgement of the bars) and fails if any scenario crashes or the closing table of the bars leaves a line
// out. dist/ is built by `pretest`. The limit is generous because every attach waits up to 1 s when some
// other process holds 9229, and CI machines are shared.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('bench --smoke runs every scenario and prints every line of the bars', async () => {
  const { LINE_KEYS } = (await import(join(root, 'bench', 'lib', 'summary.mjs'))) as { LINE_KEYS: string[] };
  const run = spawnSync(process.execPath, ['bench/run.mjs', '--smoke'], { cwd: root, encoding: 'utf8', timeout: 170_000 });
  const output = `${run.stdout}\n${run.stderr}`;
  expect(run.error, output).toBeUndefined();
  expect(run.status, output).toBe(0);
  expect(run.stdout).toContain('| scenario | metric | baseline | traced | ratio / figure | bar | result |');
  expect(run.stdout).not.toContain('| ERROR |');
  const bars = run.stdout.slice(run.stdout.indexOf('| key | figure | Node | measured | bar | result |'));
  const printed = bars.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| key ')).map((l) => l.split(' | ')[0].slice(2));
  expect(printed).toEqual(LINE_KEYS);
  expect(LINE_KEYS).toEqual(expect.arrayContaining(['http.recorded@20', 'http.recorded@24', 'functions.timing@20', 'functions.args@24', 'ingest.sustained', 'ingest.burst', 'queries.1m', 'queries.10m', 'storage.bytes']));
}, 180_000);
