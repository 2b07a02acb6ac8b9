// Every built-in tool, sorted by name. The README's tool table is generated from this list.
import { analyze_state_changes } from './analyze_state_changes.js';
import { attach } from './attach.js';
import { configure } from './configure.js';
import { cpu_profile } from './cpu_profile.js';
import type { ToolDefinition } from './define.js';
import { detach } from './detach.js';
import { evaluate } from './evaluate.js';
import { export_trace } from './export_trace.js';
import { get_execution_path } from './get_execution_path.js';
import { get_function_calls } from './get_function_calls.js';
import { get_message_flow } from './get_message_flow.js';
import { get_state_timeline } from './get_state_timeline.js';
import { get_supervision_tree } from './get_supervision_tree.js';
import { launch } from './launch.js';
import { process_info } from './process_info.js';
import { trace_module } from './trace_module.js';
import { trace_named_process } from './trace_named_process.js';
import { trace_process } from './trace_process.js';

export const TOOLS: readonly ToolDefinition<any>[] = [
  analyze_state_changes,
  attach,
  configure,
  cpu_profile,
  detach,
  evaluate,
  export_trace,
  get_execution_path,
  get_function_calls,
  get_message_flow,
  get_state_timeline,
  get_supervision_tree,
  launch,
  process_info,
  trace_module,
  trace_named_process,
  trace_process,
];
