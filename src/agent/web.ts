// HTTP traffic through diagnostics_channel (node:http server and client; undici, which backs fetch), with a
// correlation id per incoming request carried by AsyncLocalStorage, so every event the request causes —
// calls, messages, state changes, outgoing requests — can be asked for by that id. Only enabled with the
// `web` option: before Node 24, AsyncLocalStorage switches on async hooks for the whole thread (6 % of a
// traced hello-world server's CPU samples on Node 20: bench/README.md); from 24 it is an AsyncContextFrame.
import { SEP } from '../shared/protocol.js';
import type { AgentCore, Later, Source } from './index.js';
import type { PatchTable, Undo } from './patches.js';
import { asciiBytes, type TextBytes } from './serialize.js';

type Req = Record<string, unknown> & { method?: string; url?: string };
type Res = Record<string, unknown> & { statusCode?: number };

/** A request served (also the AsyncLocalStorage store of its handler: one object per request) or made (`out`). */
interface Exchange {
  out: boolean;
  /** Its number in this thread: the id is `<actor>:r<n>` (served) or `<actor>:q<n>` (made), spelled only when something asks for it. */
  n: number;
  id: string | undefined;
  t0: number;
  method: string | null;
  url: string | null;
  /** Made: the request being served when it was made. */
  corr: string | null;
  /** Whether its start went out already, on its own (it was in flight for a while). */
  sent: boolean;
  /** Served: node's request, while this exchange is the one its socket holds (see `onSocket`). */
  req: object | null;
  /** Served: its socket's slot, while it holds this exchange. */
  slot: Slot | null;
  /** Neighbours in the list of exchanges whose start has not gone out, oldest first (see `begin`). */
  prev: Exchange | null;
  next: Exchange | null;
  listed: boolean;
}

/** The exchange a socket serves now (null between requests): one per connection (see `onSocket`). */
interface Slot {
  r: Exchange | null;
}

/** Between an exchange's number and its payload's method: the event's last link (null), then its payload. */
const EXCHANGE_MIDDLE = asciiBytes(`,null]${SEP}[`)!;

/** How long a request may be in flight before its start is sent on its own (a crash or SIGKILL loses at most this much of it). */
const IN_FLIGHT_MS = 50;

/** How long an upgrade request's socket is watched for the status line that answers it. */
const UPGRADE_WATCH_MS = 30_000;

/** Own data property, read without running a getter. */
function own(obj: unknown, key: PropertyKey): unknown {
  if (obj === null || typeof obj !== 'object') return undefined;
  const desc = Object.getOwnPropertyDescriptor(obj, key);
  return desc && 'value' in desc ? desc.value : undefined;
}

/** A value as JSON text, for the events this source encodes itself. */
function json(v: unknown): string {
  return v === null || v === undefined ? 'null' : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : 'null') : (JSON.stringify(v) ?? 'null');
}

/** JSON text already made, among an exchange's items (a value that is not a string, number or null). */
class Encoded {
  constructor(readonly text: string) {}
}
/** An item of an exchange's payload, written by writeItem. */
type Item = string | number | null | Encoded;
function item(v: unknown): Item {
  return v === null || typeof v === 'string' || typeof v === 'number' ? v : new Encoded(json(v));
}

/**
 * An item as JSON.stringify writes it. Methods, URLs and routes are mostly short printable ASCII without a
 * quote or backslash: copied as they are between quotes, without a JSON string made first.
 */
function writeItem(out: TextBytes, v: Item): void {
  if (typeof v === 'number') {
    if (Number.isFinite(v)) out.num(v);
    else out.raw(NULL_BYTES);
  } else if (v === null) out.raw(NULL_BYTES);
  else if (typeof v !== 'string') out.text(v.text);
  else if (plainAscii(v)) {
    out.byte(34); // "
    out.text(v);
    out.byte(34);
  } else out.text(JSON.stringify(v));
}
const NULL_BYTES = asciiBytes('null')!;
function plainAscii(s: string): boolean {
  if (s.length > 256) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 34 || c === 92) return false;
  }
  return true;
}

/**
 * The route pattern where a framework left one on the request: Express sets req.route when a route
 * matches, and req.baseUrl to the mount of the router it is in. An error leaving a mounted router (a
 * handler that threw, answered by the app's error middleware) restores req.baseUrl and req.url to the
 * outer router's, so the rest of the mount is read back from req.url: the route matched its last segments.
 */
