import { it } from 'vitest';
import { callTool } from '../../src/server.js';
import { analyze_state_change } from '../../src/tools/analyze_state_change.js';
import { get_events_between } from '../../src/tools/get_events_between.js';
import { get_http_requests } from '../../src/tools/get_http_requests.js';
import { get_logs } from '../../src/tools/get_logs.js';
import { get_state_at } from '../../src/tools/get_state_at.js';
import { message_queue_analysis } from '../../src/tools/message_queue_analysis.js';
import { performance_analysis } from '../../src/tools/performance_analysis.js';
import { process_relationships } from '../../src/tools/process_relationships.js';
import { slowest_function_calls } from '../../src/tools/slowest_function_calls.js';
import { system_snapshot_at } from '../../src/tools/system_snapshot_at.js';
import { get_function_calls } from '../../src/tools/get_function_calls.js';
import { get_execution_path } from '../../src/tools/get_execution_path.js';
import { recordPlans, setup, T0, webEvents } from '../query_fixture.js';

it('explore', async () => {
  const { ctx, store } = setup(webEvents());
  const plans = recordPlans(store);
  ctx.processInfo = async (id) => { if (id === '4242') return { event_loop_delay_ms: { min: 1, mean: 2.5, p50: 2, p99: 9, max: 12 } }; throw new Error('not attached'); };
  const runs: [any, any][] = [
    [get_state_at, { pid_string: 'cart', timestamp: T0 + 5 }],
    [get_state_at, { pid_string: 'cart', timestamp: T0 + 1 }],
    [get_events_between, { start: T0 + 4, end: T0 + 7 }],
    [get_events_between, { start: T0 + 0, end: T0 + 20, type: 'http/response' }],
    [get_events_between, { start: T0, end: T0 + 20, pid_string: 'cart', module_name: 'cart.js' }],
    [system_snapshot_at, { timestamp: T0 + 4.2 }],
    [system_snapshot_at, { timestamp: T0 + 12.7 }],
    [analyze_state_change, { pid_string: 'cart', before: T0 + 2.5, after: T0 + 10.5 }],
    [performance_analysis, { module_name: 'payments.js' }],
    [performance_analysis, { module_name: 'cart.js' }],
    [slowest_function_calls, { limit: 3 }],
    [message_queue_analysis, {}],
    [process_relationships, { pid_string: '4242' }],
    [process_relationships, { pid_string: 'pricing' }],
    [get_http_requests, {}],
    [get_http_requests, { status_min: 500 }],
    [get_http_requests, { route: '/items/:id' }],
    [get_logs, {}],
    [get_logs, { level: 'error', grep: 'CHARGE' }],
    [get_function_calls, { module_name: 'payments.js', request_id: '4242:r1' }],
    [get_execution_path, { pid_string: '4242', request_id: '4242:r1' }],
  ];
  for (const [t, a] of runs) {
    const r = await callTool(t, a, ctx);
    if (0) console.log(`=== ${t.name} ${JSON.stringify(a)}\n${(r.content as any)[0].text}\n${JSON.stringify(r.structuredContent)}`);
  }
  for (const [sql, plan] of plans) console.log(sql.slice(0, 300) + '\n   => ' + plan);
});
