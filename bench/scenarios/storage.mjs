// Storage: bytes per event on disk for a realistic mix (calls/returns, messages, state snapshots, HTTP,
// logs) written through the real path into a persisted store, and pruning: with maxEvents = N, writing 3N
// events leaves exactly N, and the file stops growing once it has held N (SQLite reuses freed pages).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachTracer, fixture, fmtBytes, fmtInt, fmtNum, row, startFixture, verdict, waitFor } from '../lib/common.mjs';

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

async function drain(traced) {
  await waitFor(async () => {
    const s = await traced.link.main.call('stats()').catch(() => undefined);
    return s && s.queued === 0 && s.inFlight === 0 ? s : undefined;
  }, 60_000, 10);
  traced.tracer.ingest.flush();
}

export async function run({ smoke }) {
  const n = smoke ? 10_000 : 200_000;
  const dir = mkdtempSync(join(tmpdir(), 'nodescope-bench-storage-'));
  const path = join(dir, 'trace.db');
  const target = await startFixture(fixture('emit_target.cjs'));
  let traced;
  try {
    traced = await attachTracer(target.pid, { level: 'full', storeOptions: { path, maxEvents: n } });
    const { store } = traced;
    // Time inside Store.write per event: below the cap, then at the cap (every write also prunes).
    const w = { ms: 0, rows: 0 };
    const write = store.write.bind(store);
    store.write = (events, ...rest) => {
      const s = performance.now();
      try {
        return write(events, ...rest);
      } finally {
        w.ms += performance.now() - s;
        w.rows += events.length;
      }
    };
    const usPerRow = (a, b) => ((b.ms - a.ms) * 1000) / Math.max(1, b.rows - a.rows);
    await drain(traced);
    const emitMix = async (count) => {
      // 50k/s: well below the ingest ceiling even on a busy machine, so (almost) nothing is dropped.
      await target.request({ cmd: 'emit', total: count, rate: 50_000, mix: 'realistic', chunk: 1_000 }, 120_000);
      await drain(traced);
    };
    // Fill to just under maxEvents (the lifecycle events count too), then measure.
    const w0 = { ...w };
    await emitMix(n - store.eventCount() - 10);
    const w1 = { ...w };
    const filled = store.eventCount();
    const fillDrops = store.db.prepare("SELECT coalesce(sum(json_extract(payload, '$.count')), 0) AS n FROM events WHERE type = 'agent' AND subtype = 'dropped'").get().n;
    const payloadBytes = store.db.prepare('SELECT avg(length(payload)) AS b FROM events').get().b;
    const mix = store.db.prepare('SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY n DESC').all();
    const d1 = onDisk(store, path);
    const perEvent = d1.bytes / filled;
    // Two more rounds of N: pruning must hold the count at N and the file at its size.
    await emitMix(n);
    const d2 = onDisk(store, path);
    await emitMix(n);
    const d3 = onDisk(store, path);
    const w2 = { ...w };
    const count = store.db.prepare('SELECT count(*) AS n FROM events').get().n;
    const dropped = store.db.prepare("SELECT count(*) AS n FROM events WHERE type = 'agent' AND subtype = 'dropped'").get().n;
    const growth = d3.bytes / d1.bytes;
    return [
      row(name, 'bytes per event on disk (realistic mix, db + WAL after checkpoint)', {
        baseline: `${fmtInt(filled)} events`, traced: fmtBytes(d1.bytes), figure: `${fmtNum(perEvent, 0)} B/event`, result: 'info',
        note: `${fmtInt(fillDrops)} events dropped by the agent while filling; mean payload ${fmtNum(payloadBytes, 0)} B of JSON; mix ${mix.map((m) => `${m.type} ${fmtNum((100 * m.n) / filled, 0)}%`).join(', ')}; two indexes (actor, ts_ns) and (type, ts_ns)`,
        data: { filled, d1, payloadBytes, mix },
      }),
      row(name, 'Store.write µs per event: below the cap → at the cap (pruning)', {
        baseline: fmtNum(usPerRow(w0, w1), 2), traced: fmtNum(usPerRow(w1, w2), 2), figure: `×${fmtNum(usPerRow(w1, w2) / usPerRow(w0, w1), 2)}`, result: 'info',
        note: 'persisted file (WAL, synchronous=NORMAL); at the cap each write batch also runs Store.prune (SELECT … OFFSET + DELETE, both indexes updated)',
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
    await traced?.close();
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
