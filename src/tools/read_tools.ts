// The read-only query tools, sorted by name, for the registry to include.
import { analyze_state_changes } from './analyze_state_changes.js';
import type { ToolDefinition } from './define.js';
import { get_execution_path } from './get_execution_path.js';
import { get_function_calls } from './get_function_calls.js';
import { get_message_flow } from './get_message_flow.js';
import { get_state_timeline } from './get_state_timeline.js';

export const READ_TOOLS: readonly ToolDefinition<any>[] = [analyze_state_changes, get_execution_path, get_function_calls, get_message_flow, get_state_timeline];
