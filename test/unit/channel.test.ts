// The agent's outbound channel as a pure object: batches, the in-flight window, the bounded queue with a
// counted drop event, and resending after a reconnect.
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Channel } from '../../src/agent/channel.js';
import { decodeBatch, type AgentConfig, type TextBatch } from '../../src/shared/protocol.js';

const config: AgentConfig = {
  binding: 'b', actor: '7', level: 'full', sampleRate: 1, redact: 'x', batchSize: 3, maxQueue: 10, maxInFlight: 2, flushMs: 5, fromStart: false,
};

/**
 * Runs `fn` as a vm script whose timeout terminates it: a real termination, which runs no `catch` or `finally`
 * on its way out (as a vm timeout landing in agent code in a target does). `spin` is where it lands.
 */
function terminated(fn: () => void): void {
  expect(() => runInNewContext('fn()', { fn }, { timeout: 20 })).toThrow(/timed out/);
}
const spin = () => {
  for (;;);
};

function setup() {
  const sent: TextBatch[] = [];
  let now = 0;
  const timers: (() => void)[] = [];
  const clock = { nowNs: () => ++now };
  const channel = new Channel(config, { nowNs: () => clock.nowNs() }, (text) => sent.push(decodeBatch(text)), (fn) => (timers.push(fn), {}), () => undefined);
  const ev = (i: number) => [i, 'call', 'call', '7', null, null, null, null, { i }] as const;
  return { channel, sent, timers, clock, push: (i: number, critical = false) => channel.push([...ev(i)], critical) };
}

/** A channel with a data socket offered (`sockets`: each connection, what was written to it, its handlers). */
function withDataSocket() {
  const viaBinding: TextBatch[] = [];
  const sockets: { written: string[]; handlers: Record<string, (arg?: any) => void>; writableLength: number; write?: () => void; destroyed?: boolean }[] = [];
  const net = {
    connect: () => {
      const s = { written: [] as string[], handlers: {} as Record<string, (arg?: any) => void>, writableLength: 0 } as (typeof sockets)[number];
      sockets.push(s);
      return {
        // `write`: what a write runs in Node's stream code (where a termination may land).
        write: (text: string) => (s.write?.(), s.written.push(text), true),
        unref: () => undefined,
        end: () => undefined,
        destroy: () => ((s.destroyed = true), s.handlers.close?.()),
        setEncoding: () => undefined,
        on: (event: string, fn: (arg?: any) => void) => void (s.handlers[event] = fn),
        get writableLength() {
          return s.writableLength;
        },
      };
    },
  };
  let now = 0;
  const timers: (() => void)[] = [];
  const withSocket = { ...config, data: { path: '/nowhere', secret: 's', hostPid: 1 } };
  const channel = new Channel(withSocket, { nowNs: () => (now += 1e9) }, (text) => viaBinding.push(decodeBatch(text)), (fn) => (timers.push(fn), {}), () => undefined, { net, hostAlive: () => true });
  const push = (i: number) => channel.push([i, 'call', 'call', '7', null, null, null, null, { i }], false);
  const batches = (texts: string[]) => texts.filter((t) => t.startsWith('{')).map((t) => decodeBatch(t.trimEnd()));
  return { channel, viaBinding, sockets, timers, push, batches };
}

