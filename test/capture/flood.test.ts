// A 10 s postMessage flood against a real process, a traced call per message, as in issue 10's load finding:
// every event the target offered is stored or counted in a drop, exactly; the target's extra memory stays
// within a bound derived from the agent's byte caps; the read tools answer while the host ingests it.
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup, type NodeScope } from '../../src/api.js';
import { DEFAULT_MAX_IN_FLIGHT_BYTES, DEFAULT_MAX_QUEUE_BYTES } from '../../src/shared/protocol.js';
import { eventually, startFixture, type Fixture } from '../helpers.js';

const FLOOD_MS = 10_000;
const MB = 1e6;
/**
 * The target's extra RSS under a flood, traced minus untraced. Per thread the agent holds at most its queue
 * and its unacknowledged batches (8 MiB each, counted in characters: one byte each for this ASCII traffic);
 * a batch the data socket could not hand to the kernel at once is also copied out of the V8 heap until it is
 * written; V8 lets a heap grow to about twice what lives in it before a full collection; and the allocator
 * keeps pages it was given back. So 5× the caps per thread, two threads here: 160 MiB (168 MB). Measured
 * 85–98 MB extra on a loaded 2-core machine, and 134.1 MB once in a full CI run (over the 4× first stated).
 */
const RSS_BOUND_MB = Math.round((2 * 5 * (DEFAULT_MAX_QUEUE_BYTES + DEFAULT_MAX_IN_FLIGHT_BYTES)) / MB);
/** A tool's answer while the host ingests a flood, over at least MIN_TOOL_CALLS calls: the bar is 50 ms p99 (see the test). */
const TOOL_P50_MS = 50;
const TOOL_P99_MS = 50;
const MIN_TOOL_CALLS = 50;

type Flooded = { roundTrips: number; before: number; peak: number; end: number };
type AgentStats = { queued: number; inFlight: number; dropped: number };
type Counts = {
  main: { sent: number; received: number; calls: number; lines: number; agent: AgentStats | null };
  worker: { sent: number; received: number; agent: AgentStats | null };
};

const apps: Fixture[] = [];
let scope: NodeScope | undefined;

async function floodApp(): Promise<Fixture> {
  const app = startFixture('flood/app.cjs');
  apps.push(app);
  await app.line(/^ready/);
  return app;
}

async function flood(app: Fixture): Promise<Flooded> {
  const line = app.nextLine(/^flooded /, FLOOD_MS + 20_000);
  app.send(`flood ${FLOOD_MS}`);
  return JSON.parse((await line).slice('flooded '.length));
}