function routeOf(req: Req): string | null {
  const path = own(own(req, 'route'), 'path');
  if (typeof path !== 'string') return null;
  const base = own(req, 'baseUrl');
  return `${typeof base === 'string' ? base : ''}${mountBefore(req.url, path)}${path}`;
}

/** The status of an HTTP/1 status line at the start of what is written on a socket. */
function statusLine(chunk: unknown): number | null {
  let head = '';
  if (typeof chunk === 'string') head = chunk.slice(0, 12);
  else if (chunk instanceof Uint8Array) for (let i = 0; i < Math.min(12, chunk.length); i++) head += String.fromCharCode(chunk[i]!);
  const m = /^HTTP\/1\.[01] (\d{3})$/.exec(head);
  return m ? Number(m[1]) : null;
}

/** Patterns that match a varying number of segments (wildcards, optional parts, Express 4 regexps). */
const VARYING = /[*?+(){}]/;
/** Segments of route patterns (-1: varying), kept: an app has a handful of routes, each read on every request. */
const routeSegments = new Map<string, number>();
function segmentsOf(path: string): number {
  let n = routeSegments.get(path);
  if (n === undefined) {
    n = VARYING.test(path) ? -1 : path.split('/').filter(Boolean).length;
    if (routeSegments.size < 256) routeSegments.set(path, n);
  }
  return n;
}

/**
 * The part of a url's path before the segments the route `path` matched ('' when the url is just those,
 * as it is while the route's router is handling it); '' too when the route matches no fixed count.
 */
function mountBefore(url: unknown, path: string): string {
  const n = segmentsOf(path);
  if (typeof url !== 'string' || url[0] !== '/' || n < 0) return '';
  let end = url.indexOf('?');
  if (end < 0) end = url.length;
  if (end > 1 && url[end - 1] === '/') end--;
  let at = end;
  for (let i = 0; i < n; i++) {
    at = url.lastIndexOf('/', at - 1);
    if (at <= 0) return '';
  }
  return at > 1 ? url.slice(0, at) : '';
}

/**
 * Calls `use` with the exports of the userland CommonJS file that `file` matches: now if it is loaded, else
 * once it is. Module.prototype.load runs once per file, with its name, also for a CommonJS file an ES module
 * imports: watching costs one regexp test per module loaded, and ends once the file is found — or, with
 * `every`, never, for each copy of a package that several dependencies bring their own of (socket.io's
 * server and client each load a `ws` of their own).
 */
function whenLoaded(core: AgentCore, patches: PatchTable, file: RegExp, use: (exports: unknown) => void, every = false): void {
  const Module = core.builtin('module');
  let found = false;
  for (const [name, record] of Object.entries((Module._cache ?? {}) as Record<string, { loaded?: boolean; exports?: unknown }>)) {
    if (file.test(name) && record?.loaded) {
      use(record.exports);
      if (!every) return;
    }
  }
  const undo = patches.patch(Module.prototype as { load: (...a: unknown[]) => unknown }, 'load', (original) =>
    function (this: { exports?: unknown }, ...args: unknown[]) {
      const result = original.apply(this, args);
      if (!found && patches.active && typeof args[0] === 'string' && file.test(args[0])) {
        found = !every;
        core.guard(() => use(this.exports));
        if (found) patches.undo([undo]);
      }
      return result;
    },
  );
}

/** Koa's application class: its requests' contexts, where @koa/router leaves the route it matched. */
const KOA_FILE = /[\\/]node_modules[\\/]koa[\\/]lib[\\/]application\.js$/;
/**
 * Hono's context class, CommonJS build (its ES module build is beyond Module.prototype.load, and the agent's
 * code cannot import): its `req` getter hands out the request's HonoRequest, where Hono keeps what it matched.
 */
const HONO_FILE = /[\\/]node_modules[\\/]hono[\\/]dist[\\/]cjs[\\/]context\.js$/;

