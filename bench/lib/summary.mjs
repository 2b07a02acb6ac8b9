// The closing table of a bench run: one line per figure of the recording spine's bars (and per Node version
// where a bar asks for one), each with what was measured, the bar and pass/MISS.
//
// A scenario feeds a line by returning a row with `key` (below), `node` (the target's Node major version,
// when the bar is per version; the runner's own version when absent, since fixtures run on process.execPath)
// and `measure`, the numbers the bar is judged on:
//   http.recorded     every request recorded and stored  { cpuRatio, throughputRatio }  (untraced / traced CPU
//                     per request, traced / untraced throughput)
//   functions.timing  traced small function, timing only  { addedNs, dropped }
//   functions.args    traced small function, arguments + result  { addedNs, dropped }
//   ingest.sustained  { storedPerS, dropped, seconds }
//   ingest.burst      { emitted, stored, dropped, accounted, rssGrowthBytes, toolP99Ms, slowestTool }
//                     (accounted: every emitted event stored or counted as dropped)
//   queries.1m        { events, p95Ms, cpuMs, slowestTool, tools }  (the slowest tool's p95, and its median CPU
//                     time per answer: what a loaded machine hardly changes)
//   queries.10m       { events, p95Ms, cpuMs, slowestTool, tools, growth, growthTool }  (growth: p50 at 10 M / at 1 M,
//                     the tool whose cost grew most)
//   storage.bytes     { bytesPerEvent }
// Rows without a key are recognised by the metric names their scenarios print (readKeyless), until they
// carry one.
import { fmtBytes, fmtInt, fmtNum, medianRatio } from './common.mjs';

const MB = 1024 * 1024;
const RUNNER_NODE = process.versions.node.split('.')[0];

/** The bars, in the order the table prints them. `nodes`: one line per version. */
export const BARS = [
  {
    key: 'http.recorded',
    nodes: ['20', '24'],
    figure: 'HTTP server CPU per request and throughput, every request recorded and stored, vs untraced',
    bar: '≥ 0.95 both',
    show: (m) => `CPU ${fmtNum(m.cpuRatio, 3)} · throughput ${fmtNum(m.throughputRatio, 3)}${m.pacedCpuRatio > 0 ? ` (CPU at a paced load ${fmtNum(m.pacedCpuRatio, 3)})` : ''}`,
    pass: (m) => m.cpuRatio >= 0.95 && m.throughputRatio >= 0.95,
  },
  {
    key: 'functions.timing',
    nodes: ['20', '24'],
    figure: 'traced small function, added per call: timing only (steady, 100k calls/s)',
    bar: '≤ 150 ns, 0 dropped',
    show: (m) => `+${fmtInt(m.addedNs)} ns, ${fmtInt(m.dropped)} dropped`,
    pass: (m) => m.addedNs <= 150 && m.dropped === 0,
  },
  {
    key: 'functions.args',
    nodes: ['20', '24'],
    figure: 'traced small function, added per call: arguments + result (steady, 100k calls/s)',
    bar: '≤ 400 ns, 0 dropped',
    show: (m) => `+${fmtInt(m.addedNs)} ns, ${fmtInt(m.dropped)} dropped`,
    pass: (m) => m.addedNs <= 400 && m.dropped === 0,
  },
  {
    key: 'ingest.sustained',
    figure: 'ingest, target thread → SQLite, sustained 30 s',
    bar: '≥ 500,000 events/s, 0 dropped',
    show: (m) => `${fmtInt(m.storedPerS)}/s over ${fmtInt(m.seconds)} s, ${fmtInt(m.dropped)} dropped`,
    pass: (m) => m.storedPerS >= 500_000 && m.dropped === 0,
  },
  {
    key: 'ingest.burst',
    figure: 'burst of 2 M events in about a second',
    bar: 'target memory ≤ +32 MB, drops counted, every tool p99 ≤ 50 ms',
    show: (m) =>
      `+${fmtBytes(m.rssGrowthBytes)} RSS; ${fmtInt(m.stored)} stored + ${fmtInt(m.dropped)} dropped ${m.accounted ? '=' : '≠'} ${fmtInt(m.emitted)} emitted; tool p99 ${fmtNum(m.toolP99Ms, 1)} ms (${m.slowestTool})`,
    pass: (m) => m.rssGrowthBytes <= 32 * MB && m.accounted && m.toolP99Ms <= 50,
  },
  {
    key: 'queries.1m',
    figure: 'every tool, store of 1 M events of a realistic mix',
    bar: 'p95 ≤ 50 ms',
    show: (m) => `slowest p95 ${fmtNum(m.p95Ms, 1)} ms, CPU ${fmtNum(m.cpuMs, 1)} ms (${m.slowestTool}), ${m.tools} questions on ${fmtInt(m.events)} events`,
    pass: (m) => m.p95Ms <= 50,
  },
  {
    key: 'queries.10m',
    figure: 'every tool, store of 10 M events: cost grows with the answer, not with the store',
    bar: 'p95 ≤ 100 ms',
    show: (m) => `slowest p95 ${fmtNum(m.p95Ms, 1)} ms, CPU ${fmtNum(m.cpuMs, 1)} ms (${m.slowestTool}) on ${fmtInt(m.events)} events; most grown ×${fmtNum(m.growth, 1)} vs 1 M (${m.growthTool})`,
    pass: (m) => m.p95Ms <= 100,
  },
  {
    key: 'storage.bytes',
    figure: 'bytes per event on disk, realistic mix',
    bar: '≤ 150',
    show: (m) => `${fmtInt(m.bytesPerEvent)} B/event`,
    pass: (m) => m.bytesPerEvent <= 150,
  },
];

