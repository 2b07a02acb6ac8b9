// A realistic mix of recorded events: MixSource says what happens (type, subtype, actor, payload, links, as
// the agent emits them), for a process `pid`; MixWriter writes it straight into a Store in large
// transactions, for the stores the query questions are asked of (bench/scenarios/queries.mjs,
// bench/compare_queries.mjs: filling is setup, not what is measured), and the storage scenario's target
// emits it through its agent (bench/fixtures/emit_target.cjs). The shapes are the agent's (calls as
// the tracer expands them, web.ts's requests and responses, messages.ts, objects.ts's snapshots, console
// lines, probe hits); by share of events: calls 60 % (a call and its return), HTTP 15 %, messages 10 %,
// state snapshots 10 %, console lines 5 % (one in fifty a probe hit), over a main thread, three workers and
// five tracked objects.
// Time moves 100 µs per event (10,000 events/s recorded: a busy service), so a window of a second holds the
// same ~10,000 events in a store of any size.

export const PID = 4242;
export const WORKER_NAMES = ['pricing', 'auth', 'mailer'];
export const OBJECT_NAMES = ['cart', 'session', 'ledger', 'cache', 'queue'];
export const MODULES = ['./src/payments.js', './src/cart.js', './src/users.js'];
export const FUNCTIONS = ['charge', 'refund', 'quote', 'lookup'];
export const threadsOf = (pid) => [`${pid}`, `${pid}/w1`, `${pid}/w2`, `${pid}/w3`];
export const objectsOf = (pid) => [1, 2, 3, 4, 5].map((i) => `${pid}/o${i}`);
export const THREADS = threadsOf(PID);
export const OBJECTS = objectsOf(PID);
const LEVELS = ['info', 'info', 'info', 'log', 'warn', 'error', 'debug'];

export const STEP_NS = 100_000;
/** Wall time of the first event (a fixed date: every run writes the same store). */
export const START_MS = Date.UTC(2026, 10, 30, 12);
const START_NS = 1_000_000_000_000;
/** wall_ms − ts_ns / 1e6, given with each row as ingest gives it (the store codes it: src/store/names.ts). */
const WALL_OFFSET = START_MS - START_NS / 1e6;

/** The mix's events in order; `next(emit)` calls emit(type, subtype, actor, payload, links) once or twice. */
export class MixSource {
  constructor(pid = PID) {
    this.pid = pid;
    this.threads = threadsOf(pid);
    this.objects = objectsOf(pid);
    this.i = 0;
    this.call = 0;
    this.req = 0;
    this.states = 0;
    this.msg = 0;
  }

  /**
   * One slot of a cycle of 23 that makes 40 events: 12 calls (call + return), 3 HTTP requests (request +
   * response), 2 messages (send + receive), 4 snapshots, 2 console lines (one in fifty a probe hit instead).
   */
  next(emit) {
    const { pid, threads, objects } = this;
    const i = this.i++;
    const slot = i % 23;
    if (slot < 12) {
      const n = ++this.call;
      const thread = threads[n % threads.length];
      const ref = `${thread}:c${n}`;
      const module = MODULES[(n >> 2) % MODULES.length];
      const fn = FUNCTIONS[(n >> 4) % FUNCTIONS.length];
      const corr = this.req ? `${pid}:r${this.req}` : null;
      const threw = n % 17 === 0;
      emit('call', 'call', thread, { module, fn, args: [n, { sku: `SKU-${n % 997}`, qty: 1 + (n % 3) }], parent: n % 3 ? `${thread}:c${n - 4}` : null }, { ref, corr });
      emit('call', threw ? 'throw' : 'return', thread, { module, fn, [threw ? 'error' : 'result']: threw ? { name: 'Error', message: 'card declined' } : { ok: true, n }, duration_ns: 1_000 + (n % 997) * 1_000, async: false }, { ref, corr });
    } else if (slot < 15) {
      const n = ++this.req;
      const ref = `${pid}:r${n}`;
      emit('http', 'request', `${pid}`, { method: n % 5 ? 'GET' : 'POST', url: `/checkout/${n}?expand=items` }, { ref, corr: ref });
      emit('http', 'response', `${pid}`, { status: n % 50 === 0 ? 500 : n % 23 === 0 ? 404 : 200, route: '/checkout/:id', duration_ns: 2e6 + (n % 400) * 1e5 }, { ref, corr: ref });
    } else if (slot < 17) {
      const n = ++this.msg;
      const to = threads[1 + (n % 3)];
      const message = { channel: 'worker', message: { kind: 'job', id: n, sku: `SKU-${n % 997}` } };
      const links = { from: `${pid}`, to, ref: `${pid}>${to}#m${n}` };
      emit('message', 'send', `${pid}`, message, links);
      emit('message', 'receive', to, message, links);
    } else if (slot < 21) {
      const s = this.states++;
      const items = [];
      for (let k = 0; k < 1 + (s % 4); k++) items.push({ sku: `SKU-${k}`, qty: k + 1, price: 9.99 * (k + 1) });
      emit('state', 'snapshot', objects[s % objects.length], { state: { owner: 'user-42', items, total: s % 101 }, trigger: { method: 'add', args: ['apple', s % 7] } }, { ref: `${threads[0]}:c${this.call}` });
    } else {
      const thread = threads[i % threads.length];
      if (i % 50 === 21) emit('probe', 'hit', thread, { probe: `p${1 + (i % 3)}`, file: '/srv/src/payments.js', line: 42, values: { amount: i % 500, currency: 'EUR' } }, { corr: this.req ? `${pid}:r${this.req}` : null });
      else emit('log', LEVELS[i % LEVELS.length], thread, { text: `processed order ${100000 + i} in ${i % 90} ms`, stream: 'stdout' });
    }
  }
}

