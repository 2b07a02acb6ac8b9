// Arguments as clients and models really send them: keys named like Object.prototype members, numbers where
// strings are listed, durations in every spelling, wrong values answered with what to send instead (never the
// SDK's raw validation text), and huge values not echoed back whole.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { describe, expect, it } from 'vitest';
import { ActorNotFound } from '../../src/query/actors.js';
import { callTool, createServer } from '../../src/server.js';
import type { ToolContext } from '../../src/tools/define.js';
import { TOOLS } from '../../src/tools/registry.js';
import { setup, T0 } from '../query_fixture.js';

const tool = (name: string) => TOOLS.find((t) => t.name === name)!;
const text = (r: { content: unknown }) => (r.content as { text: string }[]).map((c) => c.text).join('\n');

/** A context that records what the action tools were asked to do. */
function recorder() {
  const asked: [string, unknown][] = [];
  const tree = [{ id: '8056', kind: 'process', name: 'app.js', pid: 8056, status: 'running', started: null, ended: null, exit_code: null, exit_signal: null, children: [] }];
  const ctx = {
    async attach(target: string) {
      asked.push(['attach', target]);
      return { pid: Number(target), actor: target, url: 'ws://127.0.0.1:1/x', tree };
    },
    async detach() {
      asked.push(['detach', null]);
      return { detached: [8056] };
    },
    async cpuProfile(actor: string, ms: number) {
      asked.push(['cpuProfile', ms]);
      return { file: '/tmp/x.cpuprofile', duration_ms: ms, samples: 1, top_self: [], top_total: [] };
    },
    async traceModule(spec: unknown) {
      asked.push(['traceModule', spec]);
      return [];
    },
    async track(ref: string) {
      asked.push(['track', ref.length]);
      return [];
    },
    resolveActor(ref: string) {
      if (ref === '8056') return { id: '8056', kind: 'process', name: 'app.js', status: 'running' };
      throw new ActorNotFound(`no actor "${ref.slice(0, 20)}"`);
    },
    async sync() {},
  } as unknown as ToolContext;
  return { ctx, asked };
}

async function connected(ctx: ToolContext): Promise<Client> {
  const { server } = createServer(ctx, TOOLS);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: 'nodescope-test', version: '1.0.0' });
  await client.connect(b);
  return client;
}

describe('argument keys', () => {
  it('refuses __proto__ and constructor as unknown arguments, judged by own properties', async () => {
    const { ctx, asked } = recorder();
    const proto = await callTool(tool('detach'), JSON.parse('{"__proto__": {}}'), ctx);
    expect([proto.isError, text(proto)]).toEqual([true, 'detach: unknown argument "__proto__". It takes no arguments.']);
    const ctor = await callTool(tool('attach'), { target: '8056', constructor: 'x' }, ctx);
    expect([ctor.isError, text(ctor)]).toEqual([true, 'attach: unknown argument "constructor". It takes: target, web.']);
    const toString = await callTool(tool('get_supervision_tree'), { toString: 'x', hasOwnProperty: 1 }, ctx);
    expect(text(toString)).toBe('get_supervision_tree: unknown arguments "toString", "hasOwnProperty". It takes: format.');
    // A prototype set by assignment (`args.__proto__ = {}`) is no argument either.
    const assigned: Record<string, unknown> = {};
    (assigned as any).__proto__ = { format: 'text' };
    expect(text(await callTool(tool('get_supervision_tree'), assigned, ctx))).toBe('get_supervision_tree: unknown argument "__proto__". It takes: format.');
    expect(asked).toEqual([]);
  });

  it('refuses __proto__ sent over MCP, though the SDK drops it while parsing the request', async () => {
    const { ctx, asked } = recorder();
    const client = await connected(ctx);
    try {
      const r = await client.callTool({ name: 'detach', arguments: JSON.parse('{"__proto__": {}}') });
      expect([r.isError, text(r)]).toEqual([true, 'detach: unknown argument "__proto__". It takes no arguments.']);
      const c = await client.callTool({ name: 'detach', arguments: { constructor: 'x' } });
      expect(text(c)).toBe('detach: unknown argument "constructor". It takes no arguments.');
      expect(asked).toEqual([]);
      const ok = await client.callTool({ name: 'detach', arguments: {} });
      expect([ok.isError, asked]).toEqual([undefined, [['detach', null]]]);
    } finally {
      await client.close();
    }
  });
});

