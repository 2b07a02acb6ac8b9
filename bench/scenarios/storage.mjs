// Storage: bytes per event on disk for the realistic mix of bench/lib/mix.mjs (calls with arguments and
// results, HTTP, messages, state snapshots, console lines), emitted by a live target through its agent into
// a persisted store attached through the package API (and where they go: each table and index, from
// SQLite's dbstat), and pruning: with maxEvents = N, writing 3N
// events leaves exactly N, and the file stops growing once it has held N (SQLite reuses freed pages).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drain } from '../lib/drain.mjs';
import { fixture, fmtBytes, fmtInt, fmtNum, ROOT, row, startFixture, verdict } from '../lib/common.mjs';

export const name = 'storage';

const size = (p) => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};

/** Database + WAL after a checkpoint: what the store occupies on disk. */
function onDisk(store, path) {
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const pageSize = store.db.pragma('page_size', { simple: true });
  const free = store.db.pragma('freelist_count', { simple: true });
  return { bytes: size(path) + size(`${path}-wal`), freeBytes: free * pageSize };
}

/** Bytes per event of each table and index (SQLite's dbstat), largest first; those under 1 B as one. */
function bytesByStructure(store, events) {
  const rows = store.db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all();
  const big = rows.filter((r) => r.bytes / events >= 1).map((r) => ({ name: r.name, perEvent: r.bytes / events }));
  const rest = rows.filter((r) => r.bytes / events < 1).reduce((a, r) => a + r.bytes, 0);
  return [...big, { name: 'the rest', perEvent: rest / events }];
}

export async function run({ smoke }) {
  const n = smoke ? 10_000 : 200_000;
  const dir = mkdtempSync(join(tmpdir(), 'nodescope-bench-storage-'));
  const path = join(dir, 'trace.db');
  const { setup } = await import(join(ROOT, 'dist/api.js'));
  const target = await startFixture(fixture('emit_target.cjs'));
  let scope;
  try {
    scope = await setup({ attach: target.pid, config: { tracing_level: 'full', web: true, max_events: n, persist: true, persist_path: path } });
    const { store } = scope.session;
    // Counted in SQL on the read connection: the writer thread keeps the store's own count.
    const stored = () => store.db.prepare('SELECT count(*) AS n FROM events').get().n;
    await drain(target, scope, 60_000);
    const emitMix = async (count) => {
      // 20k/s: below the ingest ceiling on a busy machine (at 50k/s and load 15, 60 % were dropped).
      await target.request({ cmd: 'emit', total: count, rate: 20_000, mix: 'realistic', chunk: 1_000 }, 120_000);
      await drain(target, scope, 60_000);
    };
    // Fill to just under maxEvents (the lifecycle events count too), then measure; what the agent dropped is
    // emitted again, a few times at most.
    for (let i = 0; i < 5 && stored() < n - 1_000; i++) await emitMix(n - stored() - 10);
    const filled = stored();
    const fillDrops = store.db.prepare("SELECT coalesce(sum(json_extract(payload, '$.count')), 0) AS n FROM events WHERE type = 'agent' AND subtype = 'dropped'").get().n;
    const payloadBytes = store.db.prepare('SELECT avg(length(payload)) AS b FROM events').get().b;
    // What is stored of it (the key columns hold the rest; src/store/store.ts, PAYLOAD_COLUMN; all of it before).
    const column = store.db.prepare("SELECT 1 FROM pragma_table_xinfo('events') WHERE name = 'body'").get() ? 'body' : 'payload';
    const bodyBytes = store.db.prepare(`SELECT avg(length(${column})) AS b FROM events`).get().b;
    const mix = store.db.prepare('SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY n DESC').all();
    const d1 = onDisk(store, path);
    const perEvent = d1.bytes / filled;
    const where = bytesByStructure(store, filled);
    // Two more rounds of N: pruning must hold the count at N and the file at its size.
    await emitMix(n);
    const d2 = onDisk(store, path);
    await emitMix(n);
    const d3 = onDisk(store, path);
    const count = store.db.prepare('SELECT count(*) AS n FROM events').get().n;
    const dropped = store.db.prepare("SELECT count(*) AS n FROM events WHERE type = 'agent' AND subtype = 'dropped'").get().n;
    const growth = d3.bytes / d1.bytes;
    return [
      row(name, 'bytes per event on disk (realistic mix, db + WAL after checkpoint)', {
        baseline: `${fmtInt(filled)} events`, traced: fmtBytes(d1.bytes), figure: `${fmtNum(perEvent, 0)} B/event`, bar: '≤ 150', result: smoke ? 'info' : verdict(perEvent <= 150),
        note: `${fmtInt(fillDrops)} events dropped by the agent while filling; mean payload ${fmtNum(payloadBytes, 0)} B of JSON, ${fmtNum(bodyBytes, 0)} B of it stored; mix ${mix.map((m) => `${m.type} ${fmtNum((100 * m.n) / filled, 0)}%`).join(', ')} (bench/lib/mix.mjs, emitted through the agent of a live target); every index and count table included; per event: ${where.map((w) => `${w.name} ${fmtNum(w.perEvent, 0)}`).join(', ')}`,
        data: { filled, d1, payloadBytes, bodyBytes, mix, where },
        key: 'storage.bytes',
        measure: { bytesPerEvent: perEvent },
      }),
      row(name, `count after writing 3× maxEvents (maxEvents = ${fmtInt(n)})`, {
        baseline: fmtInt(n), traced: fmtInt(count), figure: count === n ? 'holds' : `off by ${fmtInt(count - n)}`, bar: '= maxEvents',
        result: verdict(count === n), note: dropped ? `${dropped} agent/dropped events among them` : '',
      }),
      row(name, 'file size after pruning (after 3N vs after N)', {
        baseline: fmtBytes(d1.bytes), traced: `${fmtBytes(d2.bytes)} → ${fmtBytes(d3.bytes)}`, figure: `×${fmtNum(growth, 2)}`, bar: '≤ ×1.25',
        result: smoke ? 'info' : verdict(growth <= 1.25),
        note: `free pages inside the file at the end: ${fmtBytes(d3.freeBytes)} (reused by later writes)`,
      }),
    ];
  } finally {
    await scope?.stop();
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
