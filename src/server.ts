// The MCP server: lists every tool with schemas strict clients accept, and runs calls through one wrapper
// that owns the cross-cutting concerns — tolerant reading of sloppy arguments, checks with a fix-it message,
// one call at a time (tools share inspector sessions), and errors turned into `isError` answers that say
// what to do next. The SDK's own tool registry is not used: it lists `$schema` and 2^53 bounds, accepts
// union types strict validators refuse, and answers bad arguments with its raw validation text.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type JSONRPCMessage, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z, type ZodType } from 'zod';
import type { Progress, ToolContext, ToolDefinition } from './tools/define.js';
import { TOOLS } from './tools/registry.js';

export const SERVER_NAME = 'nodescope';
export const SERVER_VERSION = '0.1.0';

/** Characters of an argument value quoted back in an error (a 1 MB argument once came back as 4.2 MB). */
const ECHO_CAP = 80;
/** Characters of an error answer. */
const ERROR_CAP = 4_000;
/**
 * Characters of any string argument: no id, name, path, time or expression is near it, and answers quote
 * their filters back (a 1 MB grep would have made a 1 MB answer).
 */
const ARGUMENT_CAP = 10_000;

type JsonSchema = Record<string, unknown>;

/** Brings the trace up to the question; a note on what the answer may lack under a flood (Session.syncForQuestion). */
async function questionSync(ctx: ToolContext): Promise<string | undefined> {
  if (ctx.syncForQuestion) return ctx.syncForQuestion();
  await ctx.sync();
  return undefined;
}

/**
 * `tools` can be called; `listed` (names, default all of them) are what tools/list shows. The tool categories
 * keep a client's context small, but a script or a model that knows a tool's name still reaches it.
 */
export function createServer(ctx: ToolContext, tools: readonly ToolDefinition<any>[] = TOOLS, listedNames?: readonly string[]): { server: McpServer; cleanup: () => Promise<void> } {
  const server = new McpServer({ name: SERVER_NAME, version: SERVER_VERSION }, { capabilities: { tools: {} } });
  const byName = new Map(tools.map((t) => [t.name, t]));
  const listed = (listedNames ? tools.filter((t) => listedNames.includes(t.name)) : tools).map(toolListing);
  // The SDK's request parsing drops a `__proto__` key from the arguments (`detach {"__proto__": {}}` then
  // detached), so the keys are read from the message as it arrived.
  const sentKeys = new Map<string | number, string[]>();
  const run = serialized();

  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listed }));
  server.server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const { name } = request.params;
    const keys = sentKeys.get(extra.requestId);
    sentKeys.delete(extra.requestId);
    const tool = byName.get(name);
    if (!tool) return errorResult(`no tool named ${echo(name)}; tools: ${tools.map((t) => t.name).join(', ')}.`);
    const token = extra._meta?.progressToken;
    // Notifications still being sent when the tool answers are awaited first: a client drops progress
    // that arrives after the answer to its request.
    const sending: Promise<unknown>[] = [];
    const progress: Progress =
      token === undefined
        ? () => undefined
        : (done, total, message) =>
            void sending.push(extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: done, total, message } }).catch(() => undefined));
    return run(async () => {
      const result = await callTool(tool, request.params.arguments ?? {}, ctx, progress, keys);
      await Promise.all(sending);
      return result;
    });
  });

  const connect = server.connect.bind(server);
  server.connect = async (transport: Transport) => {
    await connect(transport);
    const inner = transport.onmessage;
    transport.onmessage = (message: JSONRPCMessage, extra) => {
      const m = message as { id?: string | number; method?: string; params?: { arguments?: unknown } };
      const args = m.params?.arguments;
      if (m.method === 'tools/call' && m.id !== undefined && typeof args === 'object' && args !== null) {
        // A request the SDK refuses before the handler never takes its entry out: keep the map bounded.
        if (sentKeys.size >= 1_000) sentKeys.delete(sentKeys.keys().next().value!);
        sentKeys.set(m.id, Object.keys(args));
      }
      inner?.(message, extra);
    };
  };
  return { server, cleanup: async () => server.close() };
}

/**
 * A tool as tools/list shows it. The title is left out: it says again what the description says, and the
 * list is sent to the model on every turn (16 titles were 161 of its tokens).
 */
export function toolListing(tool: ToolDefinition<any>): Tool {
  return {
    name: tool.name,
    description: tool.description,
    inputSchema: inputSchema(tool) as Tool['inputSchema'],
    ...(tool.output ? { outputSchema: outputSchema(tool) as Tool['outputSchema'] } : {}),
    annotations: tool.annotations,
  };
}

