// The host's calls and the agent's own code. The host calls the agent by Runtime.evaluate, which V8 runs as
// an interrupt of whatever JavaScript the thread is running: at any function entry or loop back-edge, the
// agent's own included. Here the agent is installed in this process, and a host call is made where an
// interrupt may land: from inside the agent's code (the binding, which its flush calls; the channel's seal,
// which its queue calls). Each test also shows what the same call did when it ran there at once.
import { afterEach, describe, expect, it } from 'vitest';
import { install, type HostAnswer } from '../../src/agent/index.js';
import { AGENT_GLOBAL, decodeBatch, type AgentConfig, type TextBatch } from '../../src/shared/protocol.js';
import { ThreadLink } from '../../src/trace/thread.js';
import type { CdpSession } from '../../src/trace/cdp.js';
import type { Ingest } from '../../src/trace/ingest.js';

type Agent = ReturnType<typeof install> & Record<string, any>;

const actor = String(process.pid);
const binding = `__nodescope_host_calls_${process.pid}`;
const g = globalThis as Record<string, unknown>;

/** The agent, installed in this thread; `onSend` runs inside the agent's flush, after each batch went. */
function setup(overrides: Partial<AgentConfig> = {}) {
  const batches: TextBatch[] = [];
  const hooks: { onSend?: (batch: TextBatch) => void } = {};
  g[binding] = (text: string) => {
    const batch = decodeBatch(text);
    batches.push(batch);
    hooks.onSend?.(batch);
  };
  const config: AgentConfig = { binding, actor, level: 'minimal', sampleRate: 1, redact: '', batchSize: 1, maxQueue: 1000, maxInFlight: 100, flushMs: 5, fromStart: false, ...overrides };
  const agent = install(config) as Agent;
  batches.length = 0; // the thread's start
  const emit = (i: number) => agent.emit('process', 'test', actor, { i });
  const events = () => batches.flatMap((b) => b.events.filter((e) => e[2] === 'test').map((e) => JSON.parse(e[8] as string).i as number));
  return { agent, batches, hooks, emit, events };
}

let ids = 0;
/** A host call as the tracer makes it (src/trace/thread.ts). */
const host = (agent: Agent, fn: (a: Agent) => unknown): [number, HostAnswer] => {
  const id = ++ids;
  return [id, agent.host(id, fn)];
};

afterEach(() => {
  (g[Symbol.for(AGENT_GLOBAL) as unknown as string] as Agent | undefined)?.uninstall();
  delete g[binding];
});

