// pino with a transport, as most Node programs log: each line is written to fd 1 or 2 by the transport's
// worker thread (thread-stream running sonic-boom), never through process.stdout, and the worker ends with a
// process.exit() inside its own 'exit' listener, which runs nothing after it in that thread. Every line
// reaches get_logs once, from the worker that wrote it, with pino's level; the message pino sends each
// worker at its start (PINO_CONFIG), which the worker never reads, is shown as never read (by
// message_queue_analysis too). The lines logged as the program ends are kept, however the worker is ended.
import { describe, expect, it } from 'vitest';
import { attached, eventually, events, startFixture } from '../helpers.js';
import { messageFlow, renderMessage } from '../../src/query/messages.js';
import { mailboxStats } from '../../src/query/queues.js';
import { nodeTargets } from '../targets/index.js';

const FIXTURE = 'output/transport.cjs';
const ALL = { sinceMs: null, untilMs: null };
const PAGE = { limit: 50, offset: 0, page: 1 };
/**
 * Lines logged in one go as the program ends: several batches, within what a pipe holds (a burst of 30,000
 * right before the end printed nothing at all on Node 26, untraced, to a file as well: pino's to say).
 */
const LAST_BURST = 1000;

/** [actor, level, stream, text]: w1 is the transport started before attach, w2 and w3 those started after. */
const EXPECTED = [
  ['w1', 'info', 'stdout', '{"level":30,"n":1,"msg":"transport started at load"}'],
  ['w2', 'warn', 'stdout', '{"level":40,"msg":"transport started after attach"}'],
  ['w3', 'error', 'stderr', '{"level":50,"msg":"transport to fd 2"}'],
  ['main', 'log', 'stdout', 'done'],
];

async function printed(node: string, traced: boolean): Promise<string[]> {
  const { app, t } = traced ? await attached(FIXTURE, { ready: /^ready$/, node }) : { app: startFixture(FIXTURE, [], { node }), t: null };
  await app.line(/^ready$/);
  app.send('go');
  await app.line(/^done$/);
  await t?.tracer.detach();
  app.proc.stdin.end();
  await app.exited;
  // Two transports' workers write to fd 1 at the same time: their lines' order is theirs to choose.
  return app.stdout().split('\n').sort();
}

describe.each(nodeTargets())('pino transport on Node $major', ({ bin: node }) => {
  it("records each line its workers write to fd 1 and 2 once, with pino's level, from the worker; its first message shows as never read", async () => {
    const { app, t } = await attached(FIXTURE, { ready: /^ready$/, node });
    const pid = String(app.pid);
    app.send('go');
    await app.line(/^done$/);
    const name = (actor: string) => (actor === pid ? 'main' : actor.startsWith(`${pid}/`) ? actor.slice(pid.length + 1) : actor);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = events(t.store, "type = 'log'");
      return r.length >= EXPECTED.length && r;
    }, () => `four lines, got ${JSON.stringify(events(t.store, "type = 'log'").map((e) => e.payload.text))}`);
    const got = rows.map((e) => [name(e.actor), e.subtype, e.payload.stream, e.payload.text]);
    expect(got.sort()).toEqual([...EXPECTED].sort());

    // pino's first message to each worker started after attach: sent, and never read (thread-stream's worker
    // has no 'message' listener, so Node never delivers it), the worker having ended.
    for (const worker of ['w2', 'w3']) {
      const { messages } = messageFlow(t.store, pid, `${pid}/${worker}`, ALL, PAGE);
      expect(messages.map((m) => [name(m.from), name(m.to), (m.message as { code: string }).code, m.status])).toEqual([
        ['main', worker, 'PINO_CONFIG', 'unread'],
        [worker, 'main', 'READY', 'received'],
      ]);
      expect(renderMessage(messages[0]!)).toContain(` · never read (${pid}/${worker} ended without reading it)`);
      // message_queue_analysis says the same: sent before the worker's first event, which was its start.
      const pair = mailboxStats(t.store).pairs.find((p) => p.from === pid && p.to === `${pid}/${worker}`);
      expect([pair?.sent, pair?.pending, pair?.unread, pair?.before_tracing]).toEqual([1, 0, 1, 0]);
    }
    await t.tracer.detach();
  });

  // At the exit pino ends each transport and waits for its worker, which wakes the main thread (Atomics.notify)
  // once its destination closed; the main thread then ends the process, and the worker with it, before the
  // line's batch leaves on its flush timer unless the agent hands over at that notify. `last busy…`: the worker
  // runs no more JavaScript after it woke the main thread (as a thread descheduled on a loaded machine would):
  // the line was lost every time before. `late`: its data socket is up (the other cases go through the binding).
  it.each(['last', 'last busy', 'last busy exit', 'last busy sync', 'last busy late'])('%s: records the line logged as the program ends, written by the worker pino ends at the exit', async (command) => {
    const { app, t } = await attached(FIXTURE, { ready: /^ready$/, node });
    app.send(command);
    if (command === 'last') app.proc.stdin.end();
    await app.exited;
    const lines = [...(command.endsWith('late') ? ['{"level":30,"msg":"first words"}'] : []), '{"level":30,"msg":"last words"}'];
    expect(app.lines()).toEqual(['ready', ...lines]);
    const rows = await eventually(() => {
      t.tracer.ingest.flush();
      const r = events(t.store, "type = 'log'");
      return r.length >= lines.length && r;
    }, 'the last line');
    expect(rows.map((e) => [e.actor, e.subtype, e.payload.stream, e.payload.text])).toEqual(lines.map((text) => [`${app.pid}/w2`, 'info', 'stdout', text]));
  });

  it(`records every one of ${LAST_BURST} lines logged as the program ends, the transport's worker busy after it woke the main thread`, async () => {
    const { app, t } = await attached(FIXTURE, { ready: /^ready$/, node });
    app.send(`last busy ${LAST_BURST}`);
    await app.exited;
    // (The pipe may still hold the last lines when the process's exit is known.)
    await eventually(() => app.lines().length === 1 + LAST_BURST, () => `${LAST_BURST} lines printed, got ${app.lines().length - 1}`);
    const w2 = `${app.pid}/w2`;
    const logs = () => (t.tracer.ingest.flush(), events(t.store, "actor = ? AND type = 'log'", w2).map((e) => e.payload.text));
    await eventually(() => logs().length >= LAST_BURST, () => `${LAST_BURST} lines, got ${logs().length}`);
    // Each once, in order (none dropped: the queue holds 20,000).
    expect(logs()).toEqual(app.lines().slice(1));
  });

  it('prints the same lines traced as untraced', async () => {
    expect(await printed(node, true)).toEqual(await printed(node, false));
  });
});
