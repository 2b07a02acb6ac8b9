// The query plan of every read tool, on the query fixture: which indexes each statement on `events` reads,
// and that none reads the whole table. Exact sets: a planner change or a new statement that loses an index
// fails here. test/unit/key_plans.test.ts has the exact plans of the filtered questions.
import { describe, expect, it } from 'vitest';
import { callTool } from '../../src/server.js';
import { TOOLS } from '../../src/tools/registry.js';
import { recordPlans, setup, T0, webEvents } from '../query_fixture.js';

type Case = { tool: string; args: Record<string, unknown>; indexes: string[] };

// Reads that cover a whole type rather than a key (the tool's answer is about all of them): what they read
// grows with the store, named here so that the list can only shrink.
const TYPE_WIDE: Record<string, string> = {
  get_execution_path: 'a caller outside the page, looked up backwards among calls from the callee (stops at the first match)',
  analyze_state_change: 'idem (the calls between the two moments, as get_execution_path shows them)',
  get_probe_hits: 'probe hits (bounded by each probe\'s hit budget)',
  get_supervision_tree: 'the agent\'s trace_started/trace_stopped reports, and the processes\' start and detach reports',
  message_queue_analysis: 'the processes\' start and detach reports (the supervision tree says which threads still run)',
  performance_analysis: 'the agent\'s timing summaries, as get_function_calls (the recorded calls: from the store\'s tallies; in a window, the module\'s completions from events_end_key)',
  slowest_function_calls: 'idem (the recorded completions: each function\'s slowest, from events_end_key)',
  get_function_calls: 'the agent\'s timing summaries (one a second per timing-only trace and thread), among its reports',
};

const CASES: Case[] = [
  { tool: 'analyze_state_change', args: { pid_string: 'cart', before: T0 + 2.5, after: T0 + 10.5 }, indexes: ['INTEGER PRIMARY KEY', 'events_actor_ts', 'events_http_request', 'events_spawned_by', 'events_type_ts'] },
  { tool: 'analyze_state_changes', args: { pid_string: '4242/o1' }, indexes: ['events_actor_ts'] },
  { tool: 'export_trace', args: {}, indexes: ['INTEGER PRIMARY KEY', 'events_actor_ts', 'events_message_ref', 'events_type_ts'] },
  { tool: 'export_trace', args: { start: T0 + 2, end: T0 + 6 }, indexes: ['INTEGER PRIMARY KEY', 'events_actor_ts', 'events_message_ref', 'events_type_ts'] },
  { tool: 'find_processes', args: { module: 'app.js' }, indexes: [] },
  { tool: 'get_events_between', args: { start: T0, end: T0 + 20 }, indexes: ['INTEGER PRIMARY KEY', 'events_type_ts'] },
  { tool: 'get_events_between', args: { start: T0, end: T0 + 20, type: 'http/response' }, indexes: ['INTEGER PRIMARY KEY', 'events_type_ts'] },
  { tool: 'get_events_between', args: { start: T0, end: T0 + 20, pid_string: '4242', type: 'call', module_name: 'cart.js' }, indexes: ['INTEGER PRIMARY KEY', 'events_actor_ts', 'events_call_key', 'events_type_ts'] },
  { tool: 'get_execution_path', args: { pid_string: '4242' }, indexes: ['events_actor_ts', 'events_spawned_by'] },
  { tool: 'get_execution_path', args: { pid_string: '4242', request_id: '4242:r1' }, indexes: ['events_actor_ts', 'events_corr', 'events_spawned_by'] },
  { tool: 'get_execution_path', args: { pid_string: '4242/o1', since: T0 + 3 }, indexes: ['INTEGER PRIMARY KEY', 'events_actor_ts', 'events_spawned_by', 'events_type_ts'] },
  { tool: 'get_function_calls', args: { module_name: 'payments.js' }, indexes: ['events_actor_ts', 'events_call_key', 'events_type_ts'] },
  { tool: 'get_function_calls', args: { module_name: 'payments.js', request_id: '4242:r1' }, indexes: ['events_actor_ts', 'events_call_key', 'events_corr'] },
  { tool: 'get_function_calls', args: { module_name: 'payments.js', since: T0 + 5, until: T0 + 20 }, indexes: ['events_actor_ts', 'events_call_key', 'events_type_ts'] },
  { tool: 'get_http_requests', args: {}, indexes: ['INTEGER PRIMARY KEY', 'events_type_ts'] },
  { tool: 'get_http_requests', args: { status_min: 500 }, indexes: ['INTEGER PRIMARY KEY', 'events_http_request', 'events_http_status'] },
  { tool: 'get_http_requests', args: { slow_ms: 1 }, indexes: ['INTEGER PRIMARY KEY', 'events_http_request', 'events_http_slow'] },
  { tool: 'get_http_requests', args: { status_min: 500, route: '/checkout', slow_ms: 1 }, indexes: ['INTEGER PRIMARY KEY', 'events_http_request', 'events_http_slow'] },
  { tool: 'get_logs', args: {}, indexes: ['INTEGER PRIMARY KEY', 'events_type_ts'] },
  { tool: 'get_logs', args: { pid_string: '4242', level: 'error', grep: 'charge' }, indexes: ['INTEGER PRIMARY KEY', 'events_actor_ts'] },
  { tool: 'get_logs', args: { grep: 'charge' }, indexes: ['INTEGER PRIMARY KEY', 'events_type_ts'] },
  { tool: 'get_logs', args: { level: 'warn', since: T0 + 3 }, indexes: ['INTEGER PRIMARY KEY', 'events_type_ts'] },
  { tool: 'get_message_flow', args: { from_pid: '4242', to_pid: '4242/w1' }, indexes: ['events_actor_ts', 'events_message_ref', 'events_send_pair'] },
  { tool: 'get_message_flow', args: { from_pid: '4242', to_pid: '4242/w1', since: T0 + 10 }, indexes: ['events_actor_ts', 'events_message_ref', 'events_send_pair'] },
  { tool: 'get_probe_hits', args: {}, indexes: ['events_type_ts'] },
  { tool: 'get_probe_hits', args: { pid_string: '4242' }, indexes: ['events_type_ts'] },
  { tool: 'get_state_at', args: { pid_string: '4242/o1', timestamp: T0 + 10.011 }, indexes: ['INTEGER PRIMARY KEY', 'events_actor_ts'] },
  { tool: 'get_state_timeline', args: { pid_string: '4242/o1' }, indexes: ['events_actor_ts'] },
  { tool: 'get_supervision_tree', args: {}, indexes: ['events_type_ts'] },
  { tool: 'message_queue_analysis', args: {}, indexes: ['INTEGER PRIMARY KEY', 'events_actor_ts', 'events_message_ref', 'events_send_pair', 'events_type_ts'] },
  { tool: 'performance_analysis', args: { module_name: 'payments.js' }, indexes: ['events_call_key', 'events_end_key', 'events_type_ts'] },
  { tool: 'performance_analysis', args: { module_name: 'payments.js', since: T0 + 2 }, indexes: ['events_call_key', 'events_end_key', 'events_type_ts'] },
  { tool: 'process_relationships', args: { pid_string: '4242' }, indexes: [] },
  { tool: 'slowest_function_calls', args: { limit: 3 }, indexes: ['events_actor_ts', 'events_end_key', 'events_type_ts'] },
  { tool: 'slowest_function_calls', args: { limit: 3, module_name: 'payments.js' }, indexes: ['events_actor_ts', 'events_call_key', 'events_end_key', 'events_type_ts'] },
  { tool: 'system_snapshot_at', args: { timestamp: T0 + 4.2 }, indexes: ['INTEGER PRIMARY KEY', 'events_actor_ts', 'events_message_ref', 'events_send_pair', 'events_type_ts'] },
  { tool: 'system_snapshot_at', args: { timestamp: T0 + 10.0105 }, indexes: ['INTEGER PRIMARY KEY', 'events_actor_ts', 'events_message_ref', 'events_send_pair', 'events_type_ts'] },
  { tool: 'trace_named_process', args: { process_name: 'app.js' }, indexes: ['events_actor_ts'] },
  { tool: 'trace_process', args: { pid_string: '4242' }, indexes: ['events_actor_ts'] },
];

