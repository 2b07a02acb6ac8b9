#!/usr/bin/env node
// nodescope's command line. stdout belongs to JSON-RPC in `mcp`; everything else the CLI says goes to
// stderr there. `call` and `demo` print answers on stdout (they are not MCP transports).
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { OPTIONS, resolveConfig, type Config } from './config.js';
import { runDemo } from './demo/run.js';
import { callTool, createServer } from './server.js';
import { Session } from './session.js';
import { TOOLS } from './tools/registry.js';
import { splitCommand } from './tools/launch.js';

const USAGE = `nodescope — a flight recorder for Node.js, driven through MCP

Usage:
  nodescope mcp [options] [--attach <pid|host:port|ws-url>] [--launch -- <command…>]
      Serve MCP over stdio (register this in your editor). Optionally attach or launch at start.
  nodescope call <tool> [--db <file> | --attach <target> | --launch -- <command…>] [--json] [--<arg> <value> …]
      Call one tool and print its answer: offline against a persisted trace (--db), or one-shot
      against a process (attach or launch, call, detach).
  nodescope demo
      Launch the bundled demo app under tracing and show the tools' answers.
  nodescope tools
      List the tools.

Options (also as environment variables):
${OPTIONS.map((o) => `  ${o.flag.padEnd(18)} ${o.env.padEnd(26)} ${o.describe} (default: ${String(o.default)})`).join('\n')}
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
  const session = new Session({ config, db: p.flags.get('db') });
  p.flags.delete('db');
  const { server } = createServer(session);
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

async function call(p: Parsed): Promise<number> {
  const name = p.positional[1];
  const tool = TOOLS.find((t) => t.name === name);
  if (!tool) {
    process.stderr.write(`nodescope call: unknown tool "${name ?? ''}". Tools: ${TOOLS.map((t) => t.name).join(', ')}\n`);
    return 2;
  }
  const json = p.flags.has('json');
  p.flags.delete('json');
  const config = takeConfig(p.flags);
  const db = p.flags.get('db');
  p.flags.delete('db');
  const session = new Session({ config, db });
  try {
    await startTarget(session, p.flags, p.command);
    const args: Record<string, unknown> = {};
    for (const [k, v] of p.flags) args[k] = coerce(v);
    const result = await callTool(tool, args, session);
    const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
    process.stdout.write(json ? JSON.stringify(result.structuredContent ?? { error: text }, null, 2) + '\n' : text + '\n');
    return result.isError ? 1 : 0;
  } finally {
    await session.dispose();
  }
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
    case 'call':
      return call(p);
    case 'demo':
      return runDemo(takeConfig(p.flags));
    case 'tools':
      for (const t of TOOLS) process.stdout.write(`${t.name.padEnd(24)} ${t.title}\n`);
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
