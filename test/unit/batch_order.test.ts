// The tracer's side of one thread's batch stream (ThreadLink): a batch that comes ahead of a missing one
// (the data socket and the binding are two paths) waits for it and is stored after it; at the thread's end
// what waits is stored, and a missing batch that trails on the socket after that is stored too, once.
import { describe, expect, it } from 'vitest';
import { encodeBatchOf, encodeEvent, type AgentConfig } from '../../src/shared/protocol.js';
import { ThreadLink } from '../../src/trace/thread.js';
import type { CdpSession } from '../../src/trace/cdp.js';
import type { Ingest } from '../../src/trace/ingest.js';

const config = { binding: 'b', actor: '7/w1', level: 'full', sampleRate: 1, redact: 'x', batchSize: 256, maxQueue: 10, maxInFlight: 16, flushMs: 10, fromStart: false } as AgentConfig;

function setup() {
  const stored: number[] = [];
  const asked: string[] = [];
  const session = { closed: false, send: async (_m: string, p: { expression: string }) => (asked.push(p.expression), { result: {} }), on: () => () => undefined } as unknown as CdpSession;
  const ingest = { accept: (text: string) => stored.push(JSON.parse(text.slice(0, text.indexOf('\u0001'))).seq), data: () => undefined, backlog: () => 0 } as unknown as Ingest;
  const link = new ThreadLink(config.actor, session, config, ingest);
  const batch = (seq: number) => encodeBatchOf({ seq, actor: config.actor, tsNs: seq, wallMs: seq }, `\u0001${encodeEvent([seq, 'log', 'log', config.actor, null, null, null, null, { text: String(seq) }])}`);
  const receive = (seq: number) => (link as unknown as { receive(text: string): void }).receive(batch(seq));
  return { link, stored, asked, receive };
}

describe('A thread\'s batches', () => {
  it('that come ahead of a missing one are stored after it, in order, and the agent is asked to resend once', () => {
    const { stored, asked, receive } = setup();
    receive(1);
    receive(3);
    receive(4);
    expect(stored).toEqual([1]);
    expect(asked.filter((e) => e.includes('resume(1)'))).toHaveLength(1);
    receive(2);
    expect(stored).toEqual([1, 2, 3, 4]);
    receive(3); // resent: already stored
    expect(stored).toEqual([1, 2, 3, 4]);
  });

  it('still waiting at the thread\'s end are stored then; a missing one that trails after is stored once', () => {
    const { link, stored, receive } = setup();
    receive(1);
    receive(3);
    link.ended();
    expect(stored).toEqual([1, 3]);
    receive(2);
    receive(2);
    expect(stored).toEqual([1, 3, 2]);
  });
});
