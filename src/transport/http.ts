// MCP over Streamable HTTP on a plain node:http server: one SDK transport and one McpServer per MCP session,
// all of them driving ONE ToolContext (one store, one tracer). Whoever reaches this port can attach to,
// profile and perhaps run code in local processes, so every request passes three checks first: a loopback
// Host (DNS rebinding), a loopback Origin when a browser sends one, and the bearer token.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createServer } from '../server.js';
import type { ToolContext, ToolDefinition } from '../tools/define.js';
import { TOOLS } from '../tools/registry.js';

export const DEFAULT_HTTP_HOST = '127.0.0.1';
export const DEFAULT_HTTP_PORT = 7337;
export const MCP_PATH = '/mcp';
/** The SDK transport's own bound for bodies it reads itself; we read the body, so we apply it. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/**
 * Clients that go away without DELETE (the MCP Inspector's CLI is one) would leave their session behind
 * forever. One with no open stream and no request for this long is closed; a client that comes back gets
 * 404, which the spec tells it to answer by initializing again.
 */
const IDLE_SESSION_MS = 30 * 60_000;

export interface HttpServeOptions {
  /** Shared by every client: what one attaches, all see. */
  ctx: ToolContext;
  host: string;
  port: number;
  token: string;
  /** Serve on a non-loopback address. Without it, such a host is refused. */
  allowRemote?: boolean;
  tools?: readonly ToolDefinition<any>[];
  /** Names tools/list shows (default: every tool); the others can still be called. */
  listed?: readonly string[];
  log?: (line: string) => void;
}

export interface HttpMcpServer {
  /** http://host:port/mcp with the port actually bound. */
  url: string;
  /** Open MCP sessions. */
  sessionCount(): number;
  /** Ends every session and stops listening; the ToolContext is the caller's to dispose. */
  close(): Promise<void>;
}

/** "127.0.0.1:7337", "localhost:0", "[::1]:7337", ":7337", "7337", "127.0.0.1" or "" (the defaults). */
export function parseHostPort(raw: string): { host: string; port: number } {
  const text = raw.trim();
  let host = DEFAULT_HTTP_HOST;
  let port = String(DEFAULT_HTTP_PORT);
  const v6 = /^\[([^\]]+)\](?::(\d*))?$/.exec(text);
  if (v6) {
    host = v6[1]!;
    if (v6[2]) port = v6[2];
  } else if (/^\d+$/.test(text)) {
    port = text;
  } else if (text) {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') === colon) {
      if (colon > 0) host = text.slice(0, colon);
      port = text.slice(colon + 1);
    } else if (colon < 0) {
      host = text;
    } else {
      throw new Error(`--http "${raw}": write an IPv6 address in brackets, e.g. [::1]:${DEFAULT_HTTP_PORT}`);
    }
  }
  const n = Number(port);
  if (!/^\d+$/.test(port) || n > 65535) throw new Error(`--http "${raw}": the port must be a number from 0 to 65535`);
  return { host, port: n };
}

/** localhost, 127.0.0.0/8 and ::1 (also as IPv4-mapped). Other names are not resolved: they count as remote. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || h === '0:0:0:0:0:0:0:1';
  return false;
}

/** Throws, saying why, when `host` is not loopback and remote serving was not asked for. */
export function checkBind(host: string, allowRemote: boolean): void {
  if (isLoopbackHost(host) || allowRemote) return;
  throw new Error(
    `refusing to serve MCP on ${host}: that address is reachable from other machines, and anyone who gets the token ` +
      'could attach to, profile and inspect processes on this one. Bind 127.0.0.1 (the default), or pass --allow-remote ' +
      'if you mean it (and put TLS in front: the token travels in clear text).',
  );
}

/** A browser's Origin must be a loopback page (any port); non-browser clients send none. */
export function originAllowed(origin: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname);
  } catch {
    return false; // includes the literal "null" of sandboxed and file:// pages
  }
}

