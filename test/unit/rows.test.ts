// The two halves of ingest: the receiving thread reads a batch's header only (sequence, actor, how many
// events), and the rows are made where they are written — from the batch's text, with the functions a thread
// announced in an earlier batch, and with the actor updates its lifecycle events imply.
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { batchHeader, decodeBatch, encodeBatch, type WireEvent } from '../../src/shared/protocol.js';
import { privateTraceFile } from '../../src/store/private_dir.js';
import { Store } from '../../src/store/store.js';
import { Ingest } from '../../src/trace/ingest.js';
import { IngestThread } from '../../src/trace/ingest_thread.js';
import { RowDecoder } from '../../src/trace/rows.js';

const ACTOR = '4242';
const header = (seq: number) => ({ seq, actor: ACTOR, tsNs: 5_000_000, wallMs: 1_700_000_000_000 });
const site = (sid: number, fn: string): WireEvent => [1_000, 'agent', 'site', ACTOR, null, null, null, null, { sid, module: '/app/pay.js', fn }];
const complete = (ts: number, id: number, sid: number): WireEvent => [ts, 'call', 'complete', ACTOR, null, null, null, id, [sid, [id], null, 0, id * 2, 500]];

describe('batchHeader', () => {
  it('reads the header and counts the events without decoding them, exactly as decodeBatch does', () => {
    const events: WireEvent[] = [site(1, 'charge'), complete(2_000, 7, 1), [3_000, 'log', 'info', ACTOR, null, null, null, null, { text: 'a \u0001-free "text", [with] {brackets}' }]];
    for (const list of [[], events.slice(0, 1), events]) {
      const text = encodeBatch(header(3), list);
      const { header: h, events: n } = batchHeader(text);
      const decoded = decodeBatch(text);
      expect(h).toEqual(header(3));
      expect(n).toBe(list.length);
      expect(n).toBe(decoded.events.length);
    }
  });

  it('refuses text that is not a batch', () => {
    for (const text of ['', 'null', '{"actor":"1"}', '{"seq":1}', `${JSON.stringify(header(1))}\u0001[1]`, 'not json']) expect(() => batchHeader(text), text).toThrow();
  });
});

describe('RowDecoder', () => {
  it("names a call by the site its thread announced in an earlier batch, and derives actors from lifecycle rows", () => {
    const decoder = new RowDecoder();
    const first = decoder.decode([encodeBatch(header(1), [site(1, 'charge'), [1_500, 'process', 'start', ACTOR, null, null, null, null, { pid: 4242, argv: ['node', '/app/main.js', 'serve'] }]])]);
    expect(first.rows.map((r) => `${r.type}/${r.subtype}`)).toEqual(['process/start']);
    expect(first.lifecycle.map(([r, p]) => [r.subtype, p.pid])).toEqual([['start', 4242]]);
    expect(first.actors).toMatchObject([{ id: ACTOR, kind: 'process', pid: 4242, name: 'main.js serve', status: 'running' }]);

    const second = decoder.decode([encodeBatch(header(2), [complete(9_000, 7, 1)])]);
    expect(second.rows.map((r) => [r.type, r.subtype, r.ts_ns, r.ref, r.k_module, r.k_fn, JSON.parse(r.payload!)])).toEqual([
      ['call', 'call', 8_500, `${ACTOR}:c7`, '/app/pay.js', 'charge', { module: '/app/pay.js', fn: 'charge', args: [7], parent: null }],
      ['call', 'return', 9_000, `${ACTOR}:c7`, '/app/pay.js', 'charge', { module: '/app/pay.js', fn: 'charge', result: 14, duration_ns: 500, async: false }],
    ]);
    expect(second.lifecycle).toEqual([]);
    // another decoder (another ingest) was not told of the site
    expect(new RowDecoder().decode([encodeBatch(header(2), [complete(9_000, 7, 1)])]).rows[0]!.k_fn).toBe('(site 1)');
  });

  it('leaves out an event whose text was cut, and keeps the rest of its batch', () => {
    const batch = decodeBatch(encodeBatch(header(1), [site(1, 'charge'), complete(2_000, 7, 1), complete(2_500, 8, 1), [3_000, 'log', 'info', ACTOR, null, null, null, null, { text: 'kept' }]]));
    batch.events[1]![8] = '[1,"cut';
    const { rows } = new RowDecoder().decode([batch]);
    expect(rows.map((r) => [r.type, r.subtype, r.ref])).toEqual([
      ['call', 'call', `${ACTOR}:c8`],
      ['call', 'return', `${ACTOR}:c8`],
      ['log', 'info', null],
    ]);
  });

  it('skips a text that is not a batch and keeps the others', () => {
    const { rows } = new RowDecoder().decode(['garbage', encodeBatch(header(1), [[1, 'log', 'info', ACTOR, null, null, null, null, { text: 'kept' }]])]);
    expect(rows.map((r) => JSON.parse(r.payload!).text)).toEqual(['kept']);
  });
});

