// All of the output: what a program prints reaches get_logs once per line, however it was written, with the
// level where one is known, attributed to the thread that wrote it; and the program prints the same bytes
// traced as untraced.
import { describe, expect, it } from 'vitest';
import { attached, eventually, events, startFixture } from '../helpers.js';
import { logs } from '../../src/query/logs.js';
import { nodeTargets } from '../targets/index.js';

const FIXTURE = 'output/app.cjs';

/** What the fixture prints after "go", as [actor, level, stream, text]: `main` and `worker` stand for the actors. */
const EXPECTED = [
  ['main', 'log', 'stdout', 'GET / 200 (saved console.log)'],
  ['main', 'stdout', 'stdout', 'raw stdout write'],
  ['main', 'stdout', 'stdout', 'a line in three writes'],
  ['main', 'stdout', 'stdout', 'a buffer, two lines'],
  ['main', 'stdout', 'stdout', 'second of them'],
  ['main', 'stderr', 'stderr', 'raw stderr write'],
  ['main', 'error', 'stderr', 'console.error line'],
  ['main', 'info', 'stdout', 'console.info line'],
  ['main', 'log', 'stdout', 'console.log over\ntwo lines'],
  ['main', 'stdout', 'stdout', 'fs.writeSync to fd 1'],
  // Recorded without their terminal control sequences: a text search finds what the terminal showed.
  ['main', 'log', 'stdout', 'ok'],
  ['main', 'stderr', 'stderr', 'ERROR a coloured write, a link'],
  ['main', 'stdout', 'stdout', 'promisified fs.write'],
  ['main', 'log', 'stdout', 'promisified fs.write resolved to bytesWritten, buffer'],
  ['main', 'info', 'stdout', '{"level":30,"n":1,"msg":"pino default destination"}'],
  ['main', 'warn', 'stdout', '{"level":40,"msg":"pino destination(1) sync"}'],
  ['main', 'error', 'stderr', '{"level":50,"msg":"pino to fd 2"}'],
  ['worker', 'stdout', 'stdout', 'worker fd 1'],
  ['worker', 'log', 'stdout', 'worker console.log'],
  ['worker', 'stdout', 'stdout', 'worker stdout write'],
  ['main', 'log', 'stdout', 'done'],
];

async function untracedOutput(node: string): Promise<string> {
  const app = startFixture(FIXTURE, [], { node });
  await app.line(/^ready$/);
  app.send('go');
  await app.line(/^done$/);
  app.send('check');
  await app.line(/^check /);
  app.proc.stdin.end();
  await app.exited;
  return app.stdout();
}

// On every Node version: the worker's stdio and the console's internals are Node's own, and they change.
describe.each(nodeTargets())('output on Node $major', ({ bin: node }) => {
  it('records every line once, with stream and level, from a saved console.log, stream writes, fd 1 and 2, pino and a worker; the program prints the same bytes; detach undoes it all', async () => {
    const { app, t } = await attached(FIXTURE, { ready: /^ready$/, node });
    const pid = String(app.pid);
    app.send('go');
    await app.line(/^done$/);
    const name = (actor: string) => (actor === pid ? 'main' : actor === `${pid}/w1` ? 'worker' : actor);
    // Each thread's last line: the worker's come through its own channel, sent as it exits, and may arrive
    // after the main thread's "done" (seen 20-40 ms later on a loaded machine).
    const last = (who: string) => EXPECTED.filter((r) => r[0] === who).at(-1)![3];
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = events(t.store, "type = 'log'");
      return ['main', 'worker'].every((who) => r.some((e) => name(e.actor) === who && e.payload.text === last(who))) && r;
    }, () => `the last line of each thread (have: ${events(t.store, "type = 'log'").map((e) => `${name(e.actor)} ${e.payload.text}`).join(' | ')})`);
    const got = rows.map((e) => [name(e.actor), e.subtype, e.payload.stream, e.payload.text]);
    // Each thread's lines in the order it wrote them; the worker's among the main thread's wherever they fell.
    expect(got.filter((r) => r[0] === 'main')).toEqual(EXPECTED.filter((r) => r[0] === 'main'));
    expect(got.filter((r) => r[0] === 'worker')).toEqual(EXPECTED.filter((r) => r[0] === 'worker'));
    expect(got).toHaveLength(EXPECTED.length);

    // What get_logs answers from: the same lines, filtered by level.
    const all = { sinceMs: null, untilMs: null };
    expect(logs(t.store, { window: all, level: 'warn' }, 50).lines.map((l) => l.text)).toEqual(['{"level":40,"msg":"pino destination(1) sync"}']);
    expect(logs(t.store, { window: all }, 50).total).toBe(EXPECTED.length);
    expect(logs(t.store, { window: all, grep: 'error a coloured' }, 50).lines.map((l) => [l.level, l.text])).toEqual([['stderr', 'ERROR a coloured write, a link']]);

    // Detach puts back everything it patched, and the program's output was the same bytes throughout.
    await t.tracer.detach();
    app.send('check');
    expect(JSON.parse((await app.line(/^check /)).slice(6))).toEqual({ console: true, streams: true, stdoutGetter: true, fs: true, workers: true });
    app.proc.stdin.end();
    await app.exited;
    expect(app.stdout()).toBe(await untracedOutput(node));
  });
});
