// Agent batches into rows: what the host stores for each event, and what lifecycle events say about the
// actors. Pure and per ingest (the functions each thread announced are its only state), so it runs wherever
// the rows are written: on the writer thread for the server's store (src/trace/ingest_worker.ts), where the
// thread that answers tools never spends its turns decoding, or inline for a store without one.
import { decodeBatch, type TextBatch, type TextEvent } from '../shared/protocol.js';
import { mayHoldSecret, redactJson, redactString } from '../shared/redact.js';
import type { ActorUpdate, EventRow } from '../store/store.js';
import { expandExchange, isExchange } from './expand_http.js';
import { endOfString } from './json_text.js';
import { messageHash } from './pairing.js';

/** The host's reading of the same monotonic clock the agents use (CLOCK_MONOTONIC is system-wide). */
export function hostNowNs(): number {
  return Number(process.hrtime.bigint());
}

/** A batch as the host hands it over: its wire text, or decoded already (where its stacks were mapped). */
export type BatchInput = string | TextBatch;

/** A lifecycle row and its parsed payload, for the host's listeners once it is written. */
export type Lifecycle = [row: EventRow, payload: any];

export interface Decoded {
  rows: EventRow[];
  actors: ActorUpdate[];
  lifecycle: Lifecycle[];
}

export class RowDecoder {
  /** Functions the agents announced (`agent/site`), by thread and site id: the dictionary of call/complete. */
  private readonly sites = new Map<string, Map<number, Site>>();

  /**
   * The rows of agent batches followed by rows of the host's own, with the actor updates their lifecycle
   * events imply. A batch whose text is not a batch is skipped (never seen: the receiver checked its header).
   */
  decode(batches: readonly BatchInput[], hostRows: readonly EventRow[] = []): Decoded {
    const rows: EventRow[] = [];
    for (const input of batches) {
      let batch: TextBatch;
      try {
        batch = typeof input === 'string' ? decodeBatch(input) : input;
      } catch {
        continue;
      }
      this.rowsOf(batch, rows);
    }
    for (const r of hostRows) rows.push(r);
    const actors: ActorUpdate[] = [];
    const lifecycle: Lifecycle[] = [];
    for (const row of rows) {
      if (!LIFECYCLE_TYPES.has(row.type)) continue;
      const payload = row.payload ? JSON.parse(row.payload) : null;
      lifecycle.push([row, payload]);
      actors.push(...actorUpdates(row, payload));
    }
    return { rows, actors, lifecycle };
  }

  private rowsOf(batch: TextBatch, out: EventRow[]): void {
    const offset = wallOffset(batch);
    for (const e of batch.events) {
      try {
        this.rowsOfEvent(e, batch, offset, out);
      } catch {
        // A malformed event (the agent's writing of it cut by a termination of the thread's JavaScript: the
        // host's writer thread once died of one) is left out; the batch's other events are stored.
      }
    }
  }

  private rowsOfEvent(e: TextEvent, batch: TextBatch, offset: number, out: EventRow[]): void {
    if (e[1] === 'call' && e[2] === 'complete') {
      const c = completeCall(e[8]!);
      const site = this.sites.get(batch.actor)?.get(c.sid) ?? { module: '(unknown)', fn: `(site ${c.sid})` };
      // One scan of the wire text stands for both rows' texts: their arguments and value are slices of it,
      // the rest the site's names (checked once per site) and keys of our own, with punctuation between
      // that no pattern crosses. (Two scans of the longer row texts were ~half of decoding a call.)
      const clean = c.sliced && !mayHoldSecret(e[8]!);
      out.push(callRow(e, c, site, batch, offset, clean), endRow(e, c, site, batch, offset, clean));
    } else if (e[1] === 'agent' && e[2] === 'site') {
      const p = JSON.parse(e[8]!) as { sid: number; module: string; fn: string };
      let sites = this.sites.get(batch.actor);
      if (sites === undefined) this.sites.set(batch.actor, (sites = new Map()));
      sites.set(p.sid, { module: p.module, fn: p.fn });
    } else if (isExchange(e)) for (const half of expandExchange(e)) out.push(toRow(half, batch, offset));
    else out.push(toRow(e, batch, offset));
  }
}

/** Secret-looking values in a payload's text, replaced before it is stored (src/shared/redact.ts). The text
 * is scanned for the patterns' triggers first, once; only a payload with something to replace, or a
 * secret-named flag that may head an argv-like array (its name holds a trigger word), is parsed. */
