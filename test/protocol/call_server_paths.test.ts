// `nodescope call launch --server <url>` from a shell in the program's folder: the command's relative paths
// are the caller's, whatever folder the server was started in (dist/cli.js against a real serve --http).
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, tempDir } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
const run = promisify(execFile);
const servers: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const p of servers) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
});

function serve(cwd: string, home: string): Promise<string> {
  const env = { ...process.env, HOME: home };
  delete env.NODESCOPE_TOKEN;
  const proc = spawn(process.execPath, [CLI, 'serve', '--http', '127.0.0.1:0'], { cwd, env, stdio: 'pipe' });
  servers.push(proc);
  let err = '';
  proc.stderr.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    proc.on('exit', (code) => reject(new Error(`serve exited (${code}); stderr: ${err}`)));
    proc.stderr.on('data', (chunk: string) => {
      err += chunk;
      const url = /^nodescope: MCP over HTTP at (http:\/\/\S+\/mcp)\n/m.exec(err)?.[1];
      if (url) resolve(url);
    });
  });
}

describe('call launch --server', () => {
  it('runs a relative script and a relative --cwd from the caller\'s folder, not the server\'s', async () => {
    const home = tempDir();
    const url = await serve(tempDir(), home);
    const env = { ...process.env, HOME: home };
    const here = await run(process.execPath, [CLI, 'call', 'launch', '--server', url, '--command', `${nodeTarget('24').bin} parent.cjs code 0`], { cwd: join(FIXTURES, 'detached'), env });
    expect(here.stdout.split('\n')[1]).toMatch(/^\d+ process "parent\.cjs code 0" — running since \S+Z$/);
    const below = await run(process.execPath, [CLI, 'call', 'launch', '--server', url, '--cwd', 'detached', '--command', `${nodeTarget('24').bin} parent.cjs code 1`], { cwd: FIXTURES, env });
    expect(below.stdout).toMatch(/\n\d+ process "parent\.cjs code 1" — running since \S+Z\n/);
  });
});