/** Every line key the table prints (`http.recorded@20`, …, `storage.bytes`). */
export const LINE_KEYS = BARS.flatMap((b) => (b.nodes ? b.nodes.map((n) => `${b.key}@${n}`) : [b.key]));

/**
 * Measures of rows that carry no key yet, read from what those scenarios print: the http scenario's
 * "every request recorded" row (throughput ratio in the figure; CPU per request in its data and the untraced
 * row's), the functions scenario's "arguments and result" row (added ns in the figure, drops in the note).
 */
function readKeyless(rows) {
  const found = [];
  const untraced = rows.find((r) => r.scenario === 'http' && r.metric === 'untraced throughput (req/s)');
  for (const r of rows) {
    if (r.key) continue;
    if (r.scenario === 'http' && r.metric.startsWith('every request recorded (level full') && r.data?.cpu && untraced?.data?.cpu) {
      found.push({ key: 'http.recorded', node: RUNNER_NODE, measure: { cpuRatio: medianRatio(untraced.data.cpu, r.data.cpu), throughputRatio: Number(r.figure) } });
    } else if (r.scenario === 'functions' && r.metric.startsWith('function tracing, arguments and result: added')) {
      const dropped = /([\d,]+) events dropped/.exec(r.note)?.[1];
      found.push({ key: 'functions.args', node: RUNNER_NODE, measure: { addedNs: Number(r.figure.replace(/[+,\sns]/g, '')), dropped: dropped === undefined ? NaN : Number(dropped.replace(/,/g, '')) } });
    }
  }
  return found;
}

/**
 * The closing table's lines: { key, figure, node, measured, bar, result } for every line key, in order.
 * result: pass | MISS | smoke (figures not judged) | not measured (the scenario did not run or returned no
 * such row) | ERROR (the scenario crashed).
 */
export function summarize(rows, { smoke = false } = {}) {
  const keyed = [...rows.filter((r) => r.key && r.measure), ...readKeyless(rows)];
  const crashed = new Set(rows.filter((r) => r.result === 'ERROR').map((r) => r.scenario));
  const lines = [];
  for (const b of BARS) {
    for (const node of b.nodes ?? [undefined]) {
      const key = node ? `${b.key}@${node}` : b.key;
      const hit = keyed.find((r) => r.key === b.key && (!node || String(r.node ?? RUNNER_NODE) === node));
      const scenario = b.key.split('.')[0];
      const line = { key, figure: b.figure, node: node ?? '', bar: b.bar };
      if (!hit) {
        lines.push({ ...line, measured: '', result: crashed.has(scenario) ? 'ERROR' : 'not measured' });
        continue;
      }
      const ok = b.pass(hit.measure);
      lines.push({ ...line, measured: b.show(hit.measure), result: smoke ? 'smoke' : ok ? 'pass' : 'MISS', measure: hit.measure });
    }
  }
  return lines;
}

export function summaryTable(lines) {
  const esc = (s) => String(s ?? '').replace(/\|/g, '\\|');
  const out = ['| key | figure | Node | measured | bar | result |', '|---|---|---|---|---|---|'];
  for (const l of lines) out.push(`| ${[l.key, l.figure, l.node, l.measured, l.bar, l.result].map(esc).join(' | ')} |`);
  return out.join('\n');
}

