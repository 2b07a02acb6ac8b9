// Secrets on a real, persisted run: a program started with secrets in its argv passes them as positional
// arguments, returns and throws them, logs them, sends them to a worker, keeps them in a tracked object and
// in request URLs. None may reach an answer, the export file or the SQLite file; `numPassingTests` must.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { TOOLS } from '../../src/tools/registry.js';
import { eventually, startFixture, tempDir } from '../helpers.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

const SECRETS = [
  'argvPass1234', // argv: --password argvPass1234
  'argvTok99', // argv: --url=…?token=argvTok99
  'hunter2pass', // positional argument named `password`
  'sess-abc-991', // result member `session`
  'bearerTok12345', // "Bearer …" in a result string
  'urlTok8812', // ?access_token= in a result string
  '4111 1111 1111 1111', // a card number argument, and in the result string
  '5500-0000-0000-0004', // a card number in a thrown error's message
  'sk_live_4eC39HqLyjWDarjtT1zdp7dc', // a Stripe key in the same message
  'vaultKey777', // tracked state under `apiKey`
  'AKIAIOSFODNN7EXAMPLE', // an AWS key id inside tracked state
  'eyJhbGciOiJIUzI1NiJ9', // a JWT, the argument of a state-changing call
  'dXNlcjpodW50ZXIy', // "Basic …" in a log line
  'logTok5150', // a logged object's `token`
  'msgSecret4242', // ?client_secret= in a worker message
  'MIIworkerKey', // a PEM private key in the worker's reply
  'httpKey6060', // ?api_key= in an HTTP request URL
];

const call = async (name: string, args: Record<string, unknown>) => {
  const r = await callTool(TOOLS.find((t) => t.name === name)!, args, session!);
  // The whole answer (text and structured data) for the leak check; its text for what it must show.
  return `${JSON.stringify([r.content, r.structuredContent])}\n${(r.content as { text: string }[]).map((c) => c.text).join('\n')}`;
};

function leaks(text: string): string[] {
  return SECRETS.filter((s) => text.includes(s));
}

describe('secrets', () => {
  it('appear in no answer, no export file and no database file; numPassingTests does', async () => {
    const dir = tempDir();
    const db = join(dir, 'trace.db');
    const app = startFixture('secrets/app.cjs', ['--password', 'argvPass1234', '--url=https://x.test/?token=argvTok99']);
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({ persist: 'true', persist_path: db, web: 'true' }, {}, null) });
    await session.attach(String(app.pid));
    const main = String(app.pid);
    await session.traceModule({ module: './test/fixtures/secrets/lib.js', maxCalls: 100, maxPerSecond: 100, durationMs: 60_000 });
    const tracked = await session.track('globalThis.vault');
    const vault = JSON.stringify(tracked).match(/"(\d+\/o\d+)"/)![1]!;

    app.send('go');
    await app.line(/^done/);
    const worker = await eventually(() => session!.supervisionTree()[0]!.children.find((c) => c.name === 'keeper')?.id, 'the worker');
    const answers: string[] = [];
    await eventually(async () => {
      const text = await call('get_http_requests', {});
      return text.includes('/hook');
    }, 'the HTTP request to be recorded');
    answers.push(
      await call('get_function_calls', { module_name: './test/fixtures/secrets/lib.js' }),
      await call('get_logs', {}),
      await call('get_message_flow', { from_pid: main, to_pid: worker }),
      await call('get_state_timeline', { pid_string: vault }),
      await call('get_http_requests', {}),
      await call('get_events_between', { start: '1h', end: Date.now() + 1000, limit: 200 }),
      await call('get_execution_path', { pid_string: main }),
      await call('process_info', { pid_string: main }),
      await call('trace_process', { pid_string: main }),
    );
    const all = answers.join('\n');
    expect(leaks(all)).toEqual([]);
    // What was redacted is still there as such, and harmless look-alikes are kept.
    expect(all).toContain('numPassingTests');
    for (const seen of [
      'login("ada", "[redacted]") → {user: "ada", session: "[redacted]", header: "Bearer [redacted]", url: "https://api.test/me?access_token=[redacted]"}',
      'pay("[redacted]", "fail") ✗ Error: card [redacted] declined, key [redacted]',
      'stats() → {numPassingTests: 7, numFailedTests: 0}',
      "Authorization: Basic [redacted] { token: '[redacted]', numPassingTests: 7 }",
      'pay("[redacted]", "ok") → "charged [redacted]"',
      '{got: "/cb?client_secret=[redacted]", privateKey: "[redacted]"} · received after',
      'after Object#update("jwt [redacted]") [',
      'GET /hook?api_key=[redacted]&numPassingTests=7 → 200',
      'argv: /usr/bin/node',
      '--password [redacted] --url=https://x.test/?token=[redacted]',
    ]) expect(all).toContain(seen);

    const exported = JSON.parse((await call('export_trace', {})).split('\n')[0]!)[1].file as string;
    const exportText = readFileSync(exported, 'utf8');
    expect(leaks(exportText)).toEqual([]);
    expect(exportText).toContain('numPassingTests');

    await session.dispose();
    session = undefined;
    const bytes = [db, `${db}-wal`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('');
    expect(bytes.length).toBeGreaterThan(0);
    expect(leaks(bytes)).toEqual([]);
    expect(bytes).toContain('numPassingTests');
  });
});
