// A question about a program whose main thread is blocked in native code (execSync, a synchronous read of a
// hung file): the agent cannot run to hand over what it holds, so the question does not wait for it (the
// inspector's own timeout is 15 s); it answers from what is recorded and names the thread.
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { TOOLS } from '../../src/tools/registry.js';
import { eventually, startFixture } from '../helpers.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

const text = (r: any) => r.content.map((c: any) => c.text).join('\n');

/** The pids of a process's children named `comm`. */
function childrenNamed(pid: number, comm: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === comm && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  }).map(Number);
}

describe('a target blocked in a synchronous call', () => {
  it('is answered about before it unblocks, with the thread named as busy', async () => {
    const app = startFixture('blocked.cjs');
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({}, {}) });
    await session.attach(String(app.pid));
    const blocking = app.nextLine(/^blocking/);
    app.send('block 6000');
    await blocking;
    // Blocked once execFileSync's child runs: asked sooner, the thread may still answer (seen under load).
    await eventually(() => childrenNamed(app.pid, 'sleep').length > 0, 'the blocking child');
    let unblocked = false;
    void app.nextLine(/^unblocked/, 30_000).then(() => (unblocked = true));
    const r = await callTool(TOOLS.find((t) => t.name === 'get_supervision_tree')!, {}, session);
    expect(unblocked).toBe(false);
    expect(r.isError, text(r)).toBeFalsy();
    expect(text(r)).toContain(`(${app.pid} busy: its latest events may be missing)`);
    expect(text(r)).toContain(String(app.pid));
  });
});
