// The package as someone else gets it: `npm pack` of the built repository, installed into a fresh folder
// outside it, where the `nodescope` command runs, an app requires `nodescope/register`, and a custom-tools
// module imports from `nodescope/tools` and `nodescope` — the README's own examples, taken from the README.
//
// The install runs with --ignore-scripts and the repository's compiled better-sqlite3 binding copied in:
// compiling it again takes 2–6 minutes on a busy 2-core machine and proves nothing about this package.
// (The install scripts' approval is covered by `allowScripts` and the README's --allow-scripts, run by hand.)
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let dir: string;
let tarball: string;
let bin: string;

/** The fenced block of `lang` that follows `marker` in the README. */
function readmeBlock(marker: string, lang: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(marker);
  expect(at, marker).toBeGreaterThan(0);
  const start = readme.lastIndexOf('```' + lang + '\n', at);
  const end = readme.indexOf('\n```', at);
  return readme.slice(start + lang.length + 4, end + 1);
}

async function nodescope(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(bin, args, { cwd: dir, env: { ...process.env, NODESCOPE_CONFIG: '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  expect(existsSync(join(ROOT, 'dist', 'cli.js')), 'npm run build first (npm test does)').toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'nodescope-package-'));
  // --ignore-scripts: packing runs prepack (a clean build) otherwise, which would pull dist from under the
  // tests running beside this one.
  const packed = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
  tarball = join(dir, JSON.parse(packed.stdout)[0].filename);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'an-app', private: true, type: 'commonjs' }));
  await run(npm, ['install', tarball, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir });
  const addon = createRequire(join(ROOT, 'package.json')).resolve('better-sqlite3/build/Release/better_sqlite3.node');
  const into = join(dir, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  mkdirSync(dirname(into), { recursive: true });
  copyFileSync(addon, into);
  bin = join(dir, 'node_modules', '.bin', 'nodescope');
}, 180_000);

describe('the packed package, installed outside the repository', () => {
  it('holds the built code and the runtime files, and no tests, sources or source maps', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n');
    expect(files).toEqual(expect.arrayContaining(['package/package.json', 'package/README.md', 'package/dist/cli.js', 'package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/tool_api.js', 'package/dist/agent.js', 'package/src/app/register.cjs', 'package/src/app/register.d.cts', 'package/src/preload/announce.cjs', 'package/demo/shop.cjs']));
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('package/test/') || /^package\/src\/.*\.ts$/.test(f))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(dir, 'node_modules', 'nodescope', 'package.json'), 'utf8'));
    expect(manifest.bin).toEqual({ nodescope: 'dist/cli.js' });
    expect(Object.keys(manifest.exports)).toEqual(['.', './tools', './register', './package.json']);
    expect(manifest.engines.node).toBe('>=20');
  });

  it('runs `nodescope --help` from the installed bin', async () => {
    const r = await nodescope('--help');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^nodescope — a flight recorder for Node\.js, driven through MCP\n/);
  });

  it('an app there requires nodescope/register, and the installed nodescope finds what it registered', async () => {
    const snippet = readmeBlock("const { register } = require('nodescope/register');", 'js');
    writeFileSync(join(dir, 'app.js'), `const cart = { items: [], add(item) { this.items.push(item); return this.items.length; } };\n${snippet}console.log('ready');\nsetInterval(() => cart.add('apple'), 100);\n`);
    const r = await nodescope('call', 'trace_named_process', '--process_name', 'cart', '--launch', '--', process.execPath, 'app.js');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Tracking 1 object:\n- (\d+)\/o1 Object "cart" in \1; methods: add\n/);
  });

  it('a custom-tools module there imports from nodescope/tools (the README\'s example) and from nodescope', async () => {
    writeFileSync(join(dir, 'my-tools.mjs'), readmeBlock('// my-tools.mjs', 'js'));
    const r = await nodescope('call', 'count_children', '--tools', './my-tools.mjs', '--pid_string', 'app.js', '--launch', '--', process.execPath, 'app.js');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+ has 0 children, 0 running\n$/);

    writeFileSync(
      join(dir, 'main-tools.mjs'),
      `import { defineTool, READ_ONLY, z } from 'nodescope';\nexport default defineTool({ name: 'hello', title: 'Hello', description: 'Says hello.', annotations: READ_ONLY, schema: { who: z.string().describe('Whom to greet.') }, async handler({ who }) { return { text: \`hello \${who}\`, data: { who } }; } });\n`,
    );
    const hello = await nodescope('call', 'hello', '--tools', './main-tools.mjs', '--who', 'world');
    expect(hello.code, hello.stdout + hello.stderr).toBe(0);
    expect(hello.stdout).toBe('hello world\n');
    const help = await nodescope('call', 'hello', '--tools', './main-tools.mjs', '--help');
    expect(help.stdout).toContain('  --who <string> (required)\n      Whom to greet.');
  });
});
