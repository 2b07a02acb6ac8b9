// A realistic mix of recorded events, written straight into a Store in large transactions: the stores the
// query questions are asked of (bench/scenarios/queries.mjs, bench/compare_queries.mjs). Filling is setup,
// not what is measured: capture's own speed is the ingest scenario's. The shapes are the agent's (calls as
// the tracer expands them, web.ts's requests and responses, messages.ts, objects.ts's snapshots, console
// lines, probe hits); by share of events: calls 60 % (a call and its return), HTTP 15 %, messages 10 %,
// state snapshots 10 %, console lines 5 % (one in fifty a probe hit), over a main thread, three workers and
// five tracked objects.
// Time moves 100 µs per event (10,000 events/s recorded: a busy service), so a window of a second holds the
// same ~10,000 events in a store of any size.

export const PID = 4242;
export const THREADS = [`${PID}`, `${PID}/w1`, `${PID}/w2`, `${PID}/w3`];
export const WORKER_NAMES = ['pricing', 'auth', 'mailer'];
export const OBJECTS = [1, 2, 3, 4, 5].map((i) => `${PID}/o${i}`);
export const OBJECT_NAMES = ['cart', 'session', 'ledger', 'cache', 'queue'];
export const MODULES = ['./src/payments.js', './src/cart.js', './src/users.js'];
export const FUNCTIONS = ['charge', 'refund', 'quote', 'lookup'];
const LEVELS = ['info', 'info', 'info', 'log', 'warn', 'error', 'debug'];

export const STEP_NS = 100_000;
/** Wall time of the first event (a fixed date: every run writes the same store). */
export const START_MS = Date.UTC(2026, 10, 30, 12);
const START_NS = 1_000_000_000_000;

/**
 * Writes the mix into `store` (a bench/dist Store) in transactions of `batchRows`; `fill(n)` continues where
 * the last call stopped, so one store can be grown from 1 M to 10 M events between measurements.
 */
export class MixWriter {
  constructor(store, { batchRows = 50_000 } = {}) {
    this.store = store;
    this.batchRows = batchRows;
    this.i = 0;
    this.ts = START_NS;
    this.call = 0;
    this.req = 0;
    this.states = 0;
    this.msg = 0;
    this.written = 0;
  }

  /** Wall ms of the event at `ts` ns: the relation ingest keeps (wall = offset + ts / 1e6). */
  wall(ts) {
    return START_MS + (ts - START_NS) / 1e6;
  }

  /** The actor rows and lifecycle events a traced process with three workers and five objects has. */
  writeActors() {
    const s = this.wall(this.ts);
    const actors = [
      { id: `${PID}`, kind: 'process', pid: PID, thread_id: 0, name: 'app.js', started_ms: s, info: JSON.stringify({ argv: ['node', '/srv/app.js'], node: 'v20.20.2' }) },
      ...THREADS.slice(1).map((id, i) => ({ id, kind: 'worker', pid: PID, thread_id: i + 1, parent: `${PID}`, name: WORKER_NAMES[i], started_ms: s })),
      ...OBJECTS.map((id, i) => ({ id, kind: 'object', pid: PID, parent: `${PID}`, name: OBJECT_NAMES[i], started_ms: s, info: JSON.stringify({ class: 'Cart' }) })),
    ];
    const rows = [];
    const ev = (type, subtype, actor, payload, extra) => rows.push(this.row(type, subtype, actor, payload, extra));
    ev('process', 'start', `${PID}`, { pid: PID, argv: ['node', '/srv/app.js'], title: 'node', node: 'v20.20.2' });
    THREADS.slice(1).forEach((id, i) => ev('worker', 'online', id, { name: WORKER_NAMES[i] }, { from_actor: `${PID}` }));
    OBJECTS.forEach((id, i) => ev('object', 'track', id, { name: OBJECT_NAMES[i], class: 'Cart' }, { from_actor: `${PID}` }));
    this.store.write(rows, actors, true);
    this.written += rows.length;
  }

