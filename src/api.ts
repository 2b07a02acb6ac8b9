// The package API, mirroring ElixirScope's (`setup`, `trace_module`, `message_flow`, …) in JavaScript's
// spelling. Each method runs the MCP tool of the same meaning through the same wrapper, so a script, a test
// and an AI client get the same answers; methods resolve to the tool's structured answer and throw its
// error text. test/unit/api_tools.test.ts holds every method to the tool definitions.
import { resolveConfig, type Config } from './config.js';
import { callTool } from './server.js';
import { Session } from './session.js';
import type { ToolDefinition } from './tools/define.js';
import { TOOLS } from './tools/registry.js';

export interface SetupOptions {
  /** Configuration keys as in nodescope.config.json (tracing_level, sample_rate, max_events, persist, …). */
  config?: Partial<Record<keyof Config, string | number | boolean>>;
  /** Attach at once: an OS pid, host:port or ws:// URL. */
  attach?: string | number;
  /** Launch at once: the command line, e.g. ['node', 'app.js']. */
  launch?: string[];
  cwd?: string;
  /** Modules to trace from the first line (with launch). */
  traceModules?: string[];
  /** Query a persisted trace file instead (post-mortem). */
  db?: string;
  /** Extra tools (from loadTools). */
  tools?: readonly ToolDefinition<any>[];
}

export type Answer = Record<string, unknown>;

export async function setup(options: SetupOptions = {}): Promise<NodeScope> {
  const overrides = Object.fromEntries(Object.entries(options.config ?? {}).map(([k, v]) => [k, String(v)]));
  const session = new Session({ config: resolveConfig(overrides), db: options.db });
  const scope = new NodeScope(session, options.tools ?? TOOLS);
  try {
    if (options.launch) await session.launch(options.launch, { cwd: options.cwd, traceModules: options.traceModules });
    else if (options.attach !== undefined) await session.attach(String(options.attach));
  } catch (error) {
    await session.dispose();
    throw error;
  }
  return scope;
}

type Window = { since?: string | number; until?: string | number; page?: number; limit?: number };

export class NodeScope {
  constructor(
    readonly session: Session,
    private readonly tools: readonly ToolDefinition<any>[] = TOOLS,
  ) {}