describe('host calls landing inside the agent', () => {
  it('flushNow inside the queue: each event sent once, none in an empty batch', () => {
    // The interrupt where V8 may run one: at the entry of the channel's seal, called by its queue once the
    // event is appended and counted.
    const run = (flushNow: (agent: Agent) => () => unknown) => {
      const { agent, batches, events, emit } = setup();
      const channel = agent.channel as unknown as { seal(): void };
      const seal = channel.seal.bind(channel);
      let answer: (() => unknown) | undefined;
      let landed = false;
      channel.seal = () => {
        if (!landed) {
          landed = true;
          answer = flushNow(agent);
        }
        seal();
      };
      emit(1);
      emit(2);
      const out = { events: events(), empty: batches.filter((b) => b.events.length === 0).length, answered: answer!(), sent: batches.at(-1)!.seq };
      agent.uninstall();
      return out;
    };
    // At once, the flush took the event the queue was sealing and left the queue an empty batch to send.
    expect(run((agent) => ((seq) => () => seq)(agent.flushNow()))).toEqual({ events: [1, 2], empty: 1, answered: 2, sent: 4 });
    expect(
      run((agent) => {
        const [id, first] = host(agent, (a) => a.flushNow());
        expect(first).toEqual({ later: true });
        return () => agent.answer(id);
      }),
    ).toEqual({ events: [1, 2], empty: 0, answered: { v: 2 }, sent: 3 });
  });

  it("flushNow inside the channel's flush answers the last batch that flush sends", () => {
    const run = (flushNow: (agent: Agent) => () => unknown) => {
      const { agent, batches, hooks, emit } = setup({ maxInFlight: 5 });
      for (let i = 1; i <= 4; i++) emit(i); // batches 2 to 5 (1: the thread's start): the window is full
      for (let i = 5; i <= 8; i++) emit(i); // queued, in four batches
      let answer: (() => unknown) | undefined;
      let landed = false;
      hooks.onSend = () => {
        if (landed) return;
        landed = true;
        answer = flushNow(agent);
      };
      // The ack opens the window: its flush sends the four batches, the host's flushNow lands after the first.
      agent.host(++ids, (a) => a.ack(1000));
      const out = { sent: batches.at(-1)!.seq, answered: answer!() };
      agent.uninstall();
      return out;
    };
    // At once, flushNow finds the flush running: it answers the batch that will carry the last event queued,
    // not what has gone so far (batch 6: a question waited for it and missed the last three).
    expect(run((agent) => ((seq) => () => seq)(agent.flushNow()))).toEqual({ sent: 9, answered: 9 });
    expect(
      run((agent) => {
        const [id, first] = host(agent, (a) => a.flushNow());
        expect(first).toEqual({ later: true });
        return () => agent.answer(id);
      }),
    ).toEqual({ sent: 9, answered: { v: 9 } });
  });

  it('uninstall inside a flush: nothing goes through the binding after it', () => {
    const run = (uninstall: (agent: Agent) => void) => {
      const { agent, batches, hooks, emit } = setup({ maxInFlight: 5 });
      for (let i = 1; i <= 8; i++) emit(i); // four batches in flight, four queued
      let removedAt: number | undefined;
      hooks.onSend = () => {
        if (removedAt !== undefined) return;
        removedAt = -1;
        uninstall(agent);
      };
      const original = agent.uninstall.bind(agent);
      agent.uninstall = () => {
        original();
        removedAt = batches.length;
      };
      agent.host(++ids, (a) => a.ack(1000));
      return { sentAfter: batches.length - removedAt! };
    };
    // At once, the flush it interrupted went on through the binding of a removed agent (a dead session's, on detach).
    expect(run((agent) => agent.uninstall())).toEqual({ sentAfter: 3 });
    expect(run((agent) => void host(agent, (a) => a.uninstall()))).toEqual({ sentAfter: 0 });
  });

  it("every call that changes the agent's state waits for the agent code it landed in, and is answered after", () => {
    const calls: [string, (a: Agent) => unknown][] = [
      ['ack', (a) => a.ack(0)],
      ['flushNow', (a) => a.flushNow()],
      ['resume', (a) => a.resume(0)],
      ['configure', (a) => a.configure({ sampleRate: 1 })],
      ['traceModule', (a) => a.traceModule({ module: 'node:path', maxCalls: 10, maxPerSecond: 10, durationMs: 1000 })],
      ['untraceModule', (a) => a.untraceModule('node:path')],
      ['instrumented', (a) => a.instrumented({ module: 'x', maxCalls: 1, maxPerSecond: 1, durationMs: 1 }, '/x.mjs', ['f'], 'live-edit')],
      ['wrapSome', (a) => a.wrapSome({ module: 'x', maxCalls: 1, maxPerSecond: 1, durationMs: 1 }, '/x.mjs', ['f'])],
      ['breakpointed', (a) => a.breakpointed({ module: 'x', maxCalls: 1, maxPerSecond: 1, durationMs: 1 }, '/x.mjs', ['f'])],
      ['forgetSite', (a) => a.forgetSite(1)],
      ['trackAll', (a) => a.trackAll([], 'X', 1)],
      ['untrack', (a) => a.untrack('x')],
      ['probes.end', (a) => a.probes.end('p', 'test')],
      ['probes.remove', (a) => a.probes.remove('p')],
      ['adoptHandles', (a) => a.adoptHandles()],
      ['uninstall', (a) => a.uninstall()],
    ];
    const { agent, emit, hooks } = setup();
    const channel = agent.channel as unknown as { flushing: boolean };
    let landed = false;
    hooks.onSend = () => {
      if (landed) return;
      landed = true;
      for (const [name, call] of calls) {
        const [id, first] = host(agent, (a) => (ran.push([name, channel.flushing]), call(a)));
        pending.push([name, id, first]);
      }
    };
    const ran: [string, boolean][] = [];
    const pending: [string, number, HostAnswer][] = [];
    emit(1);
    expect(pending.map(([name, , first]) => [name, first])).toEqual(calls.map(([name]) => [name, { later: true }]));
    // Run once the flush was over, in the order they came, each answered (none threw).
    expect(ran).toEqual(calls.map(([name]) => [name, false]));
    for (const [name, id] of pending) expect([name, agent.answer(id).e]).toEqual([name, undefined]);
  });

  it('a call that came while agent code ran is run at the next microtask checkpoint should that code never leave', async () => {
    const { agent } = setup();
    agent.enter(); // an entry point that never returns (a thread ending inside a hook)
    const [id, first] = host(agent, (a) => a.flushNow());
    expect(first).toEqual({ later: true });
    await undefined;
    await undefined;
    expect(agent.answer(id)).toEqual({ v: expect.any(Number) });
    agent.leave();
  });

  it("the tracer's call asks again until the answer is there", async () => {
    const { agent } = setup();
    // A session that evaluates in this thread, as the inspector would in the target's.
    const evaluated: string[] = [];
    const session = {
      closed: false,
      send: async (_method: string, params: { expression: string }) => {
        evaluated.push(params.expression.replace(/^.*\?\.(\w+)\((\d+).*$/, '$1'));
        return { result: { value: structuredClone((0, eval)(params.expression)) } };
      },
      on: () => () => undefined,
    } as unknown as CdpSession;
    const link = new ThreadLink(actor, session, agent.config, {} as Ingest);
    agent.enter(); // the call lands inside agent code
    const answered = link.call('flushNow()');
    await new Promise((r) => setTimeout(r, 5));
    const seq = agent.stats().seq;
    agent.leave();
    expect(await answered).toBe(seq);
    expect(evaluated[0]).toBe('host');
    expect(evaluated.slice(1).every((e) => e === 'answer') && evaluated.length > 1).toBe(true);
  });
});
