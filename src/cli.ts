#!/usr/bin/env node
// nodescope's command line. stdout belongs to JSON-RPC in `mcp`; everything else the CLI says goes to
// stderr there. `call` and `demo` print answers on stdout (they are not MCP transports).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { resolve } from 'node:path';
import { z } from 'zod';
import { OPTIONS, resolveConfig, showDefault, type Config } from './config.js';
import { runDemo } from './demo/run.js';
import { SERVER_VERSION, callTool, createServer } from './server.js';
import { Session, cleanUpOnEnd } from './session.js';
import { loadTools } from './extensions.js';
import type { Progress, ToolDefinition } from './tools/define.js';
import { selectTools } from './tools/categories.js';
import { TOOLS } from './tools/registry.js';
import { splitCommand } from './tools/launch.js';
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, checkBind, isLoopbackHost, parseHostPort, serveHttp } from './transport/http.js';
import { TOKEN_ENV, clientToken, removeIfStale, removeStaleTokenFiles, removeTokenFile, serverToken, tokenFile, tokenFileFor, writeTokenFile } from './transport/token.js';

const USAGE = `nodescope — a flight recorder for Node.js, driven through MCP

Usage:
  nodescope mcp [options] [--attach <pid|host:port|ws-url>] [--launch -- <command…>]
      Serve MCP over stdio (register this in your editor). Optionally attach or launch at start.
  nodescope serve --http [host:port] [--allow-remote] [options] [--attach <target>] [--launch -- <command…>]
      Serve MCP over Streamable HTTP at http://host:port/mcp (default ${DEFAULT_HTTP_HOST}:${DEFAULT_HTTP_PORT}; port 0
      picks a free one) to several clients at once, sharing one trace. Loopback only unless --allow-remote.
      Clients send "Authorization: Bearer <token>": ${TOKEN_ENV} if set, else generated; printed on
      stderr and written to ~/.nodescope/token-<port> (readable by you only, removed when the server ends;
      one a killed server left is removed by the next server or call that finds its pid gone).
  nodescope call <tool> [--db <file> | --attach <target> | --launch -- <command…>] [--json] [--<arg> <value> …]
      Call one tool and print its answer: offline against a persisted trace (--db), or one-shot
      against a process (attach or launch, call, detach). Exits 1 when the tool answers an error.
  nodescope call <tool> --server <url> [--token <token> | --token-file <file>] [--json] [--<arg> <value> …]
      Call one tool on a running "nodescope serve --http" (token: --token, ${TOKEN_ENV}, or the token file,
      ~/.nodescope/token-<port of the url> by default).
  nodescope call --help                 List the tools.
  nodescope call <tool> --help          Show a tool's arguments.
  nodescope demo
      Launch the bundled demo app under tracing and show the tools' answers.
  nodescope tools
      List the tools.

Options (also as environment variables):
${OPTIONS.map((o) => `  ${o.flag.padEnd(18)} ${o.env.padEnd(26)} ${o.describe} (default: ${showDefault(o.default)})`).join('\n')}
`;

interface Parsed {
  positional: string[];
  flags: Map<string, string>;
  command: string[];
}

/** Flags that never take a value, so `call x --json 4242`-style mistakes don't swallow the next word. */
const SWITCHES = new Set(['help', 'json', 'allow-remote']);

function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  let command: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      command = argv.slice(i + 1);
      break;
    }
    if (arg === '-h') flags.set('help', '');
    else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
      else if (!SWITCHES.has(arg.slice(2)) && i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags.set(arg.slice(2), argv[++i]!);
      else flags.set(arg.slice(2), '');
    } else positional.push(arg);
  }
  return { positional, flags, command };
}

/** A mistake on the command line: printed with a pointer to the help, exit code 2. */
class UsageError extends Error {}