describe('Channel', () => {
  it('seals full batches at once and the rest on the timer, with gap-free sequence numbers', () => {
    const { sent, timers, push } = setup();
    for (let i = 0; i < 4; i++) push(i);
    expect(sent.map((b) => [b.seq, b.events.map((e) => e[0])])).toEqual([[1, [0, 1, 2]]]);
    timers.shift()!();
    expect(sent.map((b) => [b.seq, b.events.map((e) => e[0])])).toEqual([[1, [0, 1, 2]], [2, [3]]]);
  });

  it('holds events once the in-flight window is full and sends them when acked', () => {
    const { channel, sent, push } = setup();
    for (let i = 0; i < 9; i++) push(i);
    expect(sent).toHaveLength(2); // window of 2 batches
    expect(channel.stats()).toMatchObject({ inFlight: 2, queued: 3 });
    channel.ack(1);
    expect(sent.map((b) => b.seq)).toEqual([1, 2, 3]);
    expect(sent[2]!.events.map((e) => e[0])).toEqual([6, 7, 8]);
  });

  it('names the batch that will carry the last event queued, past the window, and sends that batch', () => {
    const { channel, sent, push, timers } = setup();
    for (let i = 0; i < 10; i++) push(i); // batches 1 and 2 in flight, [6, 7, 8] sealed, [9] filling
    expect(channel.stats().seq).toBe(2);
    expect(channel.lastQueuedSeq()).toBe(4);
    channel.ack(2);
    while (timers.length > 0) timers.shift()!();
    expect(sent.map((b) => [b.seq, b.events.map((e) => e[0])])).toEqual([[1, [0, 1, 2]], [2, [3, 4, 5]], [3, [6, 7, 8]], [4, [9]]]);
    expect(channel.lastQueuedSeq()).toBe(4);
  });

  it('sends a count of dropped events on its own when nothing else is queued, in the batch it named', () => {
    const { channel, sent, timers } = setup();
    // An event that cannot be encoded is a drop with nothing queued to carry its count.
    channel.push([0, 'call', 'call', '7', null, null, null, null, { toJSON: () => { throw new Error('no'); } }], false);
    expect(channel.stats()).toMatchObject({ seq: 0, queued: 0, dropped: 1 });
    expect(channel.lastQueuedSeq()).toBe(1);
    while (timers.length > 0) timers.shift()!();
    expect(sent.map((b) => [b.seq, b.events.map((e) => [e[1], e[2], e[8]])])).toEqual([[1, [['agent', 'dropped', '{"count":1}']]]]);
  });

  it('drops past maxQueue, counts the drops, and reports them as a critical event', () => {
    const { channel, sent, push, timers } = setup();
    for (let i = 0; i < 6; i++) push(i); // two batches in flight, window full
    for (let i = 6; i < 20; i++) push(i); // 10 fit in the queue, 4 dropped
    expect(channel.stats()).toMatchObject({ queued: 10, dropped: 4 });
    push(99, true); // critical events have a reserve beyond maxQueue
    expect(channel.stats()).toMatchObject({ queued: 11, dropped: 4 });
    channel.ack(2);
    channel.ack(3);
    channel.ack(4);
    channel.ack(5);
    // full batches went on the acks; the partial rest waits for the flush timer
    while (timers.length > 0) timers.shift()!();
    const all = sent.flatMap((b) => b.events);
    expect(all.filter((e) => e[1] === 'agent')).toEqual([[expect.any(Number), 'agent', 'dropped', '7', null, null, null, null, '{"count":4}']]);
    expect(all.filter((e) => e[1] === 'call').map((e) => e[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 99]);
  });

  it('resends unacknowledged batches after a reconnect, in order', () => {
    const { channel, sent, push } = setup();
    for (let i = 0; i < 6; i++) push(i);
    const again: TextBatch[] = [];
    channel.resume(1, (text) => again.push(decodeBatch(text)));
    expect(again.map((b) => b.seq)).toEqual([2]);
    expect(sent.map((b) => b.seq)).toEqual([1, 2]);
  });

  it('bounds the queue and the unacknowledged batches by bytes too, whatever the events weigh', () => {
    const sent: TextBatch[] = [];
    const timers: (() => void)[] = [];
    let now = 0;
    const small = { ...config, batchSize: 2, maxQueue: 1000, maxInFlight: 100, maxQueueBytes: 1000, maxInFlightBytes: 1500 };
    const channel = new Channel(small, { nowNs: () => ++now }, (text) => sent.push(decodeBatch(text)), (fn) => (timers.push(fn), {}), () => undefined);
    const big = 'x'.repeat(300);
    for (let i = 0; i < 20; i++) channel.push([i, 'log', 'info', '7', null, null, null, null, { big }], false);
    // ~350 bytes an event: the in-flight window closes past 1,500 bytes (2 batches of 2), the queue past 1,000.
    const s = channel.stats();
    expect([sent.length, s.inFlight, s.queued, s.dropped]).toEqual([2, 2, 3, 13]);
    expect(s.inFlightBytes).toBeGreaterThanOrEqual(1500);
    expect(s.queuedBytes).toBeGreaterThanOrEqual(1000);
    channel.ack(2);
    while (timers.length > 0) timers.shift()!();
    const events = sent.flatMap((b) => b.events);
    expect(events.filter((e) => e[1] === 'log').map((e) => e[0])).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(events.filter((e) => e[1] === 'agent').map((e) => e[8])).toEqual(['{"count":13}']);
  });

  it("survives the host's evaluation landing inside its own flush (an ack by the inspector runs as an interrupt)", () => {
    const { channel, sent, timers, push } = setup();
    // The interrupt, placed where V8 may run one: just after the outer flush sealed its batch, before it
    // takes it. The ack's own flush finds the channel already flushing.
    const internals = channel as unknown as { seal(): void };
    const seal = internals.seal.bind(channel);
    let interrupts = 0;
    internals.seal = () => {
      seal();
      if (interrupts++ === 0) channel.ack(0);
    };
    push(1);
    expect(() => timers.shift()!()).not.toThrow();
    push(2);
    timers.shift()?.();
    expect(sent.map((b) => [b.seq, b.events.map((e) => e[0])])).toEqual([[1, [1]], [2, [2]]]);
    expect(interrupts).toBeGreaterThan(0);
  });

  it('after its data socket closed under it, sends nothing through the binding until the socket is back (the host may be dying)', () => {
    // Node 20's inspector crashed the target writing a binding call to the connection of a host killed
    // with SIGKILL (the I/O thread's TcpHolder::WriteRaw after the end of the connection).
    const { channel, viaBinding, sockets, timers, push, batches } = withDataSocket();
    push(0); // before the socket: the binding
    timers.splice(0).forEach((fn) => fn());
    expect(viaBinding.map((b) => b.seq)).toEqual([1]);
    sockets[0]!.handlers.data!('1\n'); // the host accepts the socket, everything up to 1 stored
    for (let i = 1; i <= 3; i++) push(i); // one full batch, through the socket
    expect(batches(sockets[0]!.written).map((b) => b.seq)).toEqual([2]);
    sockets[0]!.handlers.close!();
    for (let i = 4; i <= 6; i++) push(i);
    timers.splice(0).forEach((fn) => fn());
    expect(viaBinding.map((b) => b.seq)).toEqual([1]);
    // The socket is back (the reconnect timer ran): what was not acknowledged goes again, through it.
    expect(sockets).toHaveLength(2);
    sockets[1]!.handlers.data!('1\n');
    expect(batches(sockets[1]!.written).map((b) => b.seq)).toEqual([2, 3]);
    expect(viaBinding.map((b) => b.seq)).toEqual([1]);
  });

  it('at a handover, sends past the window up to four times it, and no further', () => {
    const { channel, sent, push } = setup();
    for (let i = 0; i < 30; i++) push(i);
    expect(channel.stats()).toMatchObject({ inFlight: 2, queued: 10, dropped: 14 });
    channel.handover();
    // Window of 2, so 8 at a handover: 6 more batches, the queue's 10 events; the drops go with the first.
    expect(sent.map((b) => b.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(channel.stats()).toMatchObject({ inFlight: 6, queued: 0, dropped: 0 });
    for (let i = 30; i < 36; i++) push(i); // the usual window stays shut: they wait
    expect(channel.stats()).toMatchObject({ inFlight: 6, queued: 6 });
    channel.handover();
    expect(channel.stats()).toMatchObject({ inFlight: 8, queued: 0 });
  });

  it('at a handover, hands batches whose socket write is still in the process to the binding, each once', () => {
    const { channel, viaBinding, sockets, timers, push, batches } = withDataSocket();
    push(0); // before the socket: the binding, and the socket connects
    timers.splice(0).forEach((fn) => fn());
    sockets[0]!.handlers.data!('1\n');
    for (let i = 1; i <= 3; i++) push(i);
    expect(batches(sockets[0]!.written).map((b) => b.seq)).toEqual([2]);
    channel.handover(); // written out of the process: nothing more
    expect(viaBinding.map((b) => b.seq)).toEqual([1]);
    sockets[0]!.writableLength = 100; // the kernel's buffer is full: the host reads behind
    for (let i = 4; i <= 6; i++) push(i);
    channel.handover();
    expect(viaBinding.map((b) => b.seq)).toEqual([1, 2, 3]);
    channel.handover();
    expect(viaBinding.map((b) => b.seq)).toEqual([1, 2, 3]);
    expect(batches(sockets[0]!.written).map((b) => b.seq)).toEqual([2, 3]);
  });

  it('keeps an event written in place whole when an interrupt flushes or emits while it is written', () => {
    const { channel, sent, timers, push } = setup();
    push(1);
    const out = channel.begin();
    out.text('[2,"call","call","7",null,null,null,null]');
    // The interrupt (a host evaluation: an ack, flushNow) in the middle of the event: it may not seal half an
    // event, and what it emits waits until the event is done.
    channel.flush();
    push(3);
    expect(sent).toEqual([]);
    out.byte(1);
    out.text('{"i":2}');
    channel.commit();
    expect(sent.map((b) => b.events.map((e) => [e[0], e[8]]))).toEqual([[[1, '{"i":1}'], [2, '{"i":2}'], [3, '{"i":3}']]]);
    // An event that could not be completed leaves nothing behind.
    channel.begin().text('[4,"call","ca');
    push(5);
    channel.abandon();
    timers.shift()!();
    expect(sent.map((b) => b.events.map((e) => e[0]))).toEqual([[1, 2, 3], [5]]);
    expect(channel.stats()).toMatchObject({ queued: 0, queuedBytes: 0, dropped: 0 });
  });
  it('loses no batch to a termination that cuts its flush: the batch stays queued, or in flight and is sent again', () => {
    const { channel, sent, timers, clock, push } = setup();
    push(0);
    push(1);
    // The cut lands as the batch's header is stamped, once the batch is sealed (before: it was taken off the
    // queue, numbered 1, and lost; the next batch came as 2, and the tracer held everything after the gap).
    const tick = clock.nowNs;
    clock.nowNs = spin;
    terminated(() => push(2));
    clock.nowNs = tick;
    channel.recover();
    expect(sent).toEqual([]);
    channel.flush();
    push(3);
    timers.splice(0).forEach((fn) => fn());
    expect(sent.map((b) => [b.seq, b.events.map((e) => e[0])])).toEqual([[1, [0, 1, 2]], [2, [3]]]);
    // Cut in the send itself, once the batch is in flight: sent again at recovery.
    channel.ack(2);
    const binding = (channel as unknown as { binding: (text: string) => void }).binding;
    (channel as unknown as { binding: (text: string) => void }).binding = spin;
    for (let i = 4; i <= 5; i++) push(i);
    terminated(() => push(6));
    (channel as unknown as { binding: (text: string) => void }).binding = binding;
    channel.recover();
    expect(sent.map((b) => [b.seq, b.events.map((e) => e[0])])).toEqual([[1, [0, 1, 2]], [2, [3]], [3, [4, 5, 6]]]);
    expect(channel.stats()).toMatchObject({ seq: 3, queued: 0, queuedBytes: 0, dropped: 0 });
  });

  it('lets go of a data socket whose write a termination cut (its stream stuck mid-write), and sends what is unacknowledged again', () => {
    const { channel, viaBinding, sockets, timers, push, batches } = withDataSocket();
    push(0);
    timers.splice(0).forEach((fn) => fn());
    sockets[0]!.handlers.data!('1\n');
    sockets[0]!.write = spin;
    for (let i = 1; i <= 2; i++) push(i);
    terminated(() => push(3));
    // Node's stream would keep every later write in the process for good: the socket is let go.
    channel.recover();
    expect(sockets[0]!.destroyed).toBe(true);
    expect(viaBinding.map((b) => b.seq)).toEqual([1, 2]);
    for (let i = 4; i <= 6; i++) push(i);
    expect(viaBinding.map((b) => b.seq)).toEqual([1, 2, 3]);
    // A new socket: its hello has the unacknowledged sent again through it.
    timers.splice(0).forEach((fn) => fn());
    const next = sockets.at(-1)!;
    expect(next).not.toBe(sockets[0]);
    next.handlers.data!('1\n');
    expect(batches(next.written).map((b) => b.seq)).toEqual([2, 3]);
    expect(batches(sockets[0]!.written)).toEqual([]);
  });
});
