// Tool categories: with ~30 tools the schemas cost the model context on every turn, so the server lists only
// the categories asked for. The default, core, holds to 3,000 tokens (test/unit/tool_schemas.test.ts): seven
// of ElixirScope's nine (analyze_state_changes, whose changes get_state_timeline shows too, is in time_travel;
// trace_process, which only counts what is recorded anyway, in process), launch/attach/detach, trace_line
// and untrace, and the most used extras. Every tool in the registry has a category.
import type { ToolDefinition } from './define.js';

export const CATEGORIES = ['core', 'time_travel', 'performance', 'process', 'tracing'] as const;
export type Category = (typeof CATEGORIES)[number];

export const DEFAULT_CATEGORIES: readonly Category[] = ['core'];

export const TOOL_CATEGORIES: Readonly<Record<string, Category>> = {
  // ElixirScope's AI integration.
  get_execution_path: 'core',
  get_function_calls: 'core',
  get_message_flow: 'core',
  get_state_timeline: 'core',
  get_supervision_tree: 'core',
  trace_module: 'core',
  trace_named_process: 'core',
  untrace: 'core',
  // Probes at a source line: the look inside running code MCP debugger users ask for most (issue 12).
  trace_line: 'core',
  get_probe_hits: 'core',
  // Sessions, and the most used extras.
  attach: 'core',
  detach: 'core',
  launch: 'core',
  get_http_requests: 'core',
  get_logs: 'core',

  analyze_state_change: 'time_travel',
  analyze_state_changes: 'time_travel',
  get_events_between: 'time_travel',
  get_state_at: 'time_travel',
  system_snapshot_at: 'time_travel',

  cpu_profile: 'performance',
  message_queue_analysis: 'performance',
  performance_analysis: 'performance',
  slowest_function_calls: 'performance',

  evaluate: 'process',
  trace_process: 'process',
  find_processes: 'process',
  process_info: 'process',
  process_relationships: 'process',

  // Changing what is recorded while tracing runs, and taking the trace elsewhere.
  configure: 'tracing',
  stop: 'tracing',
  export_trace: 'tracing',
};

/**
 * The tools of the chosen categories, in registry order. A tool missing from TOOL_CATEGORIES is kept, so that
 * a new tool is never hidden by accident; unknown category names are refused with the list of known ones.
 */
export function selectTools<T extends ToolDefinition<any>>(all: readonly T[], categories: readonly string[] | 'all'): T[] {
  if (categories === 'all') return [...all];
  checkCategories(categories);
  if (categories.includes('all')) return [...all];
  const wanted = new Set(categories);
  return all.filter((t) => {
    const c = TOOL_CATEGORIES[t.name];
    return c === undefined || wanted.has(c);
  });
}

function checkCategories(names: readonly string[]): void {
  const unknown = names.filter((c) => !(CATEGORIES as readonly string[]).includes(c) && c !== 'all');
  if (unknown.length) throw new Error(`unknown tool categor${unknown.length > 1 ? 'ies' : 'y'} ${unknown.join(', ')}: use ${CATEGORIES.join(', ')} or all`);
}

/** `core,time_travel` or `all` as a flag gives it → the argument of selectTools; unknown names are refused. */
export function parseCategories(flag: string | undefined): readonly string[] | 'all' {
  if (flag === undefined || flag.trim() === '') return DEFAULT_CATEGORIES;
  const names = flag.split(',').map((s) => s.trim()).filter(Boolean);
  checkCategories(names);
  return names.includes('all') ? 'all' : names;
}