describe('tolerant reading', () => {
  it('takes a number where an id is listed as a string', async () => {
    const { ctx, asked } = recorder();
    const client = await connected(ctx);
    try {
      const r = await client.callTool({ name: 'attach', arguments: { target: 8056 } });
      expect([r.isError, text(r).split('\n')[0]]).toEqual([undefined, 'Attached to pid 8056 (actor 8056).']);
      expect(asked).toEqual([['attach', '8056']]);
    } finally {
      await client.close();
    }
  });

  it('reads durations as "2s", "500ms", 2 (seconds, as cpu_profile always took) or 2000 (ms), and says what to send otherwise', async () => {
    const { ctx, asked } = recorder();
    for (const duration of ['2s', '500ms', 2000, '2000', 2, '1.5', ' 1.5s ', '1m']) {
      const r = await callTool(tool('cpu_profile'), { pid_string: 8056, duration }, ctx);
      expect([duration, r.isError]).toEqual([duration, undefined]);
    }
    expect(asked.map(([, ms]) => ms)).toEqual([2000, 500, 2000, 2000, 2000, 1500, 1500, 60_000]);
    expect(text(await callTool(tool('cpu_profile'), { pid_string: '8056', duration: 75 }, ctx))).toBe(
      'cpu_profile failed: duration must be from 100ms to 60s; 75 is out of range as seconds and as ms: send e.g. "2s" or "500ms"',
    );
    expect(text(await callTool(tool('cpu_profile'), { pid_string: '8056', duration: '10m' }, ctx))).toBe('cpu_profile failed: duration must be from 100ms to 60s, got 600s');
    expect(text(await callTool(tool('cpu_profile'), { pid_string: '8056', duration: 'soon' }, ctx))).toBe(
      'cpu_profile failed: duration "soon" is not a duration: send "2s", "500ms" or "1m"',
    );
    // trace_module's duration_s: a bare number is seconds.
    await callTool(tool('trace_module'), { module_name: './a.js', duration_s: 30 }, ctx);
    await callTool(tool('trace_module'), { module_name: './a.js', duration_s: '5m' }, ctx);
    expect(asked.slice(-2).map(([, spec]) => (spec as { durationMs: number }).durationMs)).toEqual([30_000, 300_000]);
  });

  it('reads times as ISO 8601, epoch ms as a number or a string, or relative to now', async () => {
    const { ctx } = setup();
    const answer = async (since: unknown) => text(await callTool(tool('get_function_calls'), { module_name: 'payments.js', since }, ctx)).split('\n')[0];
    const iso = new Date(T0 + 7).toISOString();
    const expected = `Calls of payments.js since ${iso}: 2 (module /app/src/payments.js)`;
    expect(await answer(iso)).toBe(expected);
    expect(await answer(T0 + 7)).toBe(expected);
    expect(await answer(String(T0 + 7))).toBe(expected);
    expect(await answer('-5m')).toMatch(/^No calls of payments\.js match since /);
    // null for an optional argument: left out.
    expect(text(await callTool(tool('get_function_calls'), { module_name: 'payments.js', since: null, pid_string: null }, ctx)).split('\n')[0]).toBe(
      'Calls of payments.js: 2 (module /app/src/payments.js)',
    );
    expect(text(await callTool(tool('get_function_calls'), { module_name: null }, ctx))).toMatch(/^get_function_calls: module_name must be a string \(got null\)/);
    // Numbers where numbers are listed, sent as strings.
    const paged = await callTool(tool('get_function_calls'), { module_name: 'payments.js', limit: '1', page: '2' }, ctx);
    expect(text(paged).split('\n').at(-1)).toBe('showing 2–2 of 2');
  });
});