/** Each statement on `events` a tool ran, with its plan. */
async function plansOf(c: Case): Promise<[string, string][]> {
  const { store, ctx } = setup(webEvents());
  ctx.probes = () => [];
  const plans = recordPlans(store);
  const tool = TOOLS.find((t) => t.name === c.tool)!;
  // export_trace writes a file: its question, asked directly
  if (c.tool === 'export_trace') ctx.query.exportTrace({ sinceMs: (c.args.start as number | undefined) ?? null, untilMs: (c.args.end as number | undefined) ?? null });
  else {
    const r = await callTool(tool, c.args, ctx);
    expect(r.isError ?? false, JSON.stringify(r.content)).toBe(false);
  }
  return [...plans].filter(([sql]) => /\bevents\b/.test(sql));
}

/** The names `events` goes by in a statement (itself and its aliases). */
function namesOfEvents(sql: string): string[] {
  const aliases = [...sql.matchAll(/\bevents\s+(?:AS\s+)?(\w+)/gi)].map((m) => m[1]!).filter((a) => !/^(WHERE|INDEXED|ORDER|GROUP|LIMIT|JOIN|ON|UNION)$/i.test(a));
  return ['events', ...aliases];
}

describe('query plans of every read tool', () => {
  it('covers every read-only tool that reads the store', () => {
    const live = new Set(['cpu_profile', 'process_info']); // ask the running process, not the store
    const read = TOOLS.filter((t) => t.annotations?.readOnlyHint === true && !live.has(t.name)).map((t) => t.name);
    expect(read.filter((t) => !CASES.some((c) => c.tool === t))).toEqual([]);
  });

  for (const c of CASES) {
    it(`${c.tool} ${JSON.stringify(c.args)}`, async () => {
      const plans = await plansOf(c);
      const used = new Set<string>();
      for (const [sql, plan] of plans) {
        const steps = plan.split('; ');
        // no statement reads the whole table
        expect(steps.filter((s) => namesOfEvents(sql).some((n) => s === `SCAN ${n}`)), `${sql}\n=> ${plan}`).toEqual([]);
        for (const s of steps) {
          const m = /USING (?:COVERING )?INDEX (\w+)|USING (INTEGER PRIMARY KEY)/.exec(s);
          if (m && namesOfEvents(sql).some((n) => s.startsWith(`SEARCH ${n} `) || s.startsWith(`SCAN ${n} `))) used.add(m[1] ?? m[2]!);
        }
      }
      expect([...used].sort()).toEqual(c.indexes);
      // a read of a whole type is named above
      const typeWide = plans.filter(([, plan]) => /SEARCH \w+ USING (?:COVERING )?INDEX events_type_ts \(type_code=\?(?: AND ts_ns<\?)?\)/.test(plan));
      if (typeWide.length > 0) expect(TYPE_WIDE[c.tool], typeWide.map(([sql]) => sql.slice(0, 100)).join('\n')).toBeDefined();
    });
  }
});