describe('Ingest without a writer thread', () => {
  it('writes batch texts and decoded batches alike, with the host rows, and tells its listeners of lifecycle rows once written', () => {
    const store = new Store();
    const ingest = new Ingest(store);
    const heard: string[] = [];
    ingest.onLifecycle((row) => heard.push(`${row.type}/${row.subtype}:${store.eventCount()}`));
    ingest.accept(encodeBatch(header(1), [site(1, 'charge'), complete(2_000, 1, 1)]));
    ingest.accept(decodeBatch(encodeBatch(header(2), [[3_000, 'worker', 'online', `${ACTOR}/w1`, ACTOR, null, null, null, null]])));
    ingest.record({ type: 'process', subtype: 'exit', actor: ACTOR, from_actor: null, to_actor: null, corr: null, ref: null, payload: JSON.stringify({ code: 3, signal: null }), ts_ns: 4_000 });
    expect(ingest.backlog()).toBe(4);
    ingest.flush();
    expect(ingest.backlog()).toBe(0);
    expect(store.db.prepare('SELECT type, subtype FROM events ORDER BY id').all()).toEqual([
      { type: 'call', subtype: 'call' },
      { type: 'call', subtype: 'return' },
      { type: 'worker', subtype: 'online' },
      { type: 'process', subtype: 'exit' },
    ]);
    expect(heard).toEqual(['worker/online:4', 'process/exit:4']);
    expect(store.actor(ACTOR)).toMatchObject({ status: 'exited', exit_code: 3 });
    expect(store.actor(`${ACTOR}/w1`)).toMatchObject({ kind: 'worker', parent: ACTOR, status: 'running' });
  });
});

describe('Ingest with a writer thread', () => {
  it('hands batch texts over, which the thread decodes and writes; lifecycle rows come back once written', async () => {
    const { dir, path } = privateTraceFile();
    const store = new Store({ path });
    const writer = new IngestThread({ path, maxEvents: 1_000_000, retention: {} });
    try {
      const ingest = new Ingest(store, writer);
      const count = () => (store.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
      const heard = new Promise<string>((resolve) => ingest.onLifecycle((row) => resolve(`${row.type}/${row.subtype}:${count()}`)));
      ingest.accept(encodeBatch(header(1), [site(1, 'charge'), complete(2_000, 1, 1)]));
      ingest.accept(encodeBatch(header(2), [complete(2_500, 2, 1), [3_000, 'worker', 'online', `${ACTOR}/w1`, ACTOR, null, null, null, null]]));
      expect(ingest.backlog()).toBe(4);
      expect(await ingest.settle(10_000)).toBe(0);
      expect(ingest.backlog()).toBe(0);
      expect(store.db.prepare('SELECT subtype, k_fn, ref FROM events ORDER BY id').all()).toEqual([
        { subtype: 'call', k_fn: 'charge', ref: `${ACTOR}:c1` },
        { subtype: 'return', k_fn: 'charge', ref: `${ACTOR}:c1` },
        { subtype: 'call', k_fn: 'charge', ref: `${ACTOR}:c2` },
        { subtype: 'return', k_fn: 'charge', ref: `${ACTOR}:c2` },
        { subtype: 'online', k_fn: null, ref: null },
      ]);
      expect(await heard).toBe('worker/online:5');
    } finally {
      await writer.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