/** The input schema: one type per property, every property described, no other property allowed. */
export function inputSchema(tool: ToolDefinition<any>): JsonSchema {
  const { type, properties = {}, ...rest } = listable(z.toJSONSchema(z.strictObject(tool.schema), { target: 'draft-7', io: 'input' }) as JsonSchema);
  // Some clients want `properties` even when a tool takes no argument.
  return { type, properties, ...rest };
}

/** The schema of a tool's structuredContent. */
export function outputSchema(tool: ToolDefinition<any>): JsonSchema | undefined {
  if (!tool.output) return undefined;
  // The fields' types, not which are always there: `required` cost ~8 tokens a tool in tools/list.
  const { required: _, ...schema } = listable(z.toJSONSchema(z.looseObject(tool.output), { target: 'draft-7', io: 'output', unrepresentable: 'any' }) as JsonSchema);
  return schema;
}

/**
 * What zod writes, made strict-client safe and cheap: no `$schema` (the listing is valid as draft-07 and as
 * 2020-12 alike), no ±2^53 bounds on every integer (126 tokens of tools/list), a nullable type as `anyOf`
 * (`type: ["string", "null"]` is refused by ajv's strict mode), nothing for "any object" or "any array"
 * but its type.
 */
function listable(schema: JsonSchema): JsonSchema {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    const out: JsonSchema = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === '$schema') continue;
      if ((k === 'maximum' && v === Number.MAX_SAFE_INTEGER) || (k === 'minimum' && v === Number.MIN_SAFE_INTEGER)) continue;
      if (k === 'propertyNames' && JSON.stringify(v) === '{"type":"string"}') continue;
      if ((k === 'properties' || k === 'additionalProperties' || k === 'items') && JSON.stringify(v) === '{}') continue;
      // The wrapper refuses an empty string with a fix-it message; listed, it cost ~5 tokens a property.
      if (k === 'minLength' && v === 1) continue;
      out[k] = walk(v);
    }
    if (Array.isArray(out.type)) {
      const { type, description, ...rest } = out;
      return { ...(description ? { description } : {}), anyOf: (type as string[]).map((t) => (t === 'null' ? { type: t } : { type: t, ...rest })) };
    }
    return out;
  };
  return walk(schema) as JsonSchema;
}

/**
 * Validates and runs one tool call; never throws. Exported for the CLI's `call` and the package API.
 * `keys`: the argument names as the client sent them, when parsing may have dropped some.
 */
export async function callTool(
  tool: ToolDefinition<any>,
  args: Record<string, unknown>,
  ctx: ToolContext,
  progress: Progress = () => undefined,
  keys?: readonly string[],
): Promise<CallToolResult> {
  const read = readArguments(tool, args, keys);
  if ('error' in read) return errorResult(`${tool.name}: ${read.error}`);
  // Under a flood the question is answered from what is written, and says what it left out (an error too:
  // "no calls recorded yet" may be the busy thread's latest events, not yet handed over).
  let note: string | undefined;
  const noted = (text: string) => (note ? `${text}\n${note}` : text);
  try {
    // `mcp --attach/--launch`: a call that arrives while attaching waits for it, not answering about nothing.
    await ctx.ready?.();
    // A question about the past includes everything up to the moment it is asked.
    note = tool.annotations.readOnlyHint ? await questionSync(ctx) : undefined;
    const answer = await tool.handler(read.args, ctx, progress);
    return { content: [{ type: 'text', text: noted(answer.text) }], structuredContent: answer.data };
  } catch (error) {
    return errorResult(noted(`${tool.name} failed: ${(error as Error).message}`));
  }
}

/** A call's arguments as the handler gets them, or what is wrong with them and what to send instead. */
export function readArguments(tool: ToolDefinition<any>, args: Record<string, unknown>, keys?: readonly string[]): { args: Record<string, unknown> } | { error: string } {
  const problem = checkArguments(tool, args, keys);
  if (problem) return { error: problem };
  const parsed = argumentsSchema(tool).safeParse(tolerant(tool, args), { reportInput: true });
  return parsed.success ? { args: parsed.data } : { error: fixIt(tool, parsed.error.issues) };
}

const argumentSchemas = new WeakMap<ToolDefinition<any>, z.ZodObject>();

function argumentsSchema(tool: ToolDefinition<any>): z.ZodObject {
  let schema = argumentSchemas.get(tool);
  if (!schema) argumentSchemas.set(tool, (schema = z.strictObject(tool.schema)));
  return schema;
}

