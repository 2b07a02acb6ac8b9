// The questions the bench asks every read tool, through the package API (NodeScope.call: the wrapper the
// MCP server runs), and the timing of one call. Two sets: one for a store of the realistic mix (mix.mjs),
// one for a live target under a burst (ingest), where some tools find nothing to show and say so — their
// answer still costs what a client would wait for.
import { performance } from 'node:perf_hooks';
import { FUNCTIONS, MODULES, OBJECT_NAMES, PID, THREADS, WORKER_NAMES } from './mix.mjs';

const iso = (ms) => new Date(Math.round(ms)).toISOString();
const module = MODULES[0].split('/').pop();

/**
 * Read tools that need a live target (they ask the process, not the store): asked in the burst only.
 * cpu_profile is left out everywhere: it profiles the target for a duration the caller chooses.
 */
export const LIVE_ONLY = ['process_info', 'cpu_profile'];

/** Questions on a store of the mix spanning [firstMs, lastMs], with `requests` HTTP requests recorded. */
export function storeQuestions({ firstMs, lastMs, requests }) {
  const mid = (firstMs + lastMs) / 2;
  const lastSecond = { start: iso(lastMs - 1_000), end: iso(lastMs) };
  const request = `${PID}:r${Math.max(1, Math.floor(requests / 2))}`;
  return [
    ['get_supervision_tree', {}],
    ['get_function_calls', { module_name: module }],
    ['get_function_calls', { module_name: module, function_name: FUNCTIONS[0], pid_string: THREADS[1] }],
    ['get_function_calls', { module_name: module, request_id: request }],
    ['performance_analysis', { module_name: module }],
    ['slowest_function_calls', {}],
    ['get_message_flow', { from_pid: THREADS[0], to_pid: WORKER_NAMES[0] }],
    ['message_queue_analysis', {}],
    ['get_state_timeline', { pid_string: OBJECT_NAMES[0] }],
    ['analyze_state_changes', { pid_string: OBJECT_NAMES[0] }],
    ['get_state_at', { pid_string: OBJECT_NAMES[0], timestamp: iso(mid) }],
    ['analyze_state_change', { pid_string: OBJECT_NAMES[0], before: iso(mid - 1_000), after: iso(mid) }],
    ['system_snapshot_at', { timestamp: iso(mid) }],
    ['get_execution_path', { pid_string: THREADS[2] }],
    ['get_execution_path', { pid_string: THREADS[0], request_id: request }],
    ['trace_process', { pid_string: THREADS[1] }],
    ['trace_named_process', { process_name: OBJECT_NAMES[2] }],
    ['process_relationships', { pid_string: THREADS[0] }],
    ['get_http_requests', {}],
    ['get_http_requests', { status_min: 500 }],
    ['get_http_requests', { slow_ms: 40 }],
    ['get_events_between', lastSecond],
    ['get_events_between', { ...lastSecond, type: 'call', pid_string: THREADS[1] }],
    ['get_logs', {}],
    ['get_logs', { level: 'error' }],
    ['get_logs', { grep: 'in 42 ms' }],
    ['get_probe_hits', {}],
    ['get_probe_hits', { probe: 'p2' }],
    // An export writes every event of its window to a file: a tenth of a second here is ~1,000 events.
    ['export_trace', { start: iso(lastMs - 100), end: iso(lastMs) }],
  ];
}

/** Questions about a live target `pid` (the ingest fixture: its own events are log/bench lines). */
export function liveQuestions(pid) {
  const id = String(pid);
  return [
    ['get_supervision_tree', {}],
    ['trace_process', { pid_string: id }],
    ['process_info', { pid_string: id }],
    ['process_relationships', { pid_string: id }],
    ['get_execution_path', { pid_string: id }],
    ['get_events_between', { start: '-2s', end: '-1s' }],
    ['get_logs', { pid_string: id }],
    ['system_snapshot_at', { timestamp: '-1s' }],
    ['message_queue_analysis', {}],
    ['get_function_calls', { module_name: 'emit_target.cjs' }],
    ['performance_analysis', { module_name: 'emit_target.cjs' }],
    ['slowest_function_calls', {}],
    ['get_message_flow', { from_pid: id, to_pid: id }],
    ['get_http_requests', {}],
    ['get_probe_hits', {}],
    ['get_state_timeline', { pid_string: id }],
    ['analyze_state_changes', { pid_string: id }],
    ['get_state_at', { pid_string: id, timestamp: '-1s' }],
    ['analyze_state_change', { pid_string: id, before: '-2s', after: '-1s' }],
    ['export_trace', { start: '-100ms' }],
  ];
}

/** `tool(args)` as the tables print it. */
export const label = ([tool, args]) => `${tool}(${Object.entries(args).map(([k, v]) => `${k}=${v}`).join(', ')})`;

/**
 * One call through the API: wall ms, CPU ms of this process, the answer's size in characters of JSON, and the
 * error text if the tool answered one (an error is an answer too: what a client waits for).
 */
export async function ask(scope, [tool, args]) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let size = 0;
  let error;
  try {
    size = JSON.stringify(await scope.call(tool, args)).length;
  } catch (e) {
    error = String(e?.message ?? e).split('\n')[0];
  }
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000, size, error };
}

/** Read tools of the registry that `questions` never asks (so a new tool shows up as not measured). */
export function unasked(TOOLS, questions, { live = false } = {}) {
  const asked = new Set(questions.map(([tool]) => tool));
  return TOOLS.filter((t) => t.annotations.readOnlyHint && !asked.has(t.name) && t.name !== 'cpu_profile' && (live || !LIVE_ONLY.includes(t.name))).map((t) => t.name);
}