const CONFIG_FLAGS = OPTIONS.map((o) => o.flag.slice(2));
const TARGET_FLAGS = ['db', 'attach', 'launch'];
/** What each subcommand takes besides `--help` (for `call`, also the tool's own arguments). */
const COMMAND_FLAGS: Record<string, string[]> = {
  mcp: [...CONFIG_FLAGS, ...TARGET_FLAGS],
  serve: ['http', 'allow-remote', ...CONFIG_FLAGS, ...TARGET_FLAGS],
  call: ['json', 'server', 'token', 'token-file', ...CONFIG_FLAGS, ...TARGET_FLAGS],
  demo: CONFIG_FLAGS,
  tools: CONFIG_FLAGS,
  help: [],
};

/** Refuses options the subcommand does not know, naming the nearest known one. */
function refuseUnknown(command: string, flags: Map<string, string>, known: readonly string[]): void {
  const unknown = [...flags.keys()].filter((k) => k !== 'help' && !known.includes(k));
  if (unknown.length === 0) return;
  const hints = unknown.map((k) => {
    const near = nearest(k, known);
    return `--${k}${near ? ` (did you mean --${near}?)` : ''}`;
  });
  throw new UsageError(`${command}: unknown option${unknown.length > 1 ? 's' : ''} ${hints.join(', ')}`);
}

function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d <= Math.max(2, Math.floor(c.length / 4)) && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** Pulls the configuration flags out of `flags`; what is left are tool arguments or command flags. */
function takeConfig(flags: Map<string, string>): Config {
  const overrides: Partial<Record<keyof Config, string>> = {};
  for (const o of OPTIONS) {
    const name = o.flag.slice(2);
    if (flags.has(name)) {
      overrides[o.key] = flags.get(name)!;
      flags.delete(name);
    }
  }
  return resolveConfig(overrides);
}

/** The built-in tools plus those of the modules the configuration names. */
async function toolsFor(config: Config): Promise<readonly ToolDefinition<any>[]> {
  return config.tools.length > 0 ? loadTools(config.tools) : TOOLS;
}

/** What startTarget will do, for "… is in progress" answers; undefined when the flags ask for nothing. */
function startLabel(flags: Map<string, string>, command: string[]): string | undefined {
  if (flags.has('launch')) return `launching ${(command.length > 0 ? command.join(' ') : flags.get('launch') ?? '').slice(0, 200)}`;
  return flags.get('attach') ? `attaching to ${flags.get('attach')}` : undefined;
}

async function startTarget(session: Session, flags: Map<string, string>, command: string[], progress?: Progress): Promise<void> {
  const attach = flags.get('attach');
  flags.delete('attach');
  if (flags.has('launch')) {
    const inline = flags.get('launch');
    flags.delete('launch');
    const cmd = command.length > 0 ? command : splitCommand(inline ?? '');
    if (cmd.length === 0) throw new Error('--launch needs a command after --, for example: --launch -- node app.js');
    await session.launch(cmd, { progress });
  } else if (attach) {
    await session.attach(attach, { progress });
  }
}

async function mcp(p: Parsed): Promise<void> {
  refuseUnknown('mcp', p.flags, COMMAND_FLAGS.mcp!);
  const config = takeConfig(p.flags);
  const tools = await toolsFor(config);
  const session = new Session({ config, db: p.flags.get('db') });
  p.flags.delete('db');
  const { server } = createServer(session, tools, listedNames(tools, config.tool_categories));
  cleanUpOnEnd(() => session.dispose(), { stdin: true });
  // Begun before the client can call: its first tool call waits for the target instead of answering about nothing.
  const label = startLabel(p.flags, p.command);
  const started = label ? session.begin(label, startTarget(session, p.flags, p.command)).catch((error) => process.stderr.write(`nodescope: ${(error as Error).message}\n`)) : undefined;
  await server.connect(new StdioServerTransport());
  process.stderr.write(`nodescope: MCP server on stdio (${config.persist ? `trace file ${config.persist_path}` : 'trace in a private temporary file, removed at the end'})\n`);
  await started;
}

