// QUERY-LAYER round trips through a real MCP client (in-memory transport) on a hand-filled store
// (test/query_fixture.ts): the read tools' schemas as a client sees them, and answers with structuredContent.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/server.js';
import { TOOLS } from '../../src/tools/registry.js';
import { setup } from '../query_fixture.js';
import { conforming } from './conform.js';

describe('read tools over MCP (query layer)', () => {
  const client = new Client({ name: 'nodescope-test', version: '1.0.0' });
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const { server, cleanup: close } = createServer(setup().ctx, TOOLS);
    cleanup = close;
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    await client.connect(b);
    conforming(client);
  });
  afterAll(async () => {
    await client.close();
    await cleanup();
  });

  it('lists every tool with annotations (the read tools read-only) and every argument described', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(TOOLS.map((t) => t.name));
    for (const t of tools) {
      if (/^(get_|analyze_)/.test(t.name)) expect(t.annotations).toEqual({ readOnlyHint: true });
      else expect([t.name, [true, undefined]]).toEqual([t.name, expect.arrayContaining([t.annotations?.readOnlyHint])]);
      for (const [name, prop] of Object.entries(t.inputSchema.properties ?? {})) expect([t.name, name, typeof (prop as any).description]).toEqual([t.name, name, 'string']);
    }
    const flow = tools.find((t) => t.name === 'get_message_flow')!;
    expect(flow.inputSchema.required).toEqual(['from_pid', 'to_pid']);
    expect((flow.inputSchema.properties as any).since.type).toBe('string');
    expect(flow.inputSchema.additionalProperties).toBe(false);
  });

  it('answers with text and structuredContent, and errors that say what to do', async () => {
    const flow = await client.callTool({ name: 'get_message_flow', arguments: { from_pid: 'pricing', to_pid: '4242', since: '2026-11-22T16:00:00.005Z' } });
    expect(flow.isError).toBeFalsy();
    expect((flow.content as any)[0].text).toBe(
      [
        'Messages between 4242/w1 "pricing" and 4242 "app.js" since 2026-11-22T16:00:00.005Z: 2 (1 not received on this page)',
        '2026-11-22T16:00:00.005Z 4242/w1 → 4242 [worker] {sku: "apple", price: 3} · received after 1.25 ms [msg m2]',
        '2026-11-22T16:00:00.012Z 4242 → 4242/w1 [worker] {op: "stop"} · never read (4242/w1 ended without reading it) [msg m3]',
        'showing 1–2 of 2',
      ].join('\n'),
    );
    expect(flow.structuredContent).toMatchObject({ from: '4242/w1', to: '4242', total: 2, page: 1 });
    const wrong = await client.callTool({ name: 'get_state_timeline', arguments: { pid_string: '4242', limit: 5 } });
    expect(wrong.isError).toBe(true);
    expect((wrong.content as any)[0].text).toMatch(/^get_state_timeline failed: 4242 is a process, not a tracked object/);
    const unknown = await client.callTool({ name: 'get_execution_path', arguments: { pid_string: '4242', pid: '4242' } });
    expect((unknown.content as any)[0].text).toBe('get_execution_path: unknown argument "pid". It takes: pid_string, request_id, since, until, page, limit.');
  });
});
