// message_queue_analysis on real workers that never listen for messages: what was posted to one still
// running is pending; to one that ended, never read (as get_message_flow says); the first turns into the
// second when that worker ends. Workers nodescope does not follow (trace_all false) recorded nothing, so
// what was posted to them is "receiver not traced" in both tools, neither pending nor never read.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { messageFlow } from '../../src/query/messages.js';
import { mailboxStats } from '../../src/query/queues.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { TOOLS } from '../../src/tools/registry.js';
import { attached, eventually, startFixture } from '../helpers.js';

const ALL = { sinceMs: null, untilMs: null };
const PAGE = { limit: 50, offset: 0, page: 1 };

describe('mailboxes of workers that never read', () => {
  it('counts a message to a running worker as pending and one to a worker that ended as never read', async () => {
    const { app, t } = await attached('mailbox/app.cjs', { ready: /^ready$/ });
    const main = String(app.pid);
    app.send('go');
    await app.line(/^gone$/);
    const actor = (name: string) => eventually(() => (t.tracer.ingest.flush(), t.store.actors().find((a) => a.name === name)?.id), `the ${name} worker`);
    const [deaf, gone] = [await actor('deaf'), await actor('gone')];
    const counts = () => {
      t.tracer.ingest.flush();
      const s = mailboxStats(t.store);
      return {
        pending: s.pending.map((m) => [m.actor, m.count]),
        unread: s.unread.map((m) => [m.actor, m.count]),
        pairs: s.pairs.filter((p) => p.from === main).map((p) => [p.to, p.sent, p.received, p.pending, p.unread, p.before_tracing]),
      };
    };
    const before = await eventually(() => t.store.actor(gone)?.ended_ms != null && counts(), 'the gone worker to end');
    expect(before).toEqual({
      pending: [[deaf, 1]],
      unread: [[gone, 1]],
      pairs: [[deaf, 1, 0, 1, 0, 0], [gone, 1, 0, 0, 1, 0]].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    });
    expect(messageFlow(t.store, main, gone, ALL, PAGE).messages.map((m) => m.status)).toEqual(['unread']);
    expect(messageFlow(t.store, main, deaf, ALL, PAGE).messages.map((m) => m.status)).toEqual(['pending']);

    app.send('end');
    await app.line(/^ended$/);
    const after = await eventually(() => t.store.actor(deaf)?.ended_ms != null && counts(), 'the deaf worker to end');
    expect(after.pending).toEqual([]);
    expect(after.unread.sort()).toEqual([[deaf, 1], [gone, 1]].sort());
    expect(messageFlow(t.store, main, deaf, ALL, PAGE).messages.map((m) => m.status)).toEqual(['unread']);
  });
});

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

describe('mailboxes of workers not followed (trace_all false)', () => {
  it('says each receiver is not traced, in get_message_flow and message_queue_analysis alike', async () => {
    const app = startFixture('mailbox/app.cjs');
    await app.line(/^ready$/);
    session = new Session({ config: resolveConfig({ trace_all: 'false' }, {}) });
    await session.attach(String(app.pid));
    app.send('go');
    await app.line(/^gone$/);
    const call = async (name: string, args: Record<string, unknown> = {}) => {
      const r = await callTool(TOOLS.find((t) => t.name === name)!, args, session!);
      return { text: (r.content as { text: string }[]).map((c) => c.text).join('\n'), data: r.structuredContent as any };
    };
    const main = String(app.pid);
    // Only the parent recorded anything about the workers ('deaf' started first): that they came online and 'gone' ended.
    const [deaf, gone] = [`${main}/w1`, `${main}/w2`];
    await eventually(async () => (await session!.sync(), session!.store.actor(gone)?.ended_ms != null), 'the end of gone');
    const rows = session.store.db.prepare('SELECT type, subtype, actor, from_actor FROM events WHERE actor IN (?, ?)').all(deaf, gone) as object[];
    expect(rows.map((r) => Object.values(r).join(' ')).sort()).toEqual([`worker exit ${gone} ${main}`, `worker online ${deaf} ${main}`, `worker online ${gone} ${main}`]);

    const flow = await eventually(async () => {
      const r = await call('get_message_flow', { from_pid: main, to_pid: deaf });
      return r.data?.total === 1 && r;
    }, 'the message to deaf');
    const sent = flow.data.messages[0].sent;
    expect(flow.text.split('\n')).toEqual([
      `Messages between ${main} "app.cjs" and ${deaf}: 1`,
      `${sent} ${main} → ${deaf} [worker] {to: "deaf"} · receiver not traced (nothing recorded in ${deaf}: a receipt would not be recorded) [msg ${flow.data.messages[0].ref}]`,
      'showing 1–1 of 1',
    ]);
    expect(flow.data.messages.map((m: any) => [m.from, m.to, m.message, m.status, m.received, m.latency_ms])).toEqual([[main, deaf, '{to: "deaf"}', 'not_traced', null, null]]);
    // A worker that ended without being traced may have read what it was sent: not "never read" either.
    const ended = await call('get_message_flow', { from_pid: main, to_pid: gone, format: 'mermaid' });
    expect(ended.text.split('\n')[5]).toBe('  A-xB: [worker] {to: "gone"} (receiver not traced)');

    const queues = await call('message_queue_analysis');
    const lines = queues.text.split('\n');
    // Up to the event-loop delay, which is the threads' to answer in time or not.
    expect(lines.slice(1, lines.findIndex((l) => l.startsWith('Event-loop delay')))).toEqual([
      'Pending per receiver: none',
      'Pairs:',
      ...[deaf, gone].sort().map((to) => `  ${main} → ${to}: 1 sent, receiver not traced (nothing recorded in ${to}: its receipts would not be recorded)`),
    ]);
    expect(queues.data.pending).toEqual([]);
    expect(queues.data.unread).toEqual([]);
    expect(queues.data.pairs.map((p: any) => [p.from, p.to, p.sent, p.received, p.pending, p.unread, p.before_tracing, p.not_traced])).toEqual(
      [deaf, gone].sort().map((to) => [main, to, 0, 0, 0, 0, 0, 1]),
    );
  });
});