/** Unknown arguments, judged by own properties: `constructor` or `__proto__` is no argument of any tool. */
function checkArguments(tool: ToolDefinition<any>, args: Record<string, unknown>, keys?: readonly string[]): string | undefined {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return `arguments must be an object of named values. ${takes(tool)}`;
  const sent = new Set([...(keys ?? []), ...Object.keys(args)]);
  // `args.__proto__ = {}` on a plain object sets its prototype instead of a key.
  const proto = Object.getPrototypeOf(args);
  if (proto !== Object.prototype && proto !== null) sent.add('__proto__');
  const unknown = [...sent].filter((k) => !Object.hasOwn(tool.schema, k));
  if (unknown.length > 0) return `unknown argument${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => echo(k)).join(', ')}. ${takes(tool)}`;
  const long = Object.entries(args).find(([, v]) => typeof v === 'string' && v.length > ARGUMENT_CAP);
  if (long) return `${long[0]} is ${(long[1] as string).length} characters long (got ${echo(long[1])}): at most ${ARGUMENT_CAP}.`;
  return undefined;
}

function takes(tool: ToolDefinition<any>): string {
  const known = Object.keys(tool.schema);
  return known.length ? `It takes: ${known.join(', ')}.` : 'It takes no arguments.';
}

/**
 * Values models send in the wrong JSON type, read as meant: a number where a string is listed (`attach
 * {target: 8056}`, a time as epoch ms, a duration as 2000), a numeric string where a number is, "true" where
 * a boolean is, null for an optional argument left out. Anything else is left for the schema to refuse with
 * a fix-it message.
 */
function tolerant(tool: ToolDefinition<any>, args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    const schema = tool.schema[key] as ZodType;
    const type = listedType(schema);
    if (value === null && schema.safeParse(undefined).success) continue;
    if (type === 'string' && typeof value === 'number' && Number.isFinite(value)) out[key] = String(value);
    else if ((type === 'number' || type === 'integer') && typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) out[key] = Number(value);
    else if (type === 'boolean' && (value === 'true' || value === 'false')) out[key] = value === 'true';
    else out[key] = value;
  }
  return out;
}

const listedCache = new WeakMap<ZodType, { type?: string; description?: string }>();

/** A property's JSON type and description as tools/list shows them. */
function listed(schema: ZodType | undefined): { type?: string; description?: string } {
  if (!schema) return {};
  let entry = listedCache.get(schema);
  if (!entry) {
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { type?: unknown; description?: unknown };
    entry = { type: typeof json.type === 'string' ? json.type : undefined, description: typeof json.description === 'string' ? json.description : undefined };
    listedCache.set(schema, entry);
  }
  return entry;
}

function listedType(schema: ZodType | undefined): string | undefined {
  return listed(schema).type;
}

/** Zod's issues in nodescope's words: what was wrong, and what to send instead. */
function fixIt(tool: ToolDefinition<any>, issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const name = String(issue.path[0] ?? '');
      const schema = tool.schema[name] as ZodType | undefined;
      const described = listed(schema).description;
      const help = described ? ` ${sentence(described)}` : '';
      const got = issue.input === undefined ? '' : ` (got ${echo(issue.input)})`;
      switch (issue.code) {
        case 'invalid_type':
          if (issue.input === undefined) return `${name} is required.${help}`;
          return `${name} must be ${article(listedType(schema) ?? issue.expected)}${got}.${help}`;
        case 'too_small':
          return issue.origin === 'string' ? `${name} must not be empty.${help}` : `${name} must be at least ${issue.minimum}${got}.${help}`;
        case 'too_big':
          return issue.origin === 'string' ? `${name} is too long: at most ${issue.maximum} characters.` : `${name} must be at most ${issue.maximum}${got}.${help}`;
        case 'invalid_value':
          return `${name} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}.`;
        case 'custom':
          return `${name}: ${issue.message}${got}.`;
        default:
          return `${name}: ${issue.message}${got}.${help}`;
      }
    })
    .join(' ');
}

function article(type: string): string {
  return type === 'integer' ? 'a whole number' : /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** A value quoted back, cut short. */
function echo(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value.length > ECHO_CAP ? value.slice(0, ECHO_CAP) : value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  if (typeof value === 'string' && value.length > ECHO_CAP) return `${text.slice(0, -1)}…" (${value.length} characters)`;
  return text.length > ECHO_CAP ? `${text.slice(0, ECHO_CAP)}…` : text;
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text: text.length > ERROR_CAP ? `${text.slice(0, ERROR_CAP)}…(cut)` : text }], isError: true };
}

/** Runs async jobs one after another. */
function serialized(): <T>(job: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (job) => {
    const result = tail.then(job, job);
    tail = result.catch(() => undefined);
    return result;
  };
}
