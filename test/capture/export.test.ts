// export_trace on a real run: a file in the Chrome Trace Event format with the run's calls as slices and its
// messages as flow arrows from send to receipt.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { TOOLS } from '../../src/tools/registry.js';
import { startFixture, tempDir } from '../helpers.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});
const call = (name: string, args: Record<string, unknown>) => callTool(TOOLS.find((t) => t.name === name)!, args, session!);

/** The fields the Trace Event format requires of each phase we write. */
function validate(e: any): void {
  expect(typeof e.name).toBe('string');
  expect(['X', 'i', 's', 'f', 'M']).toContain(e.ph);
  expect(Number.isInteger(e.pid)).toBe(true);
  expect(Number.isInteger(e.tid)).toBe(true);
  expect(typeof e.ts).toBe('number');
  if (e.ph === 'X') expect(e.dur).toBeGreaterThan(0);
  if (e.ph === 's' || e.ph === 'f') expect(Number.isInteger(e.id)).toBe(true);
  if (e.ph === 'i') expect(['t', 'p', 'g']).toContain(e.s);
  if (e.ph === 'M') expect(['process_name', 'thread_name']).toContain(e.name);
}

describe('export_trace', () => {
  it('writes calls as slices and messages as flows, in the trace-event format', async () => {
    const app = startFixture('bank/app.cjs');
    await app.line(/^ready/);
    const dir = tempDir();
    session = new Session({ config: resolveConfig({ export_dir: dir }, {}) });
    await session.attach(String(app.pid));
    await session.traceModule({ module: './test/fixtures/bank/payments.js', maxCalls: 100, maxPerSecond: 100, durationMs: 60_000 });
    app.send('login ada hunter2');
    app.send('checkout 50');
    await app.line(/^checkout ok/);
    const file = join(dir, 'run.trace.json');
    const r = await call('export_trace', { path: 'run.trace.json' });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ file, calls: 3, messages: 2, cut: false });

    const trace = JSON.parse(readFileSync(file, 'utf8'));
    expect(trace.displayTimeUnit).toBe('ms');
    trace.traceEvents.forEach(validate);
    const pid = app.pid;
    const auth = session.supervisionTree()[0]!.children.find((c) => c.name === 'auth')!.id;
    const authTid = Number(auth.split('/w')[1]);
    const names = (e: any) => e.traceEvents.filter((x: any) => x.ph === 'M').map((x: any) => [x.name, x.pid, x.tid, x.args.name]);
    expect(names(trace)).toEqual(expect.arrayContaining([['process_name', pid, 0, `${pid} app.cjs`], ['thread_name', pid, authTid, `${auth} auth`]]));
    const slices = trace.traceEvents.filter((e: any) => e.ph === 'X' && e.cat === 'call').map((e: any) => [e.name, e.pid, e.tid, e.args.args]);
    expect(slices).toEqual([
      ['fee', pid, 0, [50]],
      ['charge', pid, 0, [{ owner: 'ada', limit: 100 }, 51.5]],
      ['Ledger#record', pid, 0, [{ id: 'tx1', amount: 51.5 }]],
    ]);
    const flows = trace.traceEvents.filter((e: any) => e.ph === 's' || e.ph === 'f');
    expect(flows.map((e: any) => [e.ph, e.id, e.pid, e.tid])).toEqual([
      ['s', 1, pid, 0],
      ['f', 1, pid, authTid],
      ['s', 2, pid, authTid],
      ['f', 2, pid, 0],
    ]);
    const [s1, f1] = flows;
    expect(f1.ts).toBeGreaterThanOrEqual(s1.ts);
  });
});
