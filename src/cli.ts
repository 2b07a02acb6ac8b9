#!/usr/bin/env node
// nodescope's command line. stdout belongs to JSON-RPC in `mcp`; everything else the CLI says goes to
// stderr there. `call` and `demo` print answers on stdout (they are not MCP transports).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { OPTIONS, resolveConfig, showDefault, type Config } from './config.js';
import { runDemo } from './demo/run.js';
import { SERVER_VERSION, callTool, createServer } from './server.js';
import { Session } from './session.js';
import { loadTools } from './extensions.js';
import type { ToolDefinition } from './tools/define.js';
import { selectTools } from './tools/categories.js';
import { TOOLS } from './tools/registry.js';
import { splitCommand } from './tools/launch.js';
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, checkBind, isLoopbackHost, parseHostPort, serveHttp } from './transport/http.js';
import { TOKEN_ENV, clientToken, serverToken, tokenFile, writeTokenFile } from './transport/token.js';

const USAGE = `nodescope — a flight recorder for Node.js, driven through MCP

Usage:
  nodescope mcp [options] [--attach <pid|host:port|ws-url>] [--launch -- <command…>]
      Serve MCP over stdio (register this in your editor). Optionally attach or launch at start.
  nodescope serve --http [host:port] [--allow-remote] [options] [--attach <target>] [--launch -- <command…>]
      Serve MCP over Streamable HTTP at http://host:port/mcp (default ${DEFAULT_HTTP_HOST}:${DEFAULT_HTTP_PORT}; port 0
      picks a free one) to several clients at once, sharing one trace. Loopback only unless --allow-remote.
      Clients send "Authorization: Bearer <token>": ${TOKEN_ENV} if set, else generated; printed on
      stderr and written to ~/.nodescope/token (<persist_path>.token with --persist), readable by you only.
  nodescope call <tool> [--db <file> | --attach <target> | --launch -- <command…>] [--json] [--<arg> <value> …]
      Call one tool and print its answer: offline against a persisted trace (--db), or one-shot
      against a process (attach or launch, call, detach).
  nodescope call <tool> --server <url> [--token <token> | --token-file <file>] [--json] [--<arg> <value> …]
      Call one tool on a running "nodescope serve --http" (token: --token, ${TOKEN_ENV}, or the token file,
      ~/.nodescope/token by default).
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
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags.set(arg.slice(2), argv[++i]!);
      else flags.set(arg.slice(2), '');
    } else positional.push(arg);
  }
  return { positional, flags, command };
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

async function startTarget(session: Session, flags: Map<string, string>, command: string[]): Promise<void> {
  const attach = flags.get('attach');
  flags.delete('attach');
  if (flags.has('launch')) {
    const inline = flags.get('launch');
    flags.delete('launch');
    const cmd = command.length > 0 ? command : splitCommand(inline ?? '');
    if (cmd.length === 0) throw new Error('--launch needs a command after --, for example: --launch -- node app.js');
    await session.launch(cmd);
  } else if (attach) {
    await session.attach(attach);
  }
}

async function mcp(p: Parsed): Promise<void> {
  const config = takeConfig(p.flags);
  const tools = await toolsFor(config);
  const session = new Session({ config, db: p.flags.get('db') });
  p.flags.delete('db');
  const { server } = createServer(session, selectTools(tools, config.tool_categories));
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await session.dispose().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(130));
  process.on('SIGTERM', () => void shutdown(143));
  process.stdin.on('close', () => void shutdown(0));
  await server.connect(new StdioServerTransport());
  process.stderr.write(`nodescope: MCP server on stdio (${config.persist ? `trace file ${config.persist_path}` : 'trace in memory'})\n`);
  await startTarget(session, p.flags, p.command).catch((error) => process.stderr.write(`nodescope: ${(error as Error).message}\n`));
}

async function serve(p: Parsed): Promise<void> {
  if (!p.flags.has('http')) throw new Error('serve needs a transport: nodescope serve --http [host:port] (for stdio, use nodescope mcp)');
  const { host, port } = parseHostPort(p.flags.get('http')!);
  const allowRemote = flagOn(p.flags, 'allow-remote');
  p.flags.delete('http');
  // Refused before anything is created: no store, no token file.
  checkBind(host, allowRemote);
  const config = takeConfig(p.flags);
  const db = p.flags.get('db');
  p.flags.delete('db');
  const unknown = [...p.flags.keys()].filter((k) => k !== 'attach' && k !== 'launch');
  if (unknown.length > 0) throw new Error(`serve: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `--${k}`).join(', ')}; see nodescope help`);

  const tools = await toolsFor(config);
  const session = new Session({ config, db });
  const log = (line: string) => process.stderr.write(`nodescope: ${line}\n`);
  const { token, fromEnv } = serverToken();
  let http: Awaited<ReturnType<typeof serveHttp>>;
  try {
    http = await serveHttp({ ctx: session, host, port, token, allowRemote, tools: selectTools(tools, config.tool_categories), log });
  } catch (error) {
    await session.dispose().catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`${host}:${port} is in use (another nodescope serve?); choose another with --http ${host}:<port>, or port 0 for a free one`);
    throw error;
  }
  const file = tokenFile(config);
  writeTokenFile(file, token);
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await http.close().catch(() => undefined);
    await session.dispose().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(130));
  process.on('SIGTERM', () => void shutdown(143));
  log(db ? `trace file ${db}, read-only` : config.persist ? `trace file ${config.persist_path}` : 'trace in memory');
  log(fromEnv ? `token from ${TOKEN_ENV}, also written to ${file} (readable by you only)` : `token ${token} (written to ${file}, readable by you only)`);
  if (allowRemote && !isLoopbackHost(host)) log(`--allow-remote: listening on ${host}, reachable from other machines; the token is all that guards it`);
  // Last, and in this exact form: scripts and tests wait for this line.
  log(`MCP over HTTP at ${http.url}`);
  await startTarget(session, p.flags, p.command).catch((error) => log((error as Error).message));
}

function flagOn(flags: Map<string, string>, name: string): boolean {
  const value = flags.get(name);
  flags.delete(name);
  if (value === undefined || value === 'false' || value === '0' || value === 'no') return false;
  if (value === '' || value === 'true' || value === '1' || value === 'yes') return true;
  throw new Error(`--${name} takes no value (got "${value}")`);
}

function printResult(result: CallToolResult, json: boolean): number {
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
  process.stdout.write(json ? JSON.stringify(result.structuredContent ?? { error: text }, null, 2) + '\n' : text + '\n');
  return result.isError ? 1 : 0;
}

/** `call --server`: one tool call over Streamable HTTP, through the SDK client like any other MCP client. */
async function callServer(name: string, p: Parsed, json: boolean): Promise<number> {
  const server = p.flags.get('server')!;
  const explicit = p.flags.get('token');
  const file = p.flags.get('token-file') || tokenFile();
  for (const k of ['server', 'token', 'token-file']) p.flags.delete(k);
  const local = [...OPTIONS.map((o) => o.flag.slice(2)), 'db', 'attach', 'launch'].filter((k) => p.flags.has(k));
  if (local.length > 0) {
    process.stderr.write(`nodescope call: ${local.map((k) => `--${k}`).join(', ')} configure${local.length > 1 ? '' : 's'} a local nodescope; with --server the running server's configuration and target apply\n`);
    return 2;
  }
  let url: URL;
  try {
    url = new URL(server);
    if (url.pathname === '/') url.pathname = '/mcp';
  } catch {
    process.stderr.write(`nodescope call: --server "${server}" is not a URL; nodescope serve prints it, e.g. http://127.0.0.1:7337/mcp\n`);
    return 2;
  }
  const token = clientToken(explicit, file);
  if (!token) {
    process.stderr.write(`nodescope call: no token for ${url.href}: pass --token, set ${TOKEN_ENV}, or point --token-file at the file nodescope serve wrote (looked in ${file})\n`);
    return 2;
  }
  const client = new Client({ name: 'nodescope-call', version: SERVER_VERSION });
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  try {
    await client.connect(transport);
    const schema = (await client.listTools()).tools.find((t) => t.name === name)?.inputSchema.properties ?? {};
    const args = toolArgs(p.flags, (key, value) => jsonSchemaAccepts(schema[key], value));
    const result = (await client.callTool({ name, arguments: args }, undefined, {
      // Long tools (cpu_profile, launch) report progress; each report restarts the timeout.
      timeout: 120_000,
      resetTimeoutOnProgress: true,
      onprogress: ({ progress, total, message }) => {
        if (process.stderr.isTTY) process.stderr.write(`nodescope: ${message ?? name} ${progress}${total ? `/${total}` : ''}\n`);
      },
    })) as CallToolResult;
    return printResult(result, json);
  } catch (error) {
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

async function call(p: Parsed): Promise<number> {
  const name = p.positional[1];
  const json = p.flags.has('json');
  p.flags.delete('json');
  if (p.flags.has('server')) {
    // The server may have tools this CLI does not (loaded from its configuration): it judges the name.
    if (!name) {
      process.stderr.write('nodescope call: name the tool, e.g. nodescope call get_supervision_tree --server <url>\n');
      return 2;
    }
    return callServer(name, p, json);
  }
  const config = takeConfig(p.flags);
  const tools = await toolsFor(config);
  const tool = tools.find((t) => t.name === name);
  if (!tool) {
    process.stderr.write(`nodescope call: unknown tool "${name ?? ''}". Tools: ${tools.map((t) => t.name).join(', ')}\n`);
    return 2;
  }
  const db = p.flags.get('db');
  p.flags.delete('db');
  const session = new Session({ config, db });
  try {
    await startTarget(session, p.flags, p.command);
    const args = toolArgs(p.flags, (key, value) => tool.schema[key]?.safeParse(value).success ?? true);
    return printResult(await callTool(tool, args, session), json);
  } finally {
    await session.dispose();
  }
}

/**
 * Flag values are strings: "42" becomes a number and "true" a boolean, unless the tool's schema takes a
 * string there and not the converted value (`--pid_string 4242`).
 */
function toolArgs(flags: Map<string, string>, accepts: (key: string, value: unknown) => boolean): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [k, v] of flags) {
    const converted = coerce(v);
    args[k] = converted !== v && !accepts(k, converted) && accepts(k, v) ? v : converted;
  }
  return args;
}

function jsonSchemaAccepts(schema: unknown, value: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return true;
  const s = schema as { type?: string | string[]; anyOf?: unknown[] };
  if (s.anyOf) return s.anyOf.some((branch) => jsonSchemaAccepts(branch, value));
  if (s.type === undefined) return true;
  const types = Array.isArray(s.type) ? s.type : [s.type];
  const kind = typeof value === 'number' ? (Number.isInteger(value) ? ['number', 'integer'] : ['number']) : [typeof value];
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
  switch (p.positional[0]) {
    case 'mcp':
      await mcp(p);
      return -1; // keep serving
    case 'serve':
      await serve(p);
      return -1; // keep serving
    case 'call':
      return call(p);
    case 'demo':
      return runDemo(takeConfig(p.flags));
    case 'tools':
      for (const t of await toolsFor(takeConfig(p.flags))) process.stdout.write(`${t.name.padEnd(24)} ${t.title}\n`);
      return 0;
    case undefined:
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`nodescope: unknown command "${p.positional[0]}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error) => {
    process.stderr.write(`nodescope: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