describe('fix-it messages', () => {
  it('say what was wrong and what to send, in nodescope\'s words', async () => {
    const { ctx } = setup();
    const says = async (name: string, args: Record<string, unknown>) => text(await callTool(tool(name), args, ctx));
    expect(await says('get_function_calls', {})).toBe('get_function_calls: module_name is required. Module: package name, path (./src/pay.js, pay.js) or file URL.');
    expect(await says('get_function_calls', { module_name: 'payments.js', limit: 'lots' })).toBe(
      'get_function_calls: limit must be a whole number (got "lots"). Rows per page (default 20).',
    );
    expect(await says('get_function_calls', { module_name: 'payments.js', limit: 0 })).toBe('get_function_calls: limit must be at least 1 (got 0). Rows per page (default 20).');
    expect(await says('get_function_calls', { module_name: '' })).toBe('get_function_calls: module_name must not be empty. Module: package name, path (./src/pay.js, pay.js) or file URL.');
    expect(await says('get_logs', { level: 'loud' })).toBe('get_logs: level must be one of "log", "info", "warn", "error", "debug", "trace", "fatal", "stdout", "stderr" (got "loud").');
    expect(await says('get_message_flow', { from_pid: ['4242'], to_pid: true })).toBe(
      'get_message_flow: from_pid must be a string (got ["4242"]). One actor: id (4242, 4242/w1), pid or name. ' +
        'to_pid must be a string (got true). The other actor: id (4242, 4242/w1), pid or name.',
    );
    expect(await says('get_supervision_tree', { format: 'svg' })).toBe('get_supervision_tree: format must be one of "text", "mermaid" (got "svg").');
  });

  it('never answer with the SDK\'s raw validation text over MCP', async () => {
    const { ctx } = setup();
    const client = await connected(ctx);
    try {
      for (const [name, args] of [
        ['get_function_calls', { module_name: 42, limit: -1 }],
        ['get_state_at', { pid_string: 'cart', timestamp: { at: 1 } }],
        ['cpu_profile', { pid_string: 4242, duration: '2 fortnights' }],
        ['nosuch', {}],
      ] as const) {
        const r = await client.callTool({ name, arguments: args });
        expect([name, r.isError]).toEqual([name, true]);
        expect(text(r)).not.toMatch(/Input validation error|invalid_type|Invalid arguments/);
      }
    } finally {
      await client.close();
    }
  });

  it('quote a huge argument back cut short', async () => {
    const { ctx, asked } = recorder();
    const huge = 'x'.repeat(1_000_000);
    // Any string argument past 10,000 characters is refused before it reaches a tool or an answer.
    const named = text(await callTool(tool('trace_named_process'), { process_name: huge }, ctx));
    expect(named).toBe(`trace_named_process: process_name is 1000000 characters long (got "${'x'.repeat(80)}…" (1000000 characters)): at most 10000.`);
    const grep = text(await callTool(tool('get_logs'), { grep: huge }, setup().ctx));
    expect(grep.length).toBeLessThan(200);
    expect(asked).toEqual([]);
    // Below that, a tool's own error quotes a long value cut short.
    const long = 'y'.repeat(9_000);
    const notFound = text(await callTool(tool('trace_named_process'), { process_name: long }, ctx));
    expect(asked).toEqual([['track', 9_000]]);
    expect(notFound.length).toBeLessThan(600);
    expect(notFound).toMatch(/^trace_named_process failed: nothing named "y{60}…" in any thread/);
    const level = text(await callTool(tool('get_logs'), { level: long }, setup().ctx));
    expect(level).toBe(`get_logs: level must be one of "log", "info", "warn", "error", "debug", "trace", "fatal", "stdout", "stderr" (got "${'y'.repeat(80)}…" (9000 characters)).`);
    const key = text(await callTool(tool('detach'), { [huge]: 1 }, ctx));
    expect(key.length).toBeLessThan(200);
  });
});