/**
 * Writes the mix of process PID into `store` (a dist/ Store) in transactions of `batchRows`; `fill(n)`
 * continues where the last call stopped, so one store can be grown from 1 M to 10 M events between
 * measurements.
 */
export class MixWriter {
  constructor(store, { batchRows = 50_000 } = {}) {
    this.store = store;
    this.batchRows = batchRows;
    this.source = new MixSource(PID);
    this.ts = START_NS;
    this.written = 0;
  }

  /** HTTP requests written so far (their ids are `${PID}:r1` … `:rN`). */
  get requests() {
    return this.source.req;
  }

  /** Wall ms of the event at `ts` ns: the relation ingest keeps (wall = offset + ts / 1e6). */
  wall(ts) {
    return START_MS + (ts - START_NS) / 1e6;
  }

  row(type, subtype, actor, payload, links = {}) {
    this.ts += STEP_NS;
    return { ts_ns: this.ts, wall_ms: this.wall(this.ts), wall_offset: WALL_OFFSET, type, subtype, actor, from_actor: links.from ?? null, to_actor: links.to ?? null, corr: links.corr ?? null, ref: links.ref ?? null, payload: JSON.stringify(payload) };
  }

  /** The actor rows and lifecycle events of a traced process with three workers and five tracked objects. */
  writeActors() {
    const s = this.wall(this.ts);
    const actors = [
      { id: `${PID}`, kind: 'process', pid: PID, thread_id: 0, name: 'app.js', started_ms: s, info: JSON.stringify({ argv: ['node', '/srv/app.js'], node: 'v20.20.2' }) },
      ...THREADS.slice(1).map((id, i) => ({ id, kind: 'worker', pid: PID, thread_id: i + 1, parent: `${PID}`, name: WORKER_NAMES[i], started_ms: s })),
      ...OBJECTS.map((id, i) => ({ id, kind: 'object', pid: PID, parent: `${PID}`, name: OBJECT_NAMES[i], started_ms: s, info: JSON.stringify({ class: 'Cart' }) })),
    ];
    const rows = [this.row('process', 'start', `${PID}`, { pid: PID, argv: ['node', '/srv/app.js'], title: 'node', node: 'v20.20.2' })];
    THREADS.slice(1).forEach((id, i) => rows.push(this.row('worker', 'online', id, { name: WORKER_NAMES[i] }, { from: `${PID}` })));
    OBJECTS.forEach((id, i) => rows.push(this.row('object', 'track', id, { name: OBJECT_NAMES[i], class: 'Cart' }, { from: `${PID}` })));
    this.store.write(rows, actors);
    this.written += rows.length;
  }

  /** Appends `n` events of the mix (whole pairs: one more when a pair straddles the end). */
  fill(n) {
    if (this.written === 0) this.writeActors();
    const end = this.written + n;
    const batch = [];
    const emit = (type, subtype, actor, payload, links) => batch.push(this.row(type, subtype, actor, payload, links));
    while (this.written + batch.length < end) {
      this.source.next(emit);
      if (batch.length >= this.batchRows) {
        this.written += batch.length;
        this.store.write(batch.splice(0), []);
      }
    }
    this.written += batch.length;
    this.store.write(batch, []);
  }
}