const SECRET_FLAG = /"--?[\w-]*(pass|secret|token|key|auth|credential)/i;
function redactText(text: string): string {
  if (!mayHoldSecret(text)) return text;
  return redactString(text) !== text || (text.includes('"-') && SECRET_FLAG.test(text)) ? JSON.stringify(redactJson(JSON.parse(text))) : text;
}

/**
 * A synchronous call arrives as one `call/complete` event (src/agent/calls.ts) and is stored as the two rows
 * it stands for: call/call at its start, call/return or call/throw at its end. Its payload is the agent's
 * `JSON.stringify([sid, args, parent, threw, value, durationNs])`; the two payload texts are put together
 * from slices of it (args and value are already JSON text), where parsing it and stringifying both halves
 * was most of the host's time per call after SQLite.
 */
interface CompleteCall {
  sid: number;
  /** JSON text. */
  args: string;
  parent: number | null;
  threw: boolean;
  /** JSON text: the result or the error. */
  value: string;
  /** JSON text of a number. */
  duration: string;
  /** Args and value are slices of the wire text (not parsed and written again). */
  sliced: boolean;
}

interface Site {
  module: string;
  fn: string;
}

function completeCall(text: string): CompleteCall {
  const sidEnd = text.indexOf(',');
  const argsEnd = sidEnd > 0 && text.charCodeAt(0) === 91 ? endOfJson(text, sidEnd + 1) : -1;
  const parentEnd = argsEnd > 0 && text.charCodeAt(argsEnd) === 44 ? text.indexOf(',', argsEnd + 1) : -1;
  const threwEnd = parentEnd > 0 ? text.indexOf(',', parentEnd + 1) : -1;
  const last = text.lastIndexOf(',');
  const parent = text.slice(argsEnd + 1, parentEnd);
  const threw = text.slice(parentEnd + 1, threwEnd);
  if (threwEnd < 0 || last <= threwEnd || text.charCodeAt(text.length - 1) !== 93 || !(parent === 'null' || /^\d+$/.test(parent)) || !(threw === '0' || threw === '1')) {
    // Not the shape above (never seen): the same parts, by parsing.
    const [sid, args, p, t, value, duration] = JSON.parse(text) as [number, unknown, number | null, 0 | 1, unknown, number];
    return { sid, args: JSON.stringify(args) ?? 'null', parent: typeof p === 'number' ? p : null, threw: t === 1, value: JSON.stringify(value) ?? 'null', duration: JSON.stringify(duration) ?? 'null', sliced: false };
  }
  return {
    sid: Number(text.slice(1, sidEnd)),
    args: text.slice(sidEnd + 1, argsEnd),
    parent: parent === 'null' ? null : Number(parent),
    threw: threw === '1',
    value: text.slice(threwEnd + 1, last),
    duration: text.slice(last + 1, -1),
    sliced: true,
  };
}

/** Where the JSON value starting at `i` ends (the index after it), in text that JSON.stringify wrote. */
function endOfJson(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === 34) return endOfString(text, i) + 1;
  if (first !== 91 && first !== 123) {
    const comma = text.indexOf(',', i);
    return comma < 0 ? -1 : comma;
  }
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 34) j = endOfString(text, j);
    else if (c === 91 || c === 123) depth++;
    else if ((c === 93 || c === 125) && --depth === 0) return j + 1;
    if (j < 0) return -1;
  }
  return -1;
}

/**
 * `"module":…,"fn":…` of a site, once per site (sites repeat at every call), and whether redaction leaves
 * both names as they are (then they are the stored payload's, and the rows' keys).
 */
const siteJson = new WeakMap<Site, { text: string; clean: boolean }>();
function siteText(site: Site): { text: string; clean: boolean } {
  let s = siteJson.get(site);
  if (s === undefined) {
    s = { text: `"module":${JSON.stringify(site.module)},"fn":${JSON.stringify(site.fn)}`, clean: redactString(site.module) === site.module && redactString(site.fn) === site.fn };
    siteJson.set(site, s);
  }
  return s;
}