async function counts(app: Fixture): Promise<Counts> {
  const line = app.nextLine(/^counts /, 20_000);
  app.send('counts');
  return JSON.parse((await line).slice('counts '.length));
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;

let untraced: Flooded;
let traced: Flooded;
/** Per thread: events offered (each message a send in one thread and a receipt in the other, each call and
 * each printed line one event), events stored, and drops the agent counted. */
let ledger: Record<string, { emitted: number; stored: number; dropped: number }>;
let latencies: number[];
let perTool: Record<string, number[]>;
let afterMs: number;
const notes: (string | undefined)[] = [];

beforeAll(async () => {
  untraced = await flood(await floodApp());

  const app = await floodApp();
  scope = await setup({ attach: app.pid });
  await scope.traceModule('lib.cjs', { maxCalls: 100_000_000, maxRate: 10_000_000 });
  const main = String(app.pid);
  const worker = `${app.pid}/w1`;

  // The tools in turn, one at a time as a client asks, for as long as the flood lasts.
  const flooding = flood(app);
  let done = false;
  void flooding.finally(() => (done = true));
  const tools: [string, () => Promise<unknown>][] = [
    ['get_supervision_tree', () => scope!.supervisionTree()],
    ['message_queue_analysis', () => scope!.messageQueueAnalysis()],
    ['get_message_flow', () => scope!.messageFlow(main, worker, { limit: 20 })],
    ['get_function_calls', () => scope!.functionCalls('lib.cjs', { limit: 20 })],
    // What every read tool does first, with the note its answer ends with.
    ['sync', () => scope!.session.syncForQuestion().then((note) => notes.push(note))],
  ];
  perTool = Object.fromEntries(tools.map(([name]) => [name, []]));
  latencies = [];
  for (let k = 0; !done; k++) {
    const [name, call] = tools[k % tools.length]!;
    const t0 = performance.now();
    // An answer is an answer: early in the flood, "no calls recorded yet" (with its note) is one too.
    await call().catch(() => undefined);
    const ms = performance.now() - t0;
    perTool[name]!.push(ms);
    latencies.push(ms);
    // The event loop turns between questions, as it does between a client's requests. A question under a
    // flood waits for nothing, so without this they would follow one another in microtasks, and the host
    // would read nothing from its sockets while they ran: the flood unseen for seconds, and the target's
    // round trips halved (its data socket unread).
    await new Promise((r) => setImmediate(r));
  }
  traced = await flooding;

  // The agents drain (what stays queued is the polls' own events); a last count and a sync bring the store
  // up to it.
  const drained = (a: AgentStats | null) => a !== null && a.inFlight === 0 && a.dropped === 0;
  const c = await eventually(async () => {
    const now = await counts(app);
    return drained(now.main.agent) && drained(now.worker.agent) && now;
  }, 'the agents to drain', 20_000);
  // sync() waits a bounded time for the writer thread: asked again until nothing is left unwritten.
  await eventually(async () => (await scope!.session.sync()) === 0, 'the writer to catch up', 20_000);
  const t0 = performance.now();
  await scope.messageQueueAnalysis();
  afterMs = performance.now() - t0;

  const db = scope.session.store.db;
  // A call is stored as two rows (call, then return or throw): its 'call' row counts it once.
  const stored = (actor: string) =>
    (db.prepare("SELECT count(*) AS n FROM events WHERE actor = ? AND (type IN ('message', 'log') OR (type = 'call' AND subtype = 'call'))").get(actor) as { n: number }).n;
  const dropped = (actor: string) =>
    (db.prepare("SELECT payload FROM events WHERE actor = ? AND type = 'agent' AND subtype = 'dropped'").all(actor) as { payload: string }[]).reduce((n, r) => n + JSON.parse(r.payload).count, 0);
  ledger = {
    [main]: { emitted: c.main.sent + c.main.received + c.main.calls + c.main.lines, stored: stored(main), dropped: dropped(main) },
    [worker]: { emitted: c.worker.sent + c.worker.received, stored: stored(worker), dropped: dropped(worker) },
  };
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  console.log(JSON.stringify({
    untraced, traced, ledger,
    tools: { calls: sorted.length, p50: round(percentile(sorted, 0.5)), p99: round(percentile(sorted, 0.99)), max: round(sorted.at(-1)!) },
    perToolMax: Object.fromEntries(Object.entries(perTool).map(([n, xs]) => [n, { calls: xs.length, max: round(Math.max(...xs)) }])),
    messageQueueAnalysisAfterMs: round(afterMs),
  }));
}, 90_000);

afterAll(async () => {
  await scope?.stop();
  for (const a of apps.splice(0)) a.proc.kill();
});

describe('a 10 s postMessage flood, a traced call per message', () => {
  it('counts every event it could not keep: stored + dropped = emitted, per thread', () => {
    for (const [actor, { emitted, stored, dropped }] of Object.entries(ledger)) {
      expect(dropped, actor).toBeGreaterThan(0);
      expect(stored + dropped, actor).toBe(emitted);
    }
  });

  it(`keeps the target's extra RSS under ${RSS_BOUND_MB} MB (5× the agent's byte caps per thread, two threads)`, () => {
    expect(traced.roundTrips).toBeGreaterThan(0);
    expect(traced.peak - traced.before - (untraced.peak - untraced.before)).toBeLessThan(RSS_BOUND_MB);
  });

  it('answers every read tool during the flood', () => {
    for (const [name, took] of Object.entries(perTool)) expect(took.length, name).toBeGreaterThan(0);
  });

  it('says, under the flood, what an answer may lack instead of waiting for the busy threads', () => {
    expect(notes.filter((n) => n !== undefined && /^\((.+ busy: (its|their) latest events may be missing|[\d,]+ events still being written)/.test(n)).length).toBeGreaterThan(0);
  });

  // The bar, 50 ms p99. Under a flood a question waits for nothing: not for a thread that did not
  // answer in time before, nor for the writer thread. On a machine with a core to spare (load 1–3, the suite
  // runs this file alone at its end): p99 10.2, 10.4, 10.9, 12.9 and 24 ms over 2,750–4,950 calls. What is
  // left in the tail under others' load is CPU time for the answering thread: in calls over 50 ms it was
  // runnable and waiting for a core 81–96 % of the time (/proc/thread-self/schedstat, load 9–19 on 2 cores),
  // and runs at load 10–21 gave p99 60–256 ms (the code before: 104–321 ms; alone at load ~1, 28–77 ms).
  it(`answers within ${TOOL_P50_MS} ms p50 and ${TOOL_P99_MS} ms p99 over at least ${MIN_TOOL_CALLS} calls during the flood`, () => {
    const sorted = [...latencies].sort((a, b) => a - b);
    expect(sorted.length).toBeGreaterThanOrEqual(MIN_TOOL_CALLS);
    expect(percentile(sorted, 0.5)).toBeLessThanOrEqual(TOOL_P50_MS);
    expect(percentile(sorted, 0.99)).toBeLessThanOrEqual(TOOL_P99_MS);
  });
});