export const webSource: Source = {
  category: 'web',
  enable(core, patches) {
    if (!core.config.web) return;
    const dc = core.builtin('diagnostics_channel');
    const { AsyncLocalStorage } = core.builtin('async_hooks');
    const als = new AsyncLocalStorage();
    // Web capture switched off later (configure) leaves the subscriptions in place, idle: requests get
    // no ids, and the level filter drops http events.
    const idOf = (r: Exchange) => (r.id ??= `${self}:${r.out ? 'q' : 'r'}${r.n}`);
    const correlation = () => {
      const r = core.config.web ? (als.getStore() as Exchange | undefined) : undefined;
      return r === undefined ? null : idOf(r);
    };
    core.setCorrelation(correlation);
    patches.add(() => {
      core.setCorrelation(undefined);
      als.disable();
    });
    const self = core.config.actor;
    const selfJson = JSON.stringify(self);
    // A request served is found again at its end by its socket: a socket gets V8's identity hash (which a
    // WeakMap key needs) once per connection, a request once per request — the WeakMap set by request was
    // the hottest line of the agent in a CPU profile of a server with keep-alive clients (~1 µs per request,
    // Node 20), and so was the socket's entry set anew per request (the same profile after that change): a
    // socket's slot is made once per connection, a request costs one lookup at its start and one at its end.
    // By request only when its socket holds another one (pipelining) or it was in flight for long: the slot
    // keeps the request alive only while it is served.
    const onSocket = new WeakMap<object, Slot>();
    const inbound = new WeakMap<object, Exchange>();
    const outbound = new WeakMap<object, Exchange>();
    // Fastify keeps its route on its own request object; its tracing channel hands it to us with the raw one.
    const fastifyRoutes = new WeakMap<object, string>();
    let fastify = false;
    // Koa keeps its route (@koa/router's ctx._matchedRoute) on its context, which nothing on the request
    // leads to: each context is kept by its request as Koa makes it.
    const koaContexts = new WeakMap<object, object>();
    let koa = false;
    let seq = 0;
    const subscribe = (channel: string, fn: (msg: any) => void) => {
      // core.guard's contract, inline: a closure per publish was measurable on the per-request path.
      const guarded = (msg: unknown) => {
        if (!core.config.web) return;
        core.enter();
        try {
          fn(msg);
        } catch {
          // never into user code
        } finally {
          core.leave();
        }
      };
      dc.subscribe(channel, guarded);
      patches.add(() => dc.unsubscribe(channel, guarded));
    };

    // One event per request, served or made: `http/exchange` (`http/client_exchange`), sent when the response
    // is finished, carries the request and its outcome, and the host stores it as the two rows it stands for
    // (start and end: src/trace/expand_http.ts). Two events per request were the agent's largest cost in the
    // profile of a traced server (encoding and writing each). A request still in flight after IN_FLIGHT_MS,
    // or when the tracer asks or the thread exits, has its start (`http/request`, `http/client_request`) sent
    // then, with its own time; its end comes on its own (`http/response`, `http/client_response`).
    // Exchanges whose start has not gone out, in a list through their own fields, oldest first: no hashing
    // per request (a Set's add and delete were ~0.6 µs per request in the same profile), and a sweep stops
    // at the first one that is young enough.
    let first: Exchange | null = null;
    let last: Exchange | null = null;
    let timer: Later | undefined;
    const begin = (r: Exchange) => {
      r.prev = last;
      if (last === null) first = r;
      else last.next = r;
      last = r;
      r.listed = true;
      if (timer === undefined) arm();
    };
    const unlink = (r: Exchange) => {
      if (!r.listed) return;
      r.listed = false;
      if (r.prev === null) first = r.next;
      else r.prev.next = r.next;
      if (r.next === null) last = r.prev;
      else r.next.prev = r.prev;
      r.prev = r.next = null;
    };
    const sendStart = (r: Exchange) => {
      unlink(r);
      if (r.req !== null) {
        // In flight for long (or held at exit): found by its request from now on, and the socket's slot
        // no longer keeps it alive (a request that never ends would stay for as long as its socket).
        inbound.set(r.req, r);
        r.req = null;
        r.slot!.r = null;
        r.slot = null;
      }
      r.sent = true;
      const id = idOf(r);
      core.emit('http', r.out ? 'client_request' : 'request', self, { method: r.method, url: r.url }, { ref: id, corr: r.out ? r.corr : id, ts: r.t0 });
    };
    const sweep = () => {
      const old = core.nowNs() - IN_FLIGHT_MS * 1e6;
      while (first !== null && first.t0 <= old) sendStart(first);
      if (first === null) {
        timer?.cancel();
        timer = undefined;
      }
    };
    // One repeating timer while requests are in flight, stopped at the first sweep that finds none: a server
    // under load never idles, and a timer set anew every IN_FLIGHT_MS (an async step, a Timeout and two
    // closures each) showed in its profile. Never keeps the target alive for a request the app has let go.
    // (A tick of a stopped timer before its clearInterval lands does nothing.)
    const arm = () => {
      const t: Later = core.later(() => timer === t && sweep(), IN_FLIGHT_MS, true).unref();
      timer = t;
    };
    const sendHeld = () => {
      while (first !== null) sendStart(first);
    };
    core.setHeldBack(sendHeld);
    // On detach, requests still in flight are recorded as started (their ends will not be seen).
    patches.add(() => {
      core.setHeldBack(undefined);
      timer?.cancel();
      sendHeld();
    });
    /**
     * The exchange of a request that ended before its start went out, written straight into the bytes of its
     * batch as encodeEvent would encode it (src/shared/protocol.ts), without the event array, its links
     * object, a generic JSON.stringify of both, or one string of the whole: in short pieces copied in
     * JavaScript, numbers digit by digit (one ~95-byte string handed to Buffer#write, a native call, took
     * ~1.5 µs per request in a CPU profile of a traced server, Node 20; JSON texts of its items ~0.8 µs,
     * Node 24). The request's number stands for its id (the host spells it, as for call ids). `head`: the
     * event's constant part after its time (exchangeHead); `items`: its payload's.
     */
    const sendExchange = (r: Exchange, head: Uint8Array | string, end: number, items: Item[]) => {
      unlink(r);
      if (!core.keeps('web')) return;
      let complete = false;
      // Nothing below can fail or emit: what could (JSON of an odd value) was made before, by item().
      const out = core.beginEvent();
      try {
        out.byte(91); // [
        out.num(end);
        if (typeof head === 'string') out.text(head);
        else out.raw(head);
        writeItem(out, r.corr);
        out.byte(44); // ,
        out.num(r.n);
        out.raw(EXCHANGE_MIDDLE);
        for (let i = 0; i < items.length; i++) {
          if (i > 0) out.byte(44);
          writeItem(out, items[i]!);
        }
        out.byte(93); // ]
        complete = true;
      } finally {
        core.endEvent(complete);
      }
    };
    const exchangeHead = (subtype: string) => {
      const head = `,"http","${subtype}",${selfJson},null,null,`;
      return asciiBytes(head) ?? head;
    };
    const servedHead = exchangeHead('exchange');
    const madeHead = exchangeHead('client_exchange');

    const served = (request: Req) => {
      const r: Exchange = { out: false, n: ++seq, id: undefined, t0: core.nowNs(), method: request.method ?? null, url: request.url ?? null, corr: null, sent: false, req: null, slot: null, prev: null, next: null, listed: false };
      return r;
    };
    subscribe('http.server.request.start', ({ request, socket }: { request: Req; socket: unknown }) => {
      const r = served(request);
      let slot = socket !== null && typeof socket === 'object' ? onSocket.get(socket) : undefined;
      if (slot === undefined && socket !== null && typeof socket === 'object') onSocket.set(socket, (slot = { r: null }));
      if (slot !== undefined && slot.r === null) {
        r.req = request;
        r.slot = slot;
        slot.r = r;
      } else inbound.set(request, r);
      core.served.started++;
      core.served.open++;
      begin(r);
      // Published synchronously just before the server emits 'request': the handler and everything it
      // schedules run inside this store.
      als.enterWith(r);
    });
    subscribe('http.server.response.finish', ({ request, response, socket }: { request: Req; response: Res; socket: unknown }) => {
      const slot = socket !== null && typeof socket === 'object' ? onSocket.get(socket) : undefined;
      let r = slot?.r ?? undefined;
      if (r !== undefined && r.req === request) {
        r.req = null;
        r.slot = null;
        slot!.r = null;
      } else {
        r = inbound.get(request);
        if (!r) return;
        inbound.delete(request);
      }
      answered(r, request, response.statusCode ?? null);
    });
    const answered = (r: Exchange, request: Req, status: number | null) => {
      // Out of the held requests at once: nothing below may send its start on its own as well (a flushNow
      // landing here, an interrupt, waits for this handler to return: Agent.host).
      unlink(r);
      core.served.open--;
      // Read at the end, as the response always was: an app may rewrite req.url on the way.
      const method = request.method ?? null;
      const url = request.url ?? null;
      const route = routeOf(request) ?? (fastify ? fastifyRoutes.get(request) : undefined) ?? (koa ? koaRoute(request) : null) ?? (hono ? honoRoute(request) : null);
      const end = core.nowNs();
      if (r.sent) {
        const id = idOf(r);
        core.emit('http', 'response', self, { method, url, route, status, duration_ns: end - r.t0 }, { ref: id, corr: id });
        return;
      }
      // [method, url, route, status, duration_ns(, start method, start url)]
      const items = [item(method), item(url), item(route), item(status), end - r.t0];
      if (method !== r.method || url !== r.url) items.push(item(r.method), item(r.url));
      sendExchange(r, servedHead, end, items);
    };

    // An upgrade request (a WebSocket's handshake) is handed to the server's 'upgrade' listeners, with no
    // diagnostics_channel message and no response object: its answer is the status line the listener
    // writes on the socket itself (ws: 101, or 400 through end()). Observed on the server's emit, as the
    // app's listeners get it (http.Server.prototype has no emit of its own: its every emit pays one string
    // compare, 0-4 ns in a loop of 2 M emits, Node 20 and 24); the socket's write and end are watched until
    // that line, then put back.
    const Server = core.builtin('http')?.Server as { prototype: { emit: (...a: unknown[]) => boolean } } | undefined;
    const upgrade = (request: Req, socket: { write: (...a: unknown[]) => unknown; end: (...a: unknown[]) => unknown }) => {
      const r = served(request);
      inbound.set(request, r);
      core.served.started++;
      core.served.open++;
      begin(r);
      const undo: Undo[] = [];
      const watch = (original: (...a: unknown[]) => unknown) =>
        function (this: unknown, chunk: unknown) {
          if (undo.length > 0 && patches.active) {
            core.guard(() => {
              patches.undo(undo.splice(0));
              inbound.delete(request);
              answered(r, request, statusLine(chunk));
            });
          }
          return Reflect.apply(original, this, arguments);
        };
      undo.push(patches.patch(socket, 'write', watch), patches.patch(socket, 'end', watch));
      // A handshake never answered (its socket dropped) stays in flight; its socket is let go.
      core.later(() => patches.undo(undo.splice(0)), UPGRADE_WATCH_MS).unref();
      // The listeners run inside this request's store, as a request's handler does.
      als.enterWith(r);
    };
    if (Server) {
      patches.patch(Server.prototype, 'emit', (original) =>
        function (this: unknown, name: unknown) {
          if (name === 'upgrade' && patches.active && core.config.web) {
            const [request, socket] = [arguments[1] as Req, arguments[2]];
            if (request && typeof request === 'object' && socket !== null && typeof socket === 'object') core.guard(() => upgrade(request, socket as never));
          }
          return Reflect.apply(original, this, arguments);
        },
      );
    }

    subscribe('tracing:fastify.request.handler:start', ({ request, route }: { request: unknown; route?: { url?: unknown } }) => {
      const raw = own(request, 'raw');
      if (raw && typeof raw === 'object' && typeof route?.url === 'string') {
        fastify = true;
        fastifyRoutes.set(raw, route.url);
      }
    });

    const koaRoute = (request: Req): string | null => {
      const route = own(koaContexts.get(request), '_matchedRoute');
      return typeof route === 'string' ? route : null;
    };
    whenLoaded(core, patches, KOA_FILE, (Application) => {
      const proto = (Application as { prototype?: { createContext?: (...a: unknown[]) => unknown } } | null)?.prototype;
      if (typeof proto?.createContext !== 'function') return;
      koa = true;
      patches.patch(proto as { createContext: (...a: unknown[]) => unknown }, 'createContext', (original) =>
        function (this: unknown, ...args: unknown[]) {
          const ctx = original.apply(this, args);
          const req = args[0];
          if (patches.active && ctx !== null && typeof ctx === 'object' && req !== null && typeof req === 'object') koaContexts.set(req, ctx);
          return ctx;
        },
      );
    });

    // Hono (on @hono/node-server, whose context's `env.incoming` is node's request) matches every route of
    // a request at once and moves `routeIndex` along them as its handlers run: the route is the pattern of
    // the one at `routeIndex` when the response ends (Hono's own routePath helper). Its HonoRequest is made
    // when something reads `c.req`: Hono itself does for every request with middleware, a handler for its
    // params, query or body; a lone handler that reads none of them leaves no route.
    const honoRequests = new WeakMap<object, object>();
    let hono = false;
    /** The route Hono matched at `index` (`{ path, method, handler, … }`), through its request class's own getters. */
    let routeAt: ((hreq: object, index: number) => unknown) | undefined;
    const honoRoute = (request: Req): string | null => {
      const hreq = honoRequests.get(request);
      const index = own(hreq, 'routeIndex');
      const path = hreq !== undefined && typeof index === 'number' ? own(routeAt?.(hreq, index), 'path') : undefined;
      return typeof path === 'string' ? path : null;
    };
    whenLoaded(core, patches, HONO_FILE, (exports) => {
      const proto = (own(exports, 'Context') as { prototype?: object } | undefined)?.prototype;
      const desc = proto && Object.getOwnPropertyDescriptor(proto, 'req');
      const getter = desc?.get;
      if (!proto || !desc || typeof getter !== 'function') return;
      hono = true;
      const wrapped = function (this: object) {
        const hreq = getter.call(this);
        if (patches.active) core.guard(() => keepHonoRequest(this, hreq));
        return hreq;
      };
      Object.defineProperty(proto, 'req', { ...desc, get: wrapped });
      patches.add(() => {
        if (Object.getOwnPropertyDescriptor(proto, 'req')?.get === wrapped) Object.defineProperty(proto, 'req', desc);
      });
    });
    const keepHonoRequest = (ctx: object, hreq: unknown) => {
      const incoming = own(own(ctx, 'env'), 'incoming');
      if (incoming === null || typeof incoming !== 'object' || hreq === null || typeof hreq !== 'object' || honoRequests.get(incoming) === hreq) return;
      honoRequests.set(incoming, hreq);
      // Found once on its request class: GET_MATCH_RESULT (a symbol of Hono's, from 4.8: [[[handler, route],
      // params], …]), else matchedRoutes ([route, …]), which 4.8 deprecated.
      if (routeAt === undefined) {
        const proto = Object.getPrototypeOf(hreq) as object;
        const key = Object.getOwnPropertySymbols(proto).find((s) => s.description === 'GET_MATCH_RESULT');
        const matches = key && Object.getOwnPropertyDescriptor(proto, key)?.get;
        const routes = Object.getOwnPropertyDescriptor(proto, 'matchedRoutes')?.get;
        if (typeof matches === 'function') routeAt = (h, i) => own(own(own(own(matches.call(h), 0), i), 0), 1);
        else if (typeof routes === 'function') routeAt = (h, i) => own(routes.call(h), i);
      }
    };

    const clientStart = (request: Req, url: string | null) => {
      const r: Exchange = { out: true, n: ++seq, id: undefined, t0: core.nowNs(), method: request.method ?? null, url, corr: correlation(), sent: false, req: null, slot: null, prev: null, next: null, listed: false };
      outbound.set(request, r);
      begin(r);
    };
    const clientEnd = (request: Req, status: number | null, error: unknown) => {
      const r = outbound.get(request);
      if (!r) return;
      unlink(r); // before `sent` is read, as for a request served
      outbound.delete(request);
      const end = core.nowNs();
      if (r.sent) {
        const payload: Record<string, unknown> = { status, duration_ns: end - r.t0 };
        if (error !== undefined) payload.error = core.capture(error);
        // Under the request that made it: a pooled connection (fetch's) answers in the async context of the
        // request that opened it, not this one's.
        core.emit('http', error === undefined ? 'client_response' : 'client_error', self, payload, { ref: idOf(r), corr: r.corr });
        return;
      }
      // [method, url, status, duration_ns(, error)]: an error makes it a client_error
      const items = [item(r.method), item(r.url), item(status), end - r.t0];
      if (error !== undefined) items.push(item(core.capture(error)));
      sendExchange(r, madeHead, end, items);
    };
    // From Node 24 a ClientRequest's path is an accessor of its prototype (node:http's own, read only when
    // the request is a plain ClientRequest: never a getter of the app's).
    const ClientRequest = core.builtin('http')?.ClientRequest as { prototype: object } | undefined;
    const pathGetter = ClientRequest && (Object.getOwnPropertyDescriptor(ClientRequest.prototype, 'path')?.get as (() => unknown) | undefined);
    const pathOf = (request: Req) => own(request, 'path') ?? (pathGetter && Object.getPrototypeOf(request) === ClientRequest!.prototype ? pathGetter.call(request) : undefined);
    // node:http's own symbols a ClientRequest keeps data under, found once: its headers table, and from
    // Node 26 its socket (`socket` is an accessor there).
    const symbols = new Map<string, symbol | undefined>();
    const bySymbol = (request: Req, name: string): unknown => {
      let key = symbols.get(name);
      if (key === undefined) symbols.set(name, (key = Object.getOwnPropertySymbols(request).find((s) => s.description === name)));
      return key && own(request, key);
    };
    // The port is only in the Host header node:http wrote (`name:port`, unless the default): read from its
    // headers table, never through a method.
    const hostHeader = (request: Req): unknown => own(own(bySymbol(request, 'kOutHeaders'), 'host'), '1');
    const clientUrl = (request: Req): string | null => {
      const host = own(request, 'host');
      const path = pathOf(request);
      const target = typeof path === 'string' ? path : '';
      // A request through a proxy names its whole URL as its path.
      if (/^[a-z][\w+.-]*:\/\//i.test(target)) return target;
      if (typeof host !== 'string') return null;
      const protocol = own(request, 'protocol');
      const name = host.includes(':') ? `[${host}]` : host;
      const header = hostHeader(request);
      const port = header === name ? undefined : typeof header === 'string' && header.startsWith(`${name}:`) ? header.slice(name.length + 1) : agentPort(request, host);
      return `${typeof protocol === 'string' ? protocol : 'http:'}//${name}${port ? `:${port}` : ''}${target}`;
    };
    /**
     * The port of a request whose Host header names another host (a virtual host the app asked for): its
     * agent's key for the socket or queue it is in, `host:port:…` (http.Agent's getName), unless the default.
     */
    const agentPort = (request: Req, host: string): string | undefined => {
      const agent = own(request, 'agent');
      const fallback = String(own(agent, 'defaultPort'));
      for (const [table, item] of [['sockets', own(request, 'socket') ?? bySymbol(request, 'kSocket')], ['requests', request]] as const) {
        const byName = own(agent, table);
        if (byName === null || typeof byName !== 'object' || item === undefined) continue;
        for (const name of Object.keys(byName)) {
          const queue = own(byName, name);
          if (name.startsWith(`${host}:`) && Array.isArray(queue) && queue.includes(item)) {
            const port = /^\d*/.exec(name.slice(host.length + 1))![0];
            return port === fallback ? undefined : port;
          }
        }
      }
      return undefined;
    };
    subscribe('http.client.request.start', ({ request }: { request: Req }) => clientStart(request, clientUrl(request)));
    subscribe('http.client.response.finish', ({ request, response }: { request: Req; response: Res }) => clientEnd(request, response.statusCode ?? null, undefined));
    // An upgrade (a WebSocket's handshake) ends with the 101 node:http hands to 'upgrade', and no response
    // finishes: without this the request stayed in flight for ever. Observed on the request's emit, as the
    // app's listeners get it (ClientRequest.prototype has no emit of its own: every request, made before too).
    if (ClientRequest) {
      patches.patch(ClientRequest.prototype as { emit: (...a: unknown[]) => boolean }, 'emit', (original) =>
        function (this: Req, name: unknown, ...args: unknown[]) {
          if (name === 'upgrade' && patches.active) core.guard(() => clientEnd(this, (own(args[0], 'statusCode') as number) ?? null, undefined));
          return original.apply(this, [name, ...args]);
        },
      );
    }
    subscribe('http.client.request.error', ({ request, error }: { request: Req; error: unknown }) => clientEnd(request, null, error));
    subscribe('undici:request:create', ({ request }: { request: Req }) => {
      const origin = own(request, 'origin');
      const path = own(request, 'path');
      clientStart(request, `${typeof origin === 'string' ? origin : ''}${typeof path === 'string' ? path : ''}`);
    });
    subscribe('undici:request:headers', ({ request, response }: { request: Req; response: Res }) => clientEnd(request, (own(response, 'statusCode') as number) ?? null, undefined));
    subscribe('undici:request:error', ({ request, error }: { request: Req; error: unknown }) => clientEnd(request, null, error));
  },
};

type WsLike = Record<string, unknown> & { emit(name: string, ...args: unknown[]): boolean; send(...args: unknown[]): unknown };
type SenderLike = { dispatch(...args: unknown[]): unknown; sendFrame(list: unknown[], ...rest: unknown[]): unknown };

/** A message as the record keeps it: text capped, binary by size. */
function wsData(data: unknown, isBinary: unknown): unknown {
  if (typeof data === 'string') return data.length > 1024 ? `${data.slice(0, 1024)}…(${data.length} chars)` : data;
  const size = (data as { byteLength?: number } | null)?.byteLength;
  if (!isBinary && typeof size === 'number' && size <= 1024) {
    try {
      return new TextDecoder().decode(data as Uint8Array);
    } catch {
      // not text after all
    }
  }
  return { $t: 'binary', bytes: size ?? null };
}

/**
 * WebSocket traffic of the `ws` package (a userland module, every copy of it, found loaded or as it loads):
 * connections, messages in and out, closes. Each connection gets an id that its events share. A message is
 * recorded as WebSocket#send is given it, or, for a frame encoded once for many sockets and handed straight
 * to a socket's Sender#sendFrame (socket.io's broadcasts), as that frame.
 */
export const wsSource: Source = {
  category: 'web',
  enable(core, patches) {
    if (!core.config.web) return;
    const self = core.config.actor;
    const ids = new WeakMap<object, string>();
    let seq = 0;
    const idOf = (ws: object) => {
      let id = ids.get(ws);
      if (id === undefined) ids.set(ws, (id = `${self}:ws${++seq}`));
      return id;
    };
    /** ws's kWebSocket symbol (each copy has its own), by the prototype of the Sender it marks. */
    const marks = new WeakMap<object, symbol | null>();
    const markOf = (obj: object) => Object.getOwnPropertySymbols(obj).find((k) => k.description === 'websocket') ?? null;
    /** The WebSocket a Sender writes for: recent ws marks the Sender with it, older ones (7, early 8) only its net socket. */
    const socketOf = (sender: object): unknown => {
      const proto = Object.getPrototypeOf(sender) as object;
      let mark = marks.get(proto);
      if (mark === undefined) marks.set(proto, (mark = markOf(sender)));
      if (mark !== null) return own(sender, mark);
      const socket = own(sender, '_socket');
      const old = socket !== null && typeof socket === 'object' ? markOf(socket) : null;
      return old === null ? undefined : own(socket, old);
    };
    /** Per Sender, the frames its own dispatch() has yet to hand to sendFrame (a message of WebSocket#send). */
    const ownFrames = new WeakMap<object, number>();
    const wrapSender = (Sender: { prototype: SenderLike }) => {
      if (typeof Sender?.prototype?.sendFrame !== 'function' || typeof Sender.prototype.dispatch !== 'function') return;
      // dispatch() sends exactly one frame, now or once compressed, unless the socket is gone by then.
      patches.patch(Sender.prototype, 'dispatch', (original) =>
        function (this: SenderLike, ...args: unknown[]) {
          if (patches.active) ownFrames.set(this, (ownFrames.get(this) ?? 0) + 1);
          return original.apply(this, args);
        },
      );
      patches.patch(Sender.prototype, 'sendFrame', (original) =>
        function (this: SenderLike, list: unknown[], ...rest: unknown[]) {
          const mine = ownFrames.get(this) ?? 0;
          if (mine > 0) ownFrames.set(this, mine - 1);
          else if (patches.active) core.guard(() => readyFrame(this, list));
          return original.apply(this, [list, ...rest]);
        },
      );
    };
    /** A frame made elsewhere, [header, payload] as Sender.frame makes it: a text or binary one is a message sent. */
    const readyFrame = (sender: object, list: unknown[]) => {
      const header = list[0];
      const ws = socketOf(sender);
      // A compressed one (RSV1) is a message of WebSocket#send whose dispatch() ran before the agent came.
      if (ws === null || typeof ws !== 'object' || list.length !== 2 || !(header instanceof Uint8Array) || header.length < 2 || (header[0]! & 0x40) !== 0) return;
      const opcode = header[0]! & 0x0f;
      if (opcode === 1 || opcode === 2) core.emit('ws', 'send', self, { data: wsData(list[1], opcode === 2) }, { ref: idOf(ws) });
    };
    const wrap = (WebSocket: { prototype: WsLike }) => {
      if (typeof WebSocket?.prototype?.send !== 'function') return;
      patches.patch(WebSocket.prototype, 'send', (original) =>
        function (this: WsLike, data: unknown, ...rest: unknown[]) {
          if (patches.active) core.guard(() => core.emit('ws', 'send', self, { data: wsData(data, typeof data !== 'string') }, { ref: idOf(this) }));
          return (original as (...a: unknown[]) => unknown).apply(this, [data, ...rest]);
        },
      );
      patches.patch(WebSocket.prototype, 'emit', (original) =>
        function (this: WsLike, name: string, ...args: unknown[]) {
          if (patches.active && (name === 'message' || name === 'open' || name === 'close')) {
            core.guard(() => {
              const ref = idOf(this);
              if (name === 'message') core.emit('ws', 'receive', self, { data: wsData(args[0], args[1]) }, { ref });
              else if (name === 'open') core.emit('ws', 'open', self, { url: (own(this, '_url') as string) ?? null }, { ref });
              else core.emit('ws', 'close', self, { code: args[0] ?? null }, { ref });
            });
          }
          return (original as (...a: unknown[]) => boolean).apply(this, [name, ...args]);
        },
      );
    };
    whenLoaded(core, patches, /[\\/]node_modules[\\/]ws[\\/]lib[\\/]sender\.js$/, (Sender) => wrapSender(Sender as never), true);
    whenLoaded(core, patches, /[\\/]node_modules[\\/]ws[\\/]lib[\\/]websocket\.js$/, (WebSocket) => wrap(WebSocket as never), true);
  },
};