// The texts are exactly what JSON.stringify gave for {module, fn, args, parent} and
// {module, fn, result|error, duration_ns, async} (test/unit/ingest_calls.test.ts).
// `clean`: the wire text holds nothing to redact.
function callRow(e: TextEvent, c: CompleteCall, site: Site, batch: TextBatch, offset: number, clean: boolean): EventRow {
  const named = siteText(site);
  const parent = c.parent === null ? 'null' : `"${jsonInner(batch.actor)}:c${c.parent}"`;
  const text = `{${named.text},"args":${c.args},"parent":${parent}}`;
  const r = row(e[0] - Number(c.duration), 'call', 'call', e, clean && named.clean ? text : redactText(text), batch, offset);
  return named.clean ? keyed(r, site.module, site.fn) : r;
}

function endRow(e: TextEvent, c: CompleteCall, site: Site, batch: TextBatch, offset: number, clean: boolean): EventRow {
  const named = siteText(site);
  const text = `{${named.text},"${c.threw ? 'error' : 'result'}":${c.value},"duration_ns":${c.duration},"async":false}`;
  const stored = clean && named.clean ? text : redactText(text);
  const r = row(e[0], 'call', c.threw ? 'throw' : 'return', e, stored, batch, offset);
  if (stored === text && PLAIN_NS.test(c.duration)) r.k_ns = Number(c.duration);
  return named.clean ? keyed(r, site.module, site.fn) : r;
}

/** A string's JSON text without its quotes. */
function jsonInner(s: string): string {
  const json = JSON.stringify(s);
  return json.slice(1, -1);
}

/**
 * wall_ms = offset + ts_ns/1e6. The target's own pair (Date.now(), whole ms, read per batch) would put the
 * events of two processes up to a millisecond apart in wall time, out of their ts_ns order. On this host,
 * where the target's clock is ours (loopback: CLOCK_MONOTONIC is system-wide), the host's own pair is used,
 * read with sub-millisecond precision, so wall time keeps the order ts_ns has.
 */
function wallOffset(batch: TextBatch): number {
  const fresh = performance.timeOrigin + performance.now() - hostNowNs() / 1e6;
  if (hostOffset === undefined || Math.abs(fresh - hostOffset) > OFFSET_DRIFT_MS) hostOffset = fresh;
  const target = batch.wallMs - batch.tsNs / 1e6;
  return Math.abs(hostOffset - target) < 1_000 ? hostOffset : target;
}

/**
 * The host's offset, kept while a fresh reading is within OFFSET_DRIFT_MS of it: read per batch it differed in
 * its last digits every time (two clocks read one after the other), and the store keeps one code per offset
 * (src/store/names.ts, WALL_COLUMNS): one offset is 0 bytes a row where each batch's own cost 8. Kept, every
 * event of this host is placed by one offset, so wall time keeps ts_ns's order across processes.
 */
let hostOffset: number | undefined;
const OFFSET_DRIFT_MS = 0.5;

/** A call's parent as a number (the agent's call id): spelled per thread like the call's own ref. */
const NUMERIC_PARENT = /"parent":\d/;

function toRow(e: TextEvent, batch: TextBatch, offset: number): EventRow {
  const type = e[1];
  let text = e[8];
  // Call ids come as numbers (cheaper in the target); they are spelled per thread here.
  if (type === 'call' && text !== null && NUMERIC_PARENT.test(text)) {
    const payload = JSON.parse(text) as { parent?: unknown };
    if (typeof payload.parent === 'number') {
      payload.parent = `${batch.actor}:c${payload.parent}`;
      text = JSON.stringify(payload);
    }
  }
  // Secret-looking values are replaced here, before anything is stored, whichever source sent them (the
  // agent has already replaced values under secret keys).
  if (text !== null) text = redactText(text);
  const r = row(e[0], type, e[2], e, text, batch, offset);
  if (text === null) return r;
  if (type === 'call') {
    const m = text.charCodeAt(0) === 123 ? leadingName(text, 1, '"module":') : undefined;
    const f = m !== undefined && text.charCodeAt(m.end + 1) === 44 ? leadingName(text, m.end + 2, '"fn":') : undefined;
    if (m !== undefined && f !== undefined) keyed(r, m.name, f.name);
    if (e[2] === 'return' || e[2] === 'throw') {
      const ns = durationOf(text);
      if (ns !== undefined) r.k_ns = ns;
    }
  } else if (type === 'http' && e[2] === 'response') {
    const status = flatInteger(text, '"status":');
    if (status !== undefined) r.k_status = status;
    const ns = flatInteger(text, '"duration_ns":');
    if (ns !== undefined) r.k_ns = ns;
  }
  // Both sides of a message carry the same payload ({channel, message}), so its text completes the link.
  if (type === 'message' && typeof r.ref === 'string') r.ref = `${r.ref}#${messageHash(text.includes('"channel":"ipc"') ? JSON.parse(text) : null, text)}`;
  return r;
}

