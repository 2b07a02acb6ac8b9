// Ingest: events from a target thread into SQLite, end to end, through the real path (agent.emit → bounded
// queue → batch → inspector binding → tracer → ingest → SQLite transaction).
// 1. Sustained: the target emits ~200-byte events at the bar's rate for 30 s; we measure what is stored per
//    second until the pipeline is drained, and what was dropped (agent/dropped events + the agent's counter).
// 2. Burst: 2 million emits as fast as the target can (yielding between chunks); we sample the target's
//    memory, count drops, check stored + dropped = emitted, and watch the host stay responsive (event-loop
//    delay, and the latency of a store query issued every 50 ms, as a tool call would).
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import {
  attachTracer, countEvents, fixture, fmtBytes, fmtInt, fmtNum, hostCpuMs, procCpuMs, quantile, row, sleep, startFixture, verdict, waitFor,
} from '../lib/common.mjs';

export const name = 'ingest';

/** The bar of issue 11. INGEST_RATE / INGEST_SECONDS shorten a run when comparing variants by hand. */
const BAR_RATE = 500_000;
const OFFERED = Number(process.env.INGEST_RATE) || BAR_RATE;

/** Wraps host-side stages to see where the time goes (instance properties: nothing in src/ changes). */
function instrument(traced) {
  // stored/dropped are counted as they are written, not with count(*): the store prunes past maxEvents, and
  // pruning would delete the very rows (and agent/dropped reports) being counted.
  const t = { write: 0, receive: 0, writes: 0, batches: 0, stored: 0, dropped: 0 };
  const store = traced.store;
  const write = store.write.bind(store);
  store.write = (events, ...rest) => {
    const s = performance.now();
    try {
      return write(events, ...rest);
    } finally {
      t.write += performance.now() - s;
      t.writes++;
      for (const e of events) {
        if (e.type === 'log' && e.subtype === 'bench') t.stored++;
        else if (e.type === 'agent' && e.subtype === 'dropped') t.dropped += JSON.parse(e.payload ?? '{}').count ?? 0;
      }
    }
  };
  const thread = traced.link.main;
  const receive = thread.receive?.bind(thread);
  if (receive) {
    thread.receive = (text) => {
      const s = performance.now();
      try {
        return receive(text);
      } finally {
        t.receive += performance.now() - s;
        t.batches++;
      }
    };
  }
  return {
    snapshot: () => ({ ...t }),
  };
}

async function drain(traced, timeoutMs) {
  const ok = await waitFor(async () => {
    const s = await traced.link.main.call('stats()').catch(() => undefined);
    return s && s.queued === 0 && s.inFlight === 0 ? s : undefined;
  }, timeoutMs, 10);
  traced.tracer.ingest.flush();
  return ok;
}