async function serve(p: Parsed): Promise<void> {
  refuseUnknown('serve', p.flags, COMMAND_FLAGS.serve!);
  if (!p.flags.has('http')) throw new UsageError('serve needs a transport: nodescope serve --http [host:port] (for stdio, use nodescope mcp)');
  const { host, port } = parseHostPort(p.flags.get('http')!);
  const allowRemote = flagOn(p.flags, 'allow-remote');
  p.flags.delete('http');
  // Refused before anything is created: no store, no token file.
  checkBind(host, allowRemote);
  const config = takeConfig(p.flags);
  const db = p.flags.get('db');
  p.flags.delete('db');

  const tools = await toolsFor(config);
  const session = new Session({ config, db });
  const log = (line: string) => process.stderr.write(`nodescope: ${line}\n`);
  const { token, fromEnv } = serverToken();
  let http: Awaited<ReturnType<typeof serveHttp>>;
  try {
    http = await serveHttp({ ctx: session, host, port, token, allowRemote, tools, listed: listedNames(tools, config.tool_categories), log });
  } catch (error) {
    await session.dispose().catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`${host}:${port} is in use (another nodescope serve?); choose another with --http ${host}:<port>, or port 0 for a free one`);
    throw error;
  }
  const file = tokenFile(new URL(http.url).port);
  // Those of servers killed without their exit handler (SIGKILL, OOM): nothing else would remove them.
  const stale = removeStaleTokenFiles();
  writeTokenFile(file, token);
  cleanUpOnEnd(async () => {
    removeTokenFile(file, token);
    await http.close().catch(() => undefined);
    await session.dispose();
  });
  // Other nodescopes that find our processes are told where to ask.
  session.endpoint = http.url;
  const label = startLabel(p.flags, p.command);
  const started = label ? session.begin(label, startTarget(session, p.flags, p.command)).catch((error) => log((error as Error).message)) : undefined;
  log(db ? `trace file ${db}, read-only` : config.persist ? `trace file ${config.persist_path}` : 'trace in a private temporary file, removed at the end');
  log(fromEnv ? `token from ${TOKEN_ENV}, also written to ${file} (readable by you only)` : `token ${token} (written to ${file}, readable by you only)`);
  if (stale.length) log(`removed the token file${stale.length > 1 ? 's' : ''} of servers that no longer run: ${stale.join(', ')}`);
  if (allowRemote && !isLoopbackHost(host)) log(`--allow-remote: listening on ${host}, reachable from other machines; the token is all that guards it`);
  // Last, and in this exact form: scripts and tests wait for this line.
  log(`MCP over HTTP at ${http.url}`);
  await started;
}

function flagOn(flags: Map<string, string>, name: string): boolean {
  const value = flags.get(name);
  flags.delete(name);
  if (value === undefined || value === 'false' || value === '0' || value === 'no') return false;
  if (value === '' || value === 'true' || value === '1' || value === 'yes') return true;
  throw new UsageError(`--${name} takes no value (got "${value}")`);
}

function printResult(result: CallToolResult, json: boolean): number {
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
  process.stdout.write(json ? JSON.stringify(result.structuredContent ?? { error: text }, null, 2) + '\n' : text + '\n');
  return result.isError ? 1 : 0;
}

/**
 * A progress line on stderr once a call has run for a second (quick calls stay quiet): rewritten in place
 * on a terminal, else one line per change of message and at most one a second, so a log stays readable.
 */
