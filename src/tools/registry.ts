// Every built-in tool, sorted by name. The README's tool table is generated from this list; the MCP server
// lists the categories chosen in the configuration (categories.ts).
import { analyze_state_change } from './analyze_state_change.js';
import { analyze_state_changes } from './analyze_state_changes.js';
import { attach } from './attach.js';
import { configure } from './configure.js';
import { cpu_profile } from './cpu_profile.js';
import type { ToolDefinition } from './define.js';
import { detach } from './detach.js';
import { evaluate } from './evaluate.js';
import { export_trace } from './export_trace.js';
import { find_processes } from './find_processes.js';
import { get_events_between } from './get_events_between.js';
import { get_execution_path } from './get_execution_path.js';
import { get_function_calls } from './get_function_calls.js';
import { get_http_requests } from './get_http_requests.js';
import { get_logs } from './get_logs.js';
import { get_message_flow } from './get_message_flow.js';
import { get_probe_hits } from './get_probe_hits.js';
import { get_state_at } from './get_state_at.js';
import { get_state_timeline } from './get_state_timeline.js';
import { get_supervision_tree } from './get_supervision_tree.js';
import { launch } from './launch.js';
import { message_queue_analysis } from './message_queue_analysis.js';
import { performance_analysis } from './performance_analysis.js';
import { process_info } from './process_info.js';
import { process_relationships } from './process_relationships.js';
import { slowest_function_calls } from './slowest_function_calls.js';
import { stop } from './stop.js';
import { system_snapshot_at } from './system_snapshot_at.js';
import { trace_line } from './trace_line.js';
import { trace_module } from './trace_module.js';
import { trace_named_process } from './trace_named_process.js';
import { trace_process } from './trace_process.js';
import { untrace } from './untrace.js';

export const TOOLS: readonly ToolDefinition<any>[] = [
  analyze_state_change,
  analyze_state_changes,
  attach,
  configure,
  cpu_profile,
  detach,
  evaluate,
  export_trace,
  find_processes,
  get_events_between,
  get_execution_path,
  get_function_calls,
  get_http_requests,
  get_logs,
  get_message_flow,
  get_probe_hits,
  get_state_at,
  get_state_timeline,
  get_supervision_tree,
  launch,
  message_queue_analysis,
  performance_analysis,
  process_info,
  process_relationships,
  slowest_function_calls,
  stop,
  system_snapshot_at,
  trace_line,
  trace_module,
  trace_named_process,
  trace_process,
  untrace,
];
