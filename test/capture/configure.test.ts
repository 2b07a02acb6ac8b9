// configure at run time: a higher level switches sources on in the live target, sampling applies at once,
// retention prunes by age.
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
const call = (name: string, args: Record<string, unknown>) => callTool(TOOLS.find((t) => t.name === name)!, args, session!);
const count = (type: string) => (session!.store.db.prepare('SELECT count(*) AS n FROM events WHERE type = ?').get(type) as { n: number }).n;

describe('configure', () => {
  it('changes level, sampling and retention in a live target', async () => {
    const app = startFixture('bank/app.cjs');
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({ tracing_level: 'minimal' }, {}) });
    await session.attach(String(app.pid));
    app.send('login ada hunter2');
    await app.nextLine(/^login/);
    await session.sync();
    expect([count('process'), count('message'), count('log')]).toEqual([1, 0, 0]);

    const full = await call('configure', { tracing_level: 'full' });
    expect(full.structuredContent).toMatchObject({ tracing_level: 'full', sample_rate: 1 });
    app.send('login ada hunter2');
    await app.nextLine(/^login/);
    // The line is recorded when its write to the pipe completes, which can come after we read it.
    await eventually(async () => (await session!.sync(), count('log') === 1), 'the login line recorded');
    expect([count('message'), count('log')]).toEqual([4, 1]);

    await call('configure', { sample_rate: 0 });
    app.send('login ada hunter2');
    await app.nextLine(/^login/);
    await session.sync();
    expect([count('message'), count('log')]).toEqual([4, 1]);

    const pruned = await call('configure', { retention: 'message=1ms' });
    expect(pruned.structuredContent).toMatchObject({ retention: { message: 1 } });
    expect(count('message')).toBe(0);
    expect(count('process')).toBe(1);
    const bad = await call('configure', { retention: 'message' });
    expect(bad.isError).toBe(true);
  });
});