function progressLine(name: string): { report: Progress; done(): void } {
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  let held: string | undefined;
  let last = { message: '', at: 0 };
  let shown = false;
  const write = (line: string, message: string) => {
    if (tty) {
      process.stderr.write(`\r\x1b[K${line}`);
      shown = true;
      return;
    }
    const now = Date.now();
    if (message === last.message && now - last.at < 1_000) return;
    last = { message, at: now };
    process.stderr.write(`${line}\n`);
  };
  return {
    report(done, total, message) {
      const what = message ?? name;
      const line = `nodescope: ${name}: ${what}${total ? ` (${Math.round(done)}/${Math.round(total)})` : ''}`;
      if (Date.now() - started < 1_000) {
        held = line;
        return;
      }
      if (held !== undefined && held !== line) write(held, held);
      held = undefined;
      write(line, what);
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}

/** `call --server`: one tool call over Streamable HTTP, through the SDK client like any other MCP client. */
async function callServer(name: string | undefined, p: Parsed, json: boolean, help: boolean): Promise<number> {
  const server = p.flags.get('server')!;
  const explicit = p.flags.get('token');
  for (const k of ['server', 'token']) p.flags.delete(k);
  let url: URL;
  try {
    url = new URL(server);
    if (url.pathname === '/') url.pathname = '/mcp';
  } catch {
    throw new UsageError(`call: --server "${server}" is not a URL; nodescope serve prints it, e.g. http://127.0.0.1:7337/mcp`);
  }
  const file = p.flags.get('token-file') || tokenFileFor(url);
  p.flags.delete('token-file');
  const fromFile = !explicit && !process.env[TOKEN_ENV]?.trim();
  const gone = fromFile ? removeIfStale(file) : undefined;
  if (gone !== undefined) {
    process.stderr.write(`nodescope call: no server for ${url.href}: ${file} was written by nodescope serve (pid ${gone}), which no longer runs; removed it. Start one with nodescope serve --http\n`);
    return 2;
  }
  const token = clientToken(explicit, file);
  if (!token) {
    process.stderr.write(`nodescope call: no token for ${url.href}: pass --token, set ${TOKEN_ENV}, or point --token-file at the file nodescope serve wrote (looked in ${file})\n`);
    return 2;
  }
  const client = new Client({ name: 'nodescope-call', version: SERVER_VERSION });
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const line = progressLine(name ?? '');
  try {
    await client.connect(transport);
    const listed = withUnlisted((await client.listTools()).tools);
    // The server may have tools this CLI does not (loaded from its configuration): it judges the name.
    if (!name || (help && !listed.some((t) => t.name === name))) return listTools(listed, name, help);
    if (help) return toolHelp(listed.find((t) => t.name === name)!);
    const schema = listed.find((t) => t.name === name)?.inputSchema.properties ?? {};
    // A flag that is also the tool's argument (launch's --web) is the argument.
    const local = [...CONFIG_FLAGS, ...TARGET_FLAGS].filter((k) => p.flags.has(k) && !(k in schema));
    if (local.length > 0) {
      throw new UsageError(`call: ${local.map((k) => `--${k}`).join(', ')} configure${local.length > 1 ? '' : 's'} a local nodescope; with --server the running server's configuration and target apply`);
    }
    const args = toolArgs(p.flags, (key, value) => jsonSchemaAccepts(schema[key], value));
    // A command's relative paths (node app.js, ./bin/x) are the caller's, not those of the server's cwd:
    // a server on this machine is told the caller's working directory.
    if ('cwd' in schema && isLoopbackHost(url.hostname)) args.cwd = resolve(typeof args.cwd === 'string' ? args.cwd : '.');
    const result = (await client.callTool({ name, arguments: args }, undefined, {
      // Long tools (cpu_profile, launch) report progress; each report restarts the timeout.
      timeout: 120_000,
      resetTimeoutOnProgress: true,
      onprogress: ({ progress, total, message }) => line.report(progress, total, message),
    })) as CallToolResult;
    line.done();
    return printResult(result, json);
  } catch (error) {
    line.done();
    if (error instanceof UsageError) throw error;
    const message =
      (error as { code?: unknown }).code === 401
        ? `the server refused the token (HTTP 401); use the one nodescope serve printed on stderr and wrote to its token file (tried ${explicit ? '--token' : process.env[TOKEN_ENV] ? TOKEN_ENV : file})`
        : (error as Error).message;
    process.stderr.write(`nodescope call: ${url.href}: ${message}\n`);
    return 1;
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
}

interface ListedTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: { properties?: Record<string, unknown>; required?: string[] };
}

function listed(tool: ToolDefinition<any>): ListedTool {
  return { name: tool.name, title: tool.title, description: tool.description, inputSchema: z.toJSONSchema(z.object(tool.schema), { io: 'input', unrepresentable: 'any' }) as ListedTool['inputSchema'] };
}

/**
 * The server's tools with this nodescope's titles (tools/list leaves them out to spare a model's context),
 * then the tools its categories keep off tools/list, which it still answers by name.
 */
function withUnlisted(fromServer: readonly ListedTool[]): ListedTool[] {
  const local = new Map(TOOLS.map((t) => [t.name, listed(t)]));
  const named = new Set(fromServer.map((t) => t.name));
  return [...fromServer.map((t) => ({ ...t, title: t.title ?? local.get(t.name)?.title })), ...[...local.values()].filter((t) => !named.has(t.name))];
}

/** `call --help`, or an unknown name: the tools, one a line. Exit 0 when asked for, 2 for a wrong name. */
function listTools(tools: readonly ListedTool[], name: string | undefined, help: boolean): number {
  const asked = help && !name;
  const out = [
    asked ? 'Tools (nodescope call <tool> --help shows a tool\'s arguments):' : name ? `nodescope call: unknown tool "${name}". Tools:` : 'nodescope call: name the tool. Tools:',
    ...tools.map((t) => `  ${t.name.padEnd(24)} ${t.title ?? ''}`),
  ].join('\n');
  (asked ? process.stdout : process.stderr).write(`${out}\n`);
  return asked ? 0 : 2;
}

/** `call <tool> --help`: the tool's description and its arguments, from its JSON schema. */
function toolHelp(tool: ListedTool): number {
  const props = Object.entries(tool.inputSchema.properties ?? {}) as [string, Record<string, unknown>][];
  const required = new Set(tool.inputSchema.required ?? []);
  const rows = props.map(([key, schema]) => {
    const head = `  --${key} <${typeOf(schema)}>${required.has(key) ? ' (required)' : ''}`;
    return `${head}\n      ${String(schema.description ?? '').replace(/\n/g, '\n      ')}`;
  });
  const example = `nodescope call ${tool.name}${props.filter(([k]) => required.has(k)).map(([k]) => ` --${k} …`).join('')}`;
  process.stdout.write(
    [`${tool.name} — ${tool.title ?? ''}`, '', tool.description ?? '', '', props.length ? 'Arguments:' : 'No arguments.', ...rows, '', `Example: ${example}`, ''].join('\n'),
  );
  return 0;
}

function typeOf(schema: Record<string, unknown>): string {
  if (Array.isArray(schema.enum)) return schema.enum.join('|');
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map((s) => typeOf(s as Record<string, unknown>)).join('|');
  if (Array.isArray(schema.type)) return schema.type.join('|');
  return typeof schema.type === 'string' ? schema.type : 'value';
}

async function call(p: Parsed): Promise<number> {
  refuseUnknownCallOptions(p);
  const name = p.positional[1];
  const json = p.flags.has('json');
  const help = p.flags.has('help');
  p.flags.delete('json');
  p.flags.delete('help');
  if (p.flags.has('server')) return callServer(name, p, json, help);
  const config = takeConfig(p.flags);
  const tools = await toolsFor(config);
  const tool = tools.find((t) => t.name === name);
  if (!tool) return listTools(tools.map(listed), name, help);
  if (help) return toolHelp(listed(tool));
  for (const k of ['token', 'token-file']) if (p.flags.has(k)) throw new UsageError(`call: --${k} goes with --server <url>`);
  const db = p.flags.get('db');
  p.flags.delete('db');
  const session = new Session({ config, db });
  const line = progressLine(tool.name);
  try {
    await startTarget(session, p.flags, p.command, line.report);
    const args = toolArgs(p.flags, (key, value) => tool.schema[key]?.safeParse(value).success ?? true);
    const result = await callTool(tool, args, session, line.report);
    line.done();
    return printResult(result, json);
  } finally {
    line.done();
    await session.dispose();
  }
}

/** In `call`, flags other than the CLI's own are the tool's arguments, which the tool checks; a flag that is
 * neither but is one edit away from a CLI option is refused here (`--atach`, `--sever`). */
function refuseUnknownCallOptions(p: Parsed): void {
  const own = COMMAND_FLAGS.call!;
  for (const k of p.flags.keys()) {
    if (k === 'help' || own.includes(k)) continue;
    const near = nearest(k, own);
    if (near && distance(k, near) <= 1) throw new UsageError(`call: unknown option --${k} (did you mean --${near}?)`);
  }
}

/**
 * Flag values are strings: "42" becomes a number and "true" a boolean, unless the tool's schema takes a
 * string there and not the converted value (`--pid_string 4242`).
 */
function toolArgs(flags: Map<string, string>, accepts: (key: string, value: unknown) => boolean): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [k, v] of flags) {
    // The first reading the tool's schema takes: a number or boolean, the text itself, or a list
    // (`--capture total,code` or `--capture '["a, b", "c"]'`).
    const readings = [coerce(v), v, listOf(v)];
    args[k] = readings.find((r) => r !== undefined && accepts(k, r)) ?? readings[0];
  }
  return args;
}

