// Captured values (the bounded serializer's encoding: plain JSON plus `{"$t": …}` markers and `$class` for
// class instances, see docs/events.md) rendered as short JS-like text for a model to read, then capped.
import { cap, VALUE_CAP } from './page.js';

type Obj = Record<string, unknown>;

/** A captured value as capped, JS-like text: `Cart {items: [], total: 0}`, `12n`, `[function f]`. */
export function renderValue(v: unknown, max: number = VALUE_CAP): string {
  return cap(show(v), max);
}

/** Arguments as a capped, comma-separated list (no brackets). */
export function renderArgs(args: unknown, max: number = VALUE_CAP): string {
  if (!Array.isArray(args)) return args === undefined || args === null ? '' : renderValue(args, max);
  return cap(args.map(show).join(', '), max);
}

/** A key as it reads in a path or an object literal: `total`, `"a b"`. */
export function showKey(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k);
}

/** The serializer prefixes own keys that collide with its markers with one more "$"; show the original. */
export function unescapeKey(k: string): string {
  return k.startsWith('$$') ? k.slice(1) : k;
}

export function isMarker(v: unknown): v is Obj & { $t: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Obj).$t === 'string';
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** JSON text from the store → a value; unreadable text stays a string rather than failing a whole answer. */
export function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function show(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  const o = v as Obj;
  if (typeof o.$t === 'string') return marker(o);
  const parts: string[] = [];
  for (const [k, val] of Object.entries(o)) {
    if (k === '$class') continue;
    if (k === '$more') parts.push(`…${typeof val === 'number' ? `${val} more` : 'more'}`);
    else parts.push(`${showKey(unescapeKey(k))}: ${show(val)}`);
  }
  const body = `{${parts.join(', ')}}`;
  return typeof o.$class === 'string' ? `${o.$class} ${body}` : body;
}

function more(o: Obj): string {
  return typeof o.more === 'number' ? `, …${o.more} more` : '';
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function marker(o: Obj): string {
  const t = o.$t as string;
  switch (t) {
    case 'undefined':
      return 'undefined';
    case 'number':
    case 'symbol':
    case 'RegExp':
      return String(o.v);
    case 'bigint':
      return `${o.v}n`;
    case 'string':
      return `${JSON.stringify(o.v)}…(${o.length} chars)`;
    case 'function':
    case 'class':
      return `[${t} ${o.name || '(anonymous)'}]`;
    case 'Date':
      return `Date(${o.v})`;
    case 'Map': {
      const entries = list(o.entries).map((e) => (Array.isArray(e) ? `${show(e[0])} => ${show(e[1])}` : show(e)));
      return `Map(${o.size}) {${entries.join(', ')}${more(o)}}`;
    }
    case 'Set':
      return `Set(${o.size}) {${list(o.values).map(show).join(', ')}${more(o)}}`;
    case 'Array': {
      const items = list(o.items);
      const rest = typeof o.length === 'number' ? o.length - items.length : 0;
      return `[${items.map(show).join(', ')}${rest > 0 ? `, …${rest} more` : ''}]`;
    }
    case 'Error': {
      const message = typeof o.message === 'string' ? o.message : o.message === undefined ? '' : show(o.message);
      const at = typeof o.stack === 'string' ? throwSite(o.stack) : undefined;
      return `${typeof o.class === 'string' ? o.class : 'Error'}: ${message}${at ? ` (at ${at})` : ''}`;
    }
    case 'depth':
      return `{…${o.class ?? ''} (deeper than captured)}`;
    case 'cycle':
      return `[cycle ${o.path}]`;
    case 'cut':
      return '…';
    case 'ArrayBuffer':
    case 'SharedArrayBuffer':
      return `${t}(${o.byteLength})`;
    default:
      // Typed arrays, Buffers and DataViews carry their elements in `v`.
      if (Array.isArray(o.v)) return `${t}(${o.length}) [${o.v.map(show).join(', ')}${more(o)}]`;
      return `[${t}]`;
  }
}

/**
 * What caused a state: a method call `Cart#add("apple", 2)`, a message, or nothing (the snapshot taken when
 * tracking began).
 */
export function renderTrigger(trigger: unknown, className: string | null): string {
  if (trigger === null || trigger === undefined) return 'tracking began';
  if (typeof trigger === 'object' && !Array.isArray(trigger)) {
    const t = trigger as Obj;
    // The agent names the snapshot it takes when tracking starts `(tracked)`: no call caused it.
    if (t.method === '(tracked)') return 'tracking began';
    if (typeof t.method === 'string') {
      return cap(`${className ? `${className}#` : ''}${t.method}(${renderArgs(t.args, Infinity)})`);
    }
    if (t.message !== undefined) return cap(`message ${show(t.message)}`);
  }
  return renderValue(trigger);
}

/** `    at charge (/app/src/payments.ts:12:11)` → file, line and column (file:// URLs as paths). */
const FRAME_AT = /^\s*at (?:.*\()?(?:file:\/\/)?(\/[^()]*?:\d+:\d+)\)?\s*$/;

/**
 * Where an error was thrown: the first frame of its stack that is in a file of the program (not Node's
 * internals). Stacks are stored source-mapped (src/trace/sourcemaps.ts), so this is the original source.
 */
export function throwSite(stack: string): string | undefined {
  for (const line of stack.split('\n', 12)) {
    const m = FRAME_AT.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** Frames of a stack (text or a list), at most `max`, as `fn (file:line:col)` lines. */
export function renderStack(stack: unknown, max = 8): string[] {
  const frames = Array.isArray(stack) ? stack.map(String) : typeof stack === 'string' ? stack.split('\n').filter((l) => /^\s*at /.test(l)).map((l) => l.trim().replace(/^at /, '')) : [];
  return frames.length > max ? [...frames.slice(0, max), `…${frames.length - max} more`] : frames;
}
