// What tools/list shows a client, judged as the strictest clients judge it: ajv in strict mode (draft-07 and
// draft 2020-12, no union types), one JSON type per property, no unknown property accepted, every property
// described, an outputSchema per tool; and what it costs a model, counted with the o200k tokenizer.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { Tiktoken } from 'js-tiktoken/lite';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createServer } from '../../src/server.js';
import { DEFAULT_CATEGORIES, selectTools } from '../../src/tools/categories.js';
import { ACTION, READ_ONLY, type ToolContext, type ToolDefinition } from '../../src/tools/define.js';
import { TOOLS } from '../../src/tools/registry.js';
import { draft07, draft2020 } from '../protocol/conform.js';

/** The budget of the default tools/list, sent to the model on every turn (it was 4,439 tokens). */
const BUDGET = 3_000;

async function listTools(tools: readonly ToolDefinition<any>[]): Promise<{ tools: Tool[] }> {
  const { server } = createServer({} as ToolContext, tools);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: 'nodescope-test', version: '1.0.0' });
  await client.connect(b);
  try {
    return await client.listTools();
  } finally {
    await client.close();
  }
}

describe('tools/list', () => {
  it('compiles every input and output schema with ajv strict, draft-07 and draft 2020-12', async () => {
    const { tools } = await listTools(TOOLS);
    expect(tools.map((t) => t.name)).toEqual(TOOLS.map((t) => t.name));
    for (const t of tools) {
      for (const [which, schema] of [['input', t.inputSchema], ['output', t.outputSchema]] as const) {
        expect(schema, `${t.name} ${which}Schema`).toBeDefined();
        expect(() => draft07.compile(schema!), `${t.name} ${which}Schema, draft-07`).not.toThrow();
        expect(() => draft2020.compile(schema!), `${t.name} ${which}Schema, draft 2020-12`).not.toThrow();
      }
    }
  });

  it('lists one JSON type per property, every property described, and refuses other properties', async () => {
    const { tools } = await listTools(TOOLS);
    const json = JSON.stringify(tools);
    expect(json).not.toContain('$schema');
    expect(json).not.toContain(String(Number.MAX_SAFE_INTEGER));
    for (const t of tools) {
      expect([t.name, t.inputSchema.type, t.inputSchema.additionalProperties]).toEqual([t.name, 'object', false]);
      expect(t.inputSchema.properties, t.name).toBeDefined();
      for (const [name, prop] of Object.entries(t.inputSchema.properties as Record<string, { type?: unknown; description?: unknown }>)) {
        expect([t.name, name, typeof prop.type, typeof prop.description]).toEqual([t.name, name, 'string', 'string']);
      }
    }
    // Times are strings: ISO 8601, epoch ms or relative (the server still reads a number as epoch ms).
    const flow = tools.find((t) => t.name === 'get_message_flow')!;
    expect((flow.inputSchema.properties as any).since).toEqual({ type: 'string', description: 'From (ISO 8601, epoch ms, or -5m)' });
  });

  it('annotates every tool from the two shared constants, the read-only ones read-only', () => {
    for (const t of TOOLS) {
      const expected = t.annotations === READ_ONLY ? READ_ONLY : t.name === 'evaluate' ? { ...ACTION, destructiveHint: true } : ACTION;
      expect([t.name, t.annotations]).toEqual([t.name, expected]);
    }
    const readOnly = TOOLS.filter((t) => t.annotations.readOnlyHint).map((t) => t.name);
    expect(readOnly).toEqual(expect.arrayContaining(['trace_process', 'get_supervision_tree', 'process_info', 'cpu_profile', 'export_trace']));
    expect(readOnly).not.toContain('trace_named_process');
  });

  it(`costs at most ${BUDGET} o200k tokens by default`, async () => {
    const enc = new Tiktoken(o200k);
    const tokens = async (tools: readonly ToolDefinition<any>[]) => enc.encode(JSON.stringify(await listTools(tools))).length;
    const byDefault = await tokens(selectTools(TOOLS, DEFAULT_CATEGORIES));
    expect(byDefault).toBeLessThanOrEqual(BUDGET);
    // All 29 tools were 8,290 tokens.
    expect(await tokens(TOOLS)).toBeLessThanOrEqual(7_000);
  });
});

describe('the tools layer', () => {
  it('reaches the recording through the query layer only: no store, no SQL (types of rows excepted)', () => {
    const dir = join(import.meta.dirname, '..', '..', 'src', 'tools');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(dir, file), 'utf8');
      const imports = [...source.matchAll(/^import (type )?.*from '([^']+)';$/gm)];
      for (const [line, type, from] of imports) if (/\/store\/|better-sqlite3/.test(from!)) expect([file, line, type]).toEqual([file, line, 'type ']);
      expect([file, /\.store\b|\.db\.|\bprepare\(/.test(source)]).toEqual([file, false]);
    }
  });
});