  /** Runs a tool by name; resolves to its structured answer, throws its error. */
  async call(name: string, args: Record<string, unknown> = {}): Promise<Answer> {
    const tool = this.tools.find((t) => t.name === name);
    if (!tool) throw new Error(`no tool ${name}`);
    const clean = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
    const result = await callTool(tool, clean, this.session);
    if (result.isError) throw new Error(result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n'));
    return (result.structuredContent ?? {}) as Answer;
  }

  detach() {
    return this.call('detach');
  }
  evaluate(id: string, expression: string) {
    return this.call('evaluate', { pid_string: id, expression });
  }
  attach(target: string | number) {
    return this.call('attach', { target: String(target) });
  }
  launch(command: string, options: { cwd?: string; traceModules?: string[] } = {}) {
    return this.call('launch', { command, cwd: options.cwd, trace_modules: options.traceModules?.join(',') });
  }
  traceModule(module: string, limits: { functionNames?: string[]; maxCalls?: number; maxRate?: number; durationS?: number; capture?: 'args' | 'timing' } = {}) {
    return this.call('trace_module', {
      module_name: module,
      capture: limits.capture,
      function_names: limits.functionNames?.join(','),
      max_calls: limits.maxCalls,
      max_rate: limits.maxRate,
      duration_s: limits.durationS,
    });
  }
  /** Stops a module trace, a probe ("all" for every one) or a tracked object; with none, lists what is active. */
  untrace(what: { module?: string; probe?: string; object?: string } = {}) {
    return this.call('untrace', { module_name: what.module, probe: what.probe, pid_string: what.object });
  }
  /** A non-pausing probe at a source line (TypeScript lines through source maps). */
  traceLine(file: string, line: number, options: { condition?: string; capture?: string[]; log?: string; limits?: string } = {}) {
    return this.call('trace_line', { file, line, condition: options.condition, capture: options.capture, log: options.log, limits: options.limits });
  }
  probeHits(options: Omit<Window, 'until'> & { probe?: string; pid?: string; requestId?: string } = {}) {
    return this.call('get_probe_hits', { probe: options.probe, pid_string: options.pid, request_id: options.requestId, since: options.since, page: options.page, limit: options.limit });
  }
  traceProcess(id: string) {
    return this.call('trace_process', { pid_string: id });
  }
  /** ElixirScope's trace_genserver: start tracking an object by name or path. */
  traceNamedProcess(name: string) {
    return this.call('trace_named_process', { process_name: name });
  }
  supervisionTree() {
    return this.call('get_supervision_tree');
  }
  functionCalls(module: string, options: Window & { functionName?: string; pid?: string; requestId?: string } = {}) {
    const { functionName, pid, requestId, ...window } = options;
    return this.call('get_function_calls', { module_name: module, function_name: functionName, pid_string: pid, request_id: requestId, ...window });
  }
  messageFlow(from: string, to: string, options: Window = {}) {
    return this.call('get_message_flow', { from_pid: from, to_pid: to, ...options });
  }
  stateTimeline(id: string, options: Window = {}) {
    return this.call('get_state_timeline', { pid_string: id, ...options });
  }
  analyzeStateChanges(id: string, options: Window = {}) {
    return this.call('analyze_state_changes', { pid_string: id, ...options });
  }
  executionPath(id: string, options: Window & { requestId?: string } = {}) {
    const { requestId, ...window } = options;
    return this.call('get_execution_path', { pid_string: id, request_id: requestId, ...window });
  }
  getStateAt(id: string, timestamp: string | number) {
    return this.call('get_state_at', { pid_string: id, timestamp });
  }
  getEventsBetween(start: string | number, end: string | number, options: { type?: string; pid?: string; module?: string; page?: number; limit?: number } = {}) {
    const { pid, module, ...rest } = options;
    return this.call('get_events_between', { start, end, pid_string: pid, module_name: module, ...rest });
  }
  systemSnapshotAt(timestamp: string | number) {
    return this.call('system_snapshot_at', { timestamp });
  }
  analyzeStateChange(id: string, before: string | number, after: string | number) {
    return this.call('analyze_state_change', { pid_string: id, before, after });
  }
  performanceAnalysis(module: string) {
    return this.call('performance_analysis', { module_name: module });
  }
  slowestFunctionCalls(limit?: number) {
    return this.call('slowest_function_calls', { limit });
  }
  messageQueueAnalysis() {
    return this.call('message_queue_analysis');
  }
  processInfo(id: string) {
    return this.call('process_info', { pid_string: id });
  }
  processRelationships(id: string) {
    return this.call('process_relationships', { pid_string: id });
  }
  cpuProfile(id: string, seconds?: number) {
    return this.call('cpu_profile', { pid_string: id, duration: seconds === undefined ? undefined : `${seconds}s` });
  }
  exportTrace(options: { start?: string | number; end?: string | number; path?: string } = {}) {
    return this.call('export_trace', options);
  }
  configure(options: { tracingLevel?: string; sampleRate?: number; maxEvents?: number; retention?: string }) {
    return this.call('configure', { tracing_level: options.tracingLevel, sample_rate: options.sampleRate, max_events: options.maxEvents, retention: options.retention });
  }
  getLogs(options: { pid?: string; level?: string; grep?: string; since?: string | number; tail?: number } = {}) {
    const { pid, ...rest } = options;
    return this.call('get_logs', { pid_string: pid, ...rest });
  }
  httpRequests(options: { statusMin?: number; slowMs?: number; route?: string; method?: string } & Window = {}) {
    const { statusMin, slowMs, ...rest } = options;
    return this.call('get_http_requests', { status_min: statusMin, slow_ms: slowMs, ...rest });
  }
  findProcesses(options: { module?: string; className?: string }) {
    return this.call('find_processes', { module: options.module, class_name: options.className });
  }
  /** Stops tracing: every patch removed, inspector ports nodescope opened closed, a launched program ended, the store closed. */
  async stop(): Promise<void> {
    await this.session.dispose();
  }
}