/**
 * `"module":"…"` (a key, then a string) at `at` in a payload's text, as the agent writes a call's first two
 * members (src/agent/calls.ts): the name, and where its closing quote is. Undefined for any other shape
 * (the store then reads the payload).
 */
function leadingName(text: string, at: number, key: string): { name: string; end: number } | undefined {
  if (!text.startsWith(key, at) || text.charCodeAt(at + key.length) !== 34) return undefined;
  const end = endOfString(text, at + key.length);
  if (end < 0) return undefined;
  const name = text.slice(at + key.length, end + 1);
  return { name: name.includes('\\') ? (JSON.parse(name) as string) : name.slice(1, -1), end };
}

/** A row of a wire event, with its own time, kind and payload text. */
function row(ts_ns: number, type: string, subtype: string, e: TextEvent, payload: string | null, batch: TextBatch, offset: number): EventRow {
  const ref = e[7];
  return {
    ts_ns,
    wall_ms: offset + ts_ns / 1e6,
    wall_offset: offset,
    type,
    subtype,
    actor: e[3],
    from_actor: e[4],
    to_actor: e[5],
    corr: e[6],
    // Call ids come as numbers (cheaper in the target); they are spelled per thread here.
    ref: typeof ref === 'number' ? `${batch.actor}:c${ref}` : ref,
    payload,
  };
}

function keyed(r: EventRow, module: string, fn: string): EventRow {
  r.k_module = module;
  r.k_fn = fn;
  return r;
}

/**
 * An HTTP response's status or duration_ns, read off its text: the agent's response payload is one flat
 * object (src/agent/web.ts), where `"status":` can only be its key (a quote inside a string is escaped).
 * Anything else (a nested object, a value that is not a number): undefined, and the store reads the payload.
 */
function flatInteger(text: string, key: '"status":' | '"duration_ns":'): number | null | undefined {
  if (text.charCodeAt(0) !== 123 || text.indexOf('{', 1) >= 0 || text.includes('[')) return undefined;
  const at = text.indexOf(key);
  if (at < 0) return null;
  const from = at + key.length;
  let end = from;
  while (end < text.length && text.charCodeAt(end) !== 44 && text.charCodeAt(end) !== 125) end++;
  const value = text.slice(from, end);
  if (value === 'null') return null;
  return PLAIN_NS.test(value) ? Number(value) : undefined;
}

/** A duration in ns that reads the same as a JS number and as SQLite's integer (well under 2^53). */
const PLAIN_NS = /^\d{1,15}$/;

/**
 * A call completion's duration_ns, read off its text: the agent writes it last but one, before `async`
 * (src/agent/calls.ts), so the last `,"duration_ns":` followed by digits and the closing `"async"` member is
 * its key (a result's own members come before it). Anything else: undefined, and the store reads the payload.
 */
function durationOf(text: string): number | undefined {
  const at = text.lastIndexOf(',"duration_ns":');
  if (at < 0) return undefined;
  const from = at + 15;
  const end = text.indexOf(',', from);
  if (end < 0) return undefined;
  const rest = text.slice(end);
  if (rest !== ',"async":true}' && rest !== ',"async":false}') return undefined;
  const value = text.slice(from, end);
  return PLAIN_NS.test(value) ? Number(value) : undefined;
}

const LIFECYCLE_TYPES = new Set(['process', 'worker', 'child', 'error', 'object', 'agent']);

function pidOf(actor: string): number | null {
  const n = Number(actor.split('/')[0]);
  return Number.isInteger(n) ? n : null;
}

