// A question about a program whose main thread is blocked in native code (execSync, a synchronous read of a
// hung file): the agent cannot run to hand over what it holds, so the question does not wait for it (the
// inspector's own timeout is 15 s); it answers from what is recorded and names the thread.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { TOOLS } from '../../src/tools/registry.js';
import { startFixture } from '../helpers.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

const text = (r: any) => r.content.map((c: any) => c.text).join('\n');

describe('a target blocked in a synchronous call', () => {
  it('is answered about before it unblocks, with the thread named as busy', async () => {
    const app = startFixture('blocked.cjs');
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({}, {}) });
    await session.attach(String(app.pid));
    const blocking = app.nextLine(/^blocking/);
    app.send('block 6000');
    await blocking;
    let unblocked = false;
    void app.nextLine(/^unblocked/, 30_000).then(() => (unblocked = true));
    const r = await callTool(TOOLS.find((t) => t.name === 'get_supervision_tree')!, {}, session);
    expect(unblocked).toBe(false);
    expect(r.isError, text(r)).toBeFalsy();
    expect(text(r)).toContain(`(${app.pid} busy: its latest events may be missing)`);
    expect(text(r)).toContain(String(app.pid));
  });
});
