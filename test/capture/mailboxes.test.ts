// message_queue_analysis on real workers that never listen for messages: what was posted to one still
// running is pending; to one that ended, never read (as get_message_flow says); the first turns into the
// second when that worker ends.
import { describe, expect, it } from 'vitest';
import { messageFlow } from '../../src/query/messages.js';
import { mailboxStats } from '../../src/query/queues.js';
import { attached, eventually } from '../helpers.js';

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