/** What a lifecycle event says about the actors involved. */
function actorUpdates(row: EventRow, p: any): ActorUpdate[] {
  const id = row.actor;
  const at = row.wall_ms;
  switch (`${row.type}/${row.subtype}`) {
    case 'process/start':
      return [{
        id, kind: 'process', pid: p?.pid ?? pidOf(id), thread_id: 0, started_ms: p?.startedWallMs ?? at, status: 'running',
        name: scriptName(p?.argv, p?.execArgv) ?? p?.title ?? null,
        info: JSON.stringify({ argv: p?.argv, execArgv: p?.execArgv, title: p?.title, cwd: p?.cwd, node: p?.node, ppid: p?.ppid, clusterWorker: p?.clusterWorker }),
      }];
    case 'process/exit':
      return [{ id, ended_ms: at, status: p?.signal ? 'killed' : p?.gone ? 'gone' : 'exited', exit_code: p?.code ?? null, exit_signal: p?.signal ?? null }];
    case 'worker/start':
      return [{ id, kind: 'worker', pid: p?.pid ?? pidOf(id), thread_id: p?.threadId ?? null, name: p?.name ?? null, started_ms: p?.fromStart ? at : null, status: 'running', parent: p?.parent ?? null, info: p?.url ? JSON.stringify({ url: p.url }) : null }];
    case 'worker/online':
      return [{ id, kind: 'worker', pid: pidOf(id), parent: row.from_actor, started_ms: at, status: 'running' }];
    case 'worker/exit':
      return [{ id, kind: 'worker', pid: pidOf(id), parent: row.from_actor, ended_ms: at, status: p?.gone ? 'gone' : 'exited', exit_code: p?.code ?? null }];
    case 'worker/exiting': // the worker's own word, for workers its parent's agent never saw start
      return [{ id, kind: 'worker', ended_ms: at, status: 'exited', exit_code: p?.code ?? null }];
    case 'worker/error':
      return [{ id, kind: 'worker', pid: pidOf(id), parent: row.from_actor, status: 'crashed' }];
    case 'child/spawn':
      return [{ id, kind: 'process', pid: p?.pid ?? pidOf(id), parent: row.from_actor, started_ms: at, status: 'running', name: childName(p), info: JSON.stringify({ spawnfile: p?.file, spawnargs: p?.args }) }];
    case 'child/exit':
      return [{ id, kind: 'process', pid: pidOf(id), ended_ms: at, status: p?.signal ? 'killed' : 'exited', exit_code: p?.code ?? null, exit_signal: p?.signal ?? null }];
    case 'object/track':
      return [{ id, kind: 'object', pid: pidOf(id), parent: row.from_actor, name: p?.name ?? null, started_ms: at, status: 'running', info: JSON.stringify({ class: p?.class, path: p?.path }) }];
    case 'error/uncaught_exception':
      return p?.fatal ? [{ id, status: 'crashed' }] : [];
    default:
      return [];
  }
}

/**
 * The name people call a process by: "app.js mailer" for `node /x/app.js mailer`; with no script or
 * under the test runner, the binary, its flags and arguments ("node --test --test-isolation=none").
 */
function scriptName(argv: unknown, execArgv: unknown): string | null {
  if (!Array.isArray(argv) || typeof argv[0] !== 'string') return null;
  const flags = Array.isArray(execArgv) ? execArgv.filter(notInspector) : [];
  // Under `node --test` the arguments are test files, run by the test runner: the runner is the program.
  if (typeof argv[1] === 'string' && !flags.includes('--test')) return commandName(argv.slice(1));
  return commandName([argv[0], ...flags, ...argv.slice(1)]);
}

/**
 * A spawned process's name: for Node, its script and arguments (fork puts execArgv flags before the
 * script; "node --test" when there is none); for another binary, its base name and arguments
 * ("esbuild --service=0.28.2 --ping").
 */
function childName(p: any): string | null {
  if (typeof p?.file !== 'string') return null;
  const args: unknown[] = Array.isArray(p?.args) ? p.args.slice(1) : [];
  if (!NODE.test(baseName(p.file))) return commandName([p.file, ...args]);
  let at = 0;
  while (at < args.length && typeof args[at] === 'string' && (args[at] as string).startsWith('-')) at += VALUED.has(args[at] as string) ? 2 : 1;
  return at < args.length ? commandName(args.slice(at)) : commandName([p.file, ...args.filter(notInspector)]);
}

/** A Node binary, as spawn and fork name it ("node", "/usr/bin/node", "node.exe"). */
const NODE = /^node(js)?(\.exe)?$/;
/** Node flags whose value is the next argument: that argument is not the script. */
const VALUED = new Set(['-e', '--eval', '-p', '--print', '-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file', '--input-type', '--title']);
/** The inspector flags the tracer itself may add: not part of what people call the process. */
const notInspector = (a: unknown) => typeof a === 'string' && !a.startsWith('--inspect');
const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

function commandName(args: unknown[]): string {
  const [script, ...rest] = args.map(String);
  return [baseName(script!), ...rest].join(' ').slice(0, 80);
}