export async function serveHttp(options: HttpServeOptions): Promise<HttpMcpServer> {
  const { ctx, token, log = () => undefined } = options;
  checkBind(options.host, options.allowRemote ?? false);
  const loopbackOnly = isLoopbackHost(options.host);
  const tokenDigest = digest(token);

  // createServer serializes calls within one McpServer; clients share the tracer, so calls are also
  // serialized across them. Re-entrant, so a tool that calls ctx.sync() itself does not wait on itself.
  const exclusive = exclusiveQueue();
  const tools = (options.tools ?? TOOLS).map((tool) => ({ ...tool, handler: ((args, c, progress) => exclusive(() => tool.handler(args, c, progress))) as typeof tool.handler }));
  const sharedCtx = new Proxy(ctx, {
    get(target, prop) {
      if (prop === 'sync') return () => exclusive(() => target.sync());
      if (prop === 'syncForQuestion' && target.syncForQuestion) return () => exclusive(() => target.syncForQuestion!());
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

  interface Entry {
    transport: StreamableHTTPServerTransport;
    server: McpServer;
    /** Responses not yet finished, SSE streams included. */
    open: number;
    lastSeen: number;
  }
  const sessions = new Map<string, Entry>();
  const track = (entry: Entry, res: ServerResponse) => {
    entry.open++;
    res.once('close', () => {
      entry.open--;
      entry.lastSeen = Date.now();
    });
  };
  const reaper = setInterval(() => {
    const now = Date.now();
    for (const [id, entry] of sessions) {
      if (entry.open === 0 && now - entry.lastSeen > IDLE_SESSION_MS) {
        log(`closing session ${id.slice(0, 8)}: idle for ${Math.round((now - entry.lastSeen) / 60_000)} min`);
        void entry.transport.close().catch(() => undefined);
      }
    }
  }, 60_000).unref();

  async function open(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const { server } = createServer(sharedCtx, tools, options.listed);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        const entry: Entry = { transport, server, open: 0, lastSeen: Date.now() };
        sessions.set(id, entry);
        track(entry, res);
        log(`client connected (session ${id.slice(0, 8)}, ${sessions.size} open)`);
      },
    });
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id && sessions.delete(id)) log(`client left (session ${id.slice(0, 8)}, ${sessions.size} open)`);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== MCP_PATH) return plain(res, 404, `nodescope serves MCP at ${MCP_PATH} only\n`);
    if (loopbackOnly && !isLoopbackHost(hostnameOf(req.headers.host))) {
      return plain(res, 403, `Host "${req.headers.host ?? ''}" refused: this server answers to loopback names only (DNS rebinding)\n`);
    }
    const origin = req.headers.origin;
    if (!originAllowed(origin)) return plain(res, 403, `Origin ${origin} refused: only pages on this machine (http://127.0.0.1, http://localhost) may call this server\n`);
    if (origin !== undefined) cors(res, origin);
    if (req.method === 'OPTIONS') {
      // A browser's preflight carries no Authorization header; the real request that follows is checked.
      res.writeHead(204).end();
      return;
    }
    if (!authorized(req.headers.authorization, tokenDigest)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="nodescope"');
      return jsonRpcError(res, 401, -32001, 'Unauthorized: send "Authorization: Bearer <token>"; nodescope serve prints the token on stderr and writes it to its token file');
    }

    const sessionId = header(req, 'mcp-session-id');
    const existing = sessionId === undefined ? undefined : sessions.get(sessionId);
    if (sessionId !== undefined && !existing) return jsonRpcError(res, 404, -32001, 'Session not found: it ended or the server restarted; initialize a new one');
    if (req.method === 'POST') {
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch (error) {
        if (error instanceof BodyTooLarge) return jsonRpcError(res, 413, -32600, `Request body over ${MAX_BODY_BYTES} bytes`);
        return jsonRpcError(res, 400, -32700, 'Parse error: the body is not JSON');
      }
      if (existing) {
        track(existing, res);
        return existing.transport.handleRequest(req, res, body);
      }
      if (isInitializeRequest(body)) return open(req, res, body);
      return jsonRpcError(res, 400, -32000, 'Bad Request: send an initialize request first, then the Mcp-Session-Id header it answers with');
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      if (!existing) return jsonRpcError(res, 400, -32000, 'Bad Request: the Mcp-Session-Id header is required');
      track(existing, res);
      return existing.transport.handleRequest(req, res);
    }
    res.setHeader('Allow', 'GET, POST, DELETE, OPTIONS');
    return jsonRpcError(res, 405, -32000, `Method ${req.method} not allowed`);
  }

  const http = createHttpServer((req, res) => {
    handle(req, res).catch((error) => {
      log(`HTTP ${req.method} failed: ${(error as Error).message}`);
      if (!res.headersSent) jsonRpcError(res, 500, -32603, `Internal error: ${(error as Error).message}`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}${MCP_PATH}`,
    sessionCount: () => sessions.size,
    close: () =>
      (closing ??= (async () => {
        clearInterval(reaper);
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
        await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => undefined)));
        // Open SSE streams would keep close() waiting forever.
        http.closeAllConnections();
        await stopped;
      })()),
  };
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        reject(new BodyTooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares digests in constant time, so the comparison does not leak how much of a guess was right. */
function authorized(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), expected);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function hostnameOf(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return '';
  }
}

function cors(res: ServerResponse, origin: string): void {
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID');
  res.setHeader('Access-Control-Expose-Headers', 'Mcp-Session-Id, WWW-Authenticate');
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
}

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

/** Runs jobs one at a time across every caller; a job started from inside a running job runs at once. */
function exclusiveQueue(): <T>(job: () => Promise<T>) => Promise<T> {
  const inside = new AsyncLocalStorage<true>();
  let tail: Promise<unknown> = Promise.resolve();
  return (job) => {
    if (inside.getStore()) return job();
    const run = () => inside.run(true, job);
    const result = tail.then(run, run);
    tail = result.catch(() => undefined);
    return result;
  };
}