  row(type, subtype, actor, payload, extra = {}) {
    this.ts += STEP_NS;
    return { ts_ns: this.ts, wall_ms: this.wall(this.ts), type, subtype, actor, from_actor: null, to_actor: null, corr: null, ref: null, payload: JSON.stringify(payload), ...extra };
  }

  /** Appends `n` events of the mix (whole pairs: a few more when a pair straddles the end). */
  fill(n) {
    if (this.written === 0) this.writeActors();
    const end = this.written + n;
    const batch = [];
    while (this.written + batch.length < end) {
      this.next(batch);
      if (batch.length >= this.batchRows) {
        this.written += batch.length;
        this.store.write(batch.splice(0), [], true);
      }
    }
    this.written += batch.length;
    this.store.write(batch, [], true);
  }

  /**
   * One slot of a cycle of 23 that writes 40 events: 12 calls (call + return), 3 HTTP requests (request +
   * response), 2 messages (send + receive), 4 snapshots, 2 console lines (one in fifty a probe hit instead).
   */
  next(out) {
    const i = this.i++;
    const slot = i % 23;
    const ev = (type, subtype, actor, payload, extra) => out.push(this.row(type, subtype, actor, payload, extra));
    if (slot < 12) {
      const n = ++this.call;
      const thread = THREADS[n % THREADS.length];
      const id = `${thread}:c${n}`;
      const module = MODULES[(n >> 2) % MODULES.length];
      const fn = FUNCTIONS[(n >> 4) % FUNCTIONS.length];
      const corr = this.req ? `${PID}:r${this.req}` : null;
      const threw = n % 17 === 0;
      ev('call', 'call', thread, { module, fn, args: [n, { sku: `SKU-${n % 997}`, qty: 1 + (n % 3) }], parent: n % 3 ? `${thread}:c${n - 4}` : null }, { ref: id, corr });
      ev('call', threw ? 'throw' : 'return', thread, { module, fn, [threw ? 'error' : 'result']: threw ? { name: 'Error', message: 'card declined' } : { ok: true, n }, duration_ns: 1_000 + (n % 997) * 1_000, async: false }, { ref: id, corr });
    } else if (slot < 15) {
      const n = ++this.req;
      const id = `${PID}:r${n}`;
      ev('http', 'request', `${PID}`, { method: n % 5 ? 'GET' : 'POST', url: `/checkout/${n}?expand=items` }, { ref: id, corr: id });
      ev('http', 'response', `${PID}`, { status: n % 50 === 0 ? 500 : n % 23 === 0 ? 404 : 200, route: '/checkout/:id', duration_ns: 2e6 + (n % 400) * 1e5 }, { ref: id, corr: id });
    } else if (slot < 17) {
      const n = ++this.msg;
      const to = THREADS[1 + (n % 3)];
      const message = { channel: 'worker', message: { kind: 'job', id: n, sku: `SKU-${n % 997}` } };
      const ref = `${PID}>${to}#m${n}`;
      ev('message', 'send', `${PID}`, message, { from_actor: `${PID}`, to_actor: to, ref });
      ev('message', 'receive', to, message, { from_actor: `${PID}`, to_actor: to, ref });
    } else if (slot < 21) {
      const s = this.states++;
      const items = [];
      for (let k = 0; k < 1 + (s % 4); k++) items.push({ sku: `SKU-${k}`, qty: k + 1, price: 9.99 * (k + 1) });
      ev('state', 'snapshot', OBJECTS[s % OBJECTS.length], { state: { owner: 'user-42', items, total: s % 101 }, trigger: { method: 'add', args: ['apple', s % 7] } }, { ref: `${THREADS[0]}:c${this.call}` });
    } else {
      const thread = THREADS[i % THREADS.length];
      if (i % 50 === 21) ev('probe', 'hit', thread, { probe: `p${1 + (i % 3)}`, file: '/srv/src/payments.js', line: 42, values: { amount: i % 500, currency: 'EUR' } }, { corr: this.req ? `${PID}:r${this.req}` : null });
      else ev('log', LEVELS[i % LEVELS.length], thread, { text: `processed order ${100000 + i} in ${i % 90} ms`, stream: 'stdout' });
    }
  }
}
