// get_events_between takes one type: a list ("process,child,worker", as a CLI user types one) is refused
// with the types it takes, rather than read as one type that matches nothing ("none recorded").
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { get_events_between } from '../../src/tools/get_events_between.js';
import { eventually, startFixture } from '../helpers.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

const ask = async (args: Record<string, unknown>) => {
  const r = await callTool(get_events_between, { start: '2000-01-01T00:00:00Z', end: '2100-01-01T00:00:00Z', ...args }, session!);
  return { text: (r.content as { text: string }[]).map((c) => c.text).join('\n'), total: (r.structuredContent as { total?: number } | undefined)?.total, isError: r.isError ?? false };
};

describe('get_events_between type', () => {
  it('refuses a list of types with the types it takes, and answers each of them alone', async () => {
    const app = startFixture('family.cjs');
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({}, {}) });
    await session.attach(String(app.pid));
    await eventually(async () => (await ask({ type: 'worker' })).total! > 0, 'worker events');

    const list = await ask({ type: 'process,child,worker' });
    expect(list).toEqual({
      isError: true,
      total: undefined,
      text: 'get_events_between failed: type takes one type or type/subtype (call, message, state, http, log, process, worker, child, error, agent, object), got a list "process,child,worker": ask once per type, or leave type out for every type',
    });
    for (const type of ['process', 'child', 'worker']) expect((await ask({ type })).total).toBeGreaterThan(0);
  });
});
