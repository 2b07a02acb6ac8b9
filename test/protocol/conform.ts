// Strict JSON Schema checks shared by the tool tests: ajv in strict mode (no union types allowed), as the
// strictest MCP clients validate, for draft-07 and draft 2020-12; and a check that a tool's structuredContent
// conforms to the outputSchema it lists.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { outputSchema } from '../../src/server.js';
import type { ToolDefinition } from '../../src/tools/define.js';

export const draft07 = new Ajv({ strict: true, allErrors: true });
export const draft2020 = new Ajv2020({ strict: true, allErrors: true });

const compiled = new WeakMap<object, ValidateFunction>();

function validator(schema: object): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = draft2020.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** Fails the test when `structured` does not conform to `schema`. */
export function expectConforms(name: string, schema: object | undefined, structured: unknown): void {
  expect(schema, `${name} lists no outputSchema`).toBeDefined();
  const validate = validator(schema!);
  const ok = validate(structured);
  expect(ok, `${name}: structuredContent does not conform to its outputSchema: ${draft2020.errorsText(validate.errors)}`).toBe(true);
}

const listed = new WeakMap<ToolDefinition<any>, object | undefined>();

/** Checks a tool's structuredContent (from callTool) against the tool's own outputSchema. */
export function expectToolConforms(tool: ToolDefinition<any>, structured: unknown): void {
  if (!listed.has(tool)) listed.set(tool, outputSchema(tool));
  expectConforms(tool.name, listed.get(tool), structured);
}

/**
 * A connected client whose every answer is checked: the structuredContent of each successful call must
 * conform to the outputSchema tools/list gave for that tool (an error answer carries none).
 */
export function conforming(client: Client): Client {
  let schemas: Promise<Map<string, object | undefined>> | undefined;
  const callTool = client.callTool.bind(client);
  client.callTool = (async (...args: Parameters<Client['callTool']>) => {
    const result = await callTool(...args);
    if (!result.isError) {
      schemas ??= client.listTools().then(({ tools }) => new Map(tools.map((t) => [t.name, t.outputSchema])));
      const name = args[0].name;
      // A tool called by name without being listed (its category not chosen) gave the client no schema.
      if ((await schemas).has(name)) expectConforms(name, (await schemas).get(name), result.structuredContent);
    }
    return result;
  }) as Client['callTool'];
  return client;
}
