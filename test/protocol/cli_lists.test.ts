// A tool argument that is a list, given on the command line as a person types it: `--capture code,total`
// or as JSON; and the answer's next step names a tool that exists.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { nodeTarget } from '../targets/index.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
const APP = join(import.meta.dirname, '..', 'fixtures', 'launched_ts');

async function traceLine(capture: string): Promise<{ code: number; stdout: string }> {
  const args = [CLI, 'call', 'trace_line', '--file', 'src/price.ts', '--line', '10', '--capture', capture, '--launch', '--', nodeTarget('24').bin, 'src/app.ts', '100000'];
  try {
    const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: APP });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

describe('call trace_line --capture', () => {
  it.each(['code,total', '["code", "total"]'])('takes the list %s', async (capture) => {
    const r = await traceLine(capture);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`Probe p1 at ${join(APP, 'src/price.ts')}:10:`);
    expect(lines).toContain('Each hit records the locals and closure variables in scope, this, the source-mapped stack and the request id, and code, total.');
    expect(lines).toContain('Next: exercise the program, then get_probe_hits(probe: "p1"); untrace(probe: "p1") removes it.');
  });
});