function listOf(v: string): unknown[] | undefined {
  if (v.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(v);
      return Array.isArray(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return v.split(',').map((item) => item.trim()).filter(Boolean);
}

function jsonSchemaAccepts(schema: unknown, value: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return true;
  const s = schema as { type?: string | string[]; anyOf?: unknown[] };
  if (s.anyOf) return s.anyOf.some((branch) => jsonSchemaAccepts(branch, value));
  if (s.type === undefined) return true;
  const types = Array.isArray(s.type) ? s.type : [s.type];
  const kind = typeof value === 'number' ? (Number.isInteger(value) ? ['number', 'integer'] : ['number']) : Array.isArray(value) ? ['array'] : [typeof value];
  return kind.some((k) => types.includes(k));
}

function coerce(v: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (v === 'true' || v === '') return true;
  if (v === 'false') return false;
  return v;
}

async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv);
  const command = p.positional[0];
  // `call --help` is the call's own (it lists tools); everywhere else --help is the usage.
  if (command !== 'call' && (p.flags.has('help') || command === 'help' || command === undefined)) {
    if (command !== undefined && !(command in COMMAND_FLAGS)) throw new UsageError(`unknown command "${command}"`);
    process.stdout.write(USAGE);
    return 0;
  }
  switch (command) {
    case 'mcp':
      await mcp(p);
      return -1; // keep serving
    case 'serve':
      await serve(p);
      return -1; // keep serving
    case 'call':
      return call(p);
    case 'demo':
      refuseUnknown('demo', p.flags, COMMAND_FLAGS.demo!);
      return runDemo(takeConfig(p.flags));
    case 'tools':
      refuseUnknown('tools', p.flags, COMMAND_FLAGS.tools!);
      for (const t of await toolsFor(takeConfig(p.flags))) process.stdout.write(`${t.name.padEnd(24)} ${t.title}\n`);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error) => {
    const usage = error instanceof UsageError;
    process.stderr.write(`nodescope: ${(error as Error).message}${usage ? '\nnodescope --help lists the commands and options; nodescope call --help lists the tools.' : ''}\n`);
    process.exit(usage ? 2 : 1);
  },
);

/** The tools an MCP client sees listed: those of the configured categories (the rest stay callable). */
function listedNames(tools: readonly ToolDefinition<any>[], categories: readonly string[] | 'all'): string[] {
  return selectTools(tools, categories).map((t) => t.name);
}