export async function run({ smoke }) {
  const cfg = smoke ? { seconds: 1, burst: 100_000 } : { seconds: Number(process.env.INGEST_SECONDS) || 30, burst: 2_000_000 };
  const target = await startFixture(fixture('emit_target.cjs'));
  let traced;
  const rows = [];
  try {
    // A store big enough to hold the whole run: this measures ingest, not retention (storage does that).
    traced = await attachTracer(target.pid, { level: 'full', storeOptions: { maxEvents: OFFERED * cfg.seconds + cfg.burst + 100_000 } });
    const agentCfg = traced.tracer.agentConfig?.() ?? {};
    const probe = instrument(traced);
    await drain(traced, 5_000);

    // ---------------------------------------------------------------- sustained
    const total = OFFERED * cfg.seconds;
    const c0 = { host: hostCpuMs(), target: procCpuMs(target.pid), t: probe.snapshot() };
    const t0 = performance.now();
    const done = await target.request({ cmd: 'emit', total, rate: OFFERED, chunk: 5_000 }, (cfg.seconds + 120) * 1000);
    const tEmitted = performance.now();
    const drained = await drain(traced, 60_000);
    const t1 = performance.now();
    const c1 = { host: hostCpuMs(), target: procCpuMs(target.pid), t: probe.snapshot() };
    const stored = c1.t.stored - c0.t.stored;
    const dropped = c1.t.dropped - c0.t.dropped + (drained?.dropped ?? 0);
    const diag = { resends: traced.link.main.resends, linkState: traced.link.state, table: countEvents(traced.store, 'log', 'bench') };
    const storedPerS = stored / ((t1 - t0) / 1000);
    const emitRate = done.emitted / (done.ms / 1000);
    const us = (ms) => (ms * 1000) / Math.max(1, stored);
    const ok = storedPerS >= BAR_RATE && dropped === 0 && stored === total;
    rows.push(row(name, `sustained ${cfg.seconds} s at ${fmtInt(OFFERED)}/s offered (${process.env.NODESCOPE_DATA_CHANNEL === 'off' ? 'binding only' : 'data socket'}): stored/s`, {
      baseline: `${fmtInt(emitRate)}/s emitted`, traced: `${fmtInt(stored)} stored`, figure: `${fmtInt(storedPerS)}/s`, bar: `≥ ${fmtInt(BAR_RATE)}/s, 0 dropped`,
      result: smoke ? 'info' : verdict(ok),
      note: `emitting took ${fmtInt(done.ms)} ms, draining ${fmtInt(t1 - tEmitted)} ms more${drained ? '' : ' (NOT drained within 60 s)'}; ${fmtInt(dropped)} dropped; stored+dropped=${fmtInt(stored + dropped)} of ${fmtInt(total)}${stored + dropped === total ? '' : ' — MISMATCH: events lost without being counted'}; batch gaps/resends ${diag.gaps ?? 'n/a'}, link ${diag.linkState}`,
      data: { total, stored, dropped, emitMs: done.ms, drainMs: t1 - tEmitted, storedPerS, emitRate, diag },
    }));
    rows.push(row(name, 'sustained: events dropped', { figure: fmtInt(dropped), bar: '0', result: smoke ? 'info' : verdict(dropped === 0) }));
    rows.push(row(name, 'sustained: where the time goes (µs per stored event: CPU of each process; wall time of two host stages)', {
      baseline: `target ${fmtNum(us(c1.target - c0.target))}`,
      traced: `host ${fmtNum(us(c1.host - c0.host))}`,
      figure: `SQLite ${fmtNum(us(c1.t.write - c0.t.write))} · decode ${fmtNum(us(c1.t.receive - c0.t.receive))}`,
      result: 'info',
      note: 'target = CPU of the target process (agent.emit + batching + binding, incl. building the payload); host = CPU of the whole tracer process; SQLite = wall time inside Store.write (transaction incl. index updates); decode = wall time inside ThreadLink.receive (JSON.parse of the batch + Ingest.accept: row objects, JSON.stringify of each payload). Wall times include preemption on a busy machine, so they can add up to more than the host CPU; the rest of host CPU = WebSocket frames, CDP message parse, GC, acks',
      data: { c0, c1 },
    }));

    // ---------------------------------------------------------------- burst
    const before = await target.request({ cmd: 'stats' });
    const h = monitorEventLoopDelay({ resolution: 10 });
    const lat = [];
    let probing = true;
    const probeLoop = (async () => {
      while (probing) {
        const scheduled = performance.now() + 50;
        await sleep(50);
        const s = performance.now();
        traced.store.actors();
        const end = performance.now();
        lat.push(end - scheduled);
        if (end - s > 0) lat.queryMs = Math.max(lat.queryMs ?? 0, end - s);
      }
    })();
    h.enable();
    const p0 = probe.snapshot();
    const b0 = performance.now();
    const burst = await target.request({ cmd: 'emit', total: cfg.burst, rate: cfg.burst, chunk: 2_000 }, 120_000);
    const bDrained = await drain(traced, 60_000);
    const b1 = performance.now();
    h.disable();
    probing = false;
    await probeLoop;
    const p1 = probe.snapshot();
    const bStored = p1.stored - p0.stored;
    const bDropped = p1.dropped - p0.dropped + (bDrained?.dropped ?? 0);
    const after = await target.request({ cmd: 'stats' });
    const accounted = bStored + bDropped === burst.emitted;
    const cap = agentCfg.maxQueue !== undefined
      ? `agent caps: queue ${fmtInt(agentCfg.maxQueue)} events (+1,000 critical), ${agentCfg.maxInFlight} unacked batches × ${agentCfg.batchSize} events`
      : '';
    rows.push(row(name, `burst of ${fmtInt(cfg.burst)} emits: time to emit / stored / dropped`, {
      baseline: `${fmtInt(burst.ms)} ms to emit`, traced: `${fmtInt(bStored)} stored`, figure: `${fmtInt(bDropped)} dropped (${fmtNum((100 * bDropped) / burst.emitted, 1)}%)`,
      bar: 'drops recorded, stored+dropped = emitted', result: smoke ? 'info' : verdict(accounted),
      note: `stored+dropped=${fmtInt(bStored + bDropped)} of ${fmtInt(burst.emitted)} emitted${accounted ? '' : ' — MISMATCH: events lost without being counted'}; all stored after ${fmtInt(b1 - b0)} ms`,
      data: { burst, bStored, bDropped, accounted, ms: b1 - b0 },
    }));
    rows.push(row(name, 'burst: target extra memory (peak − before)', {
      baseline: `rss ${fmtBytes(burst.rss0)} · heap ${fmtBytes(burst.heap0)}`,
      traced: `rss ${fmtBytes(burst.rssPeak)} · heap ${fmtBytes(burst.heapPeak)}`,
      figure: `+${fmtBytes(burst.rssPeak - burst.rss0)} rss · +${fmtBytes(burst.heapPeak - burst.heap0)} heap`,
      bar: 'bounded (state the cap)', result: 'info',
      note: `${cap}; heap after drain ${fmtBytes(after.heap)} (before the burst ${fmtBytes(before.heap)})`,
    }));
    rows.push(row(name, 'burst: host responsiveness (event-loop delay; store query every 50 ms)', {
      baseline: `loop delay p99 ${fmtNum(h.percentile(99) / 1e6, 1)} ms`, traced: `max ${fmtNum(h.max / 1e6, 1)} ms`,
      figure: `query latency p50 ${fmtNum(quantile(lat, 0.5), 1)} · max ${fmtNum(Math.max(...lat), 1)} ms`,
      bar: 'responsive (≤ 50 ms suggested)', result: smoke ? 'info' : verdict(Math.max(...lat) <= 50),
      note: `query latency = timer lateness + Store.actors(); ${lat.length} probes; slowest Store.actors() alone ${fmtNum(lat.queryMs ?? 0, 2)} ms`,
    }));
  } finally {
    await traced?.close();
    await target.stop();
  }
  return rows;
}
