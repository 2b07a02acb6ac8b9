// Tools that read the live target: process_info, cpu_profile, evaluate (and its refusal by default).
import { readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const call = (name: string, args: Record<string, unknown>) => callTool(TOOLS.find((t) => t.name === name)!, args, session!);
const text = (r: any) => r.content.map((c: any) => c.text).join('\n');

describe('live tools', () => {
  it('process_info reports memory, event loop and argv of a thread', async () => {
    const app = startFixture('bank/app.cjs');
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({}, {}) });
    await session.attach(String(app.pid));
    const auth = session.supervisionTree()[0]!.children.find((c) => c.name === 'auth')!;
    const r = await call('process_info', { pid_string: 'auth' });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ actor: auth.id, pid: app.pid, threadId: Number(auth.id.split('/w')[1]), mainThread: false, node: process.version });
    expect((r.structuredContent as any).memory.heapUsed).toBeGreaterThan(0);
    expect(text(r)).toMatch(new RegExp(`^${auth.id} worker "auth" — pid ${app.pid}`));
  });

  it('cpu_profile of a busy loop names the hot function and saves a .cpuprofile in the export folder, for its owner only', async () => {
    const app = startFixture('hot.cjs');
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({}, {}) });
    await session.attach(String(app.pid));
    const r = await call('cpu_profile', { pid_string: String(app.pid), duration: 1 });
    expect(r.isError, text(r)).toBeFalsy();
    const data = r.structuredContent as any;
    expect(data.top_self[0]).toMatchObject({ function: 'spinHot', url: expect.stringMatching(/hot\.cjs$/) });
    expect(data.top_total.map((f: any) => f.function)).toContain('spinHot');
    try {
      // By default, this user's nodescope folder in the OS temp folder, as export_trace's files.
      expect(data.file.startsWith(`${join(tmpdir(), `nodescope-${process.getuid!()}`, 'exports')}/nodescope-${app.pid}-`)).toBe(true);
      expect(statSync(data.file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(data.file, 'utf8'))).toHaveProperty('nodes');
    } finally {
      rmSync(data.file, { force: true });
    }
  });

  it('evaluate is refused unless the server allows it, then answers through the bounded serializer', async () => {
    const app = startFixture('bank/app.cjs');
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({}, {}) });
    await session.attach(String(app.pid));
    const refused = await call('evaluate', { expression: '1 + 1', pid_string: String(app.pid) });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/evaluate is off: .* --allow-evaluate/);
    await session.dispose();

    session = new Session({ config: resolveConfig({ allow_evaluate: 'true' }, {}) });
    await session.attach(String(app.pid));
    const value = await call('evaluate', { expression: "({ n: 1n, m: new Map([['a', 1]]), password: 'x' })", pid_string: String(app.pid) });
    expect(value.isError, text(value)).toBeFalsy();
    expect(value.structuredContent).toEqual({ actor: String(app.pid), value: { n: { $t: 'bigint', v: '1' }, m: { $t: 'Map', size: 1, entries: [['a', 1]] }, password: '[redacted]' } });
    const thrown = await call('evaluate', { expression: 'nope.nope', pid_string: String(app.pid) });
    expect(text(thrown)).toMatch(/threw in .*ReferenceError: nope is not defined/);
  });
});

describe('find_processes', () => {
  it('finds the threads running a file, and live instances of a class, which then answer like any actor', async () => {
    const app = startFixture('bank/app.cjs');
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({}, {}) });
    await session.attach(String(app.pid));
    const byFile = await call('find_processes', { module: 'bank/app.cjs' });
    expect((byFile.structuredContent as any).threads.map((t: any) => t.name).sort()).toEqual(['accounts', 'app.cjs', 'auth']);
    const byClass = await call('find_processes', { class_name: 'Account' });
    expect(byClass.isError, text(byClass)).toBeFalsy();
    const instances = (byClass.structuredContent as any).instances;
    expect(instances).toHaveLength(1);
    expect(instances[0]).toMatchObject({ class: 'Account', methods: ['withdraw'] });
    app.send('withdraw 10');
    await app.line(/^balance 90/);
    const timeline = await call('get_state_timeline', { pid_string: instances[0].id });
    // The first state whole, then what changed.
    expect(text(timeline)).toMatch(/after Account#withdraw\(10\) .*:\n {2}balance: 100 → 90\n {2}\+ history\[0\]: -10/);
    const none = await call('find_processes', { class_name: 'Nope' });
    expect(text(none)).toMatch(/^No live instance of Nope/);
  });
});
