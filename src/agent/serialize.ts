// Turns an arbitrary value of the target process into bounded, JSON-safe data.
//
// This code runs inside someone else's live process, on the hot path of the tracer, so it must never throw
// and must never run the target's code: no getters, setters, Proxy traps, toJSON/toString/valueOf or
// iterators of user objects. Every property is read through its descriptor, built-ins are recognised by
// their prototype and confirmed with intrinsic brand checks captured when this module loads (so later
// monkey-patching of Map.prototype & co. by the target cannot redirect us), and proxies are filtered out by
// the host-provided `isProxy` before any reflection touches them.
//
// Deliberately import-free: the agent bundle must not pull in any module.

export interface SerializeLimits {
  /** Containers nested deeper than this become `{ $t: "depth" }`; the root is depth 0. */
  maxDepth: number;
  /** Own enumerable string keys shown per object. */
  maxKeys: number;
  /** Items shown per array, Map, Set, typed array. */
  maxItems: number;
  /** Characters kept per string. */
  maxString: number;
  /** Values visited per call: the total-size cap. */
  maxNodes: number;
}

export const DEFAULT_LIMITS: SerializeLimits = Object.freeze({
  maxDepth: 6,
  maxKeys: 50,
  maxItems: 50,
  maxString: 1024,
  maxNodes: 2000,
});

export interface SerializeOptions extends Partial<SerializeLimits> {
  /** The host passes `util.types.isProxy`; without it proxies cannot be told apart and their traps may run. */
  isProxy?: (v: unknown) => boolean;
  /** Object keys (and Map string keys) matching it have their value replaced by "[redacted]" (src/shared/redact.ts). */
  redact?: RegExp | ((key: string) => boolean);
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

// ---------------------------------------------------------------------------------------------------------
// Intrinsics, captured at load time.

type Uncurried<R> = (self: unknown, ...args: unknown[]) => R;

const FunctionCall = Function.prototype.call;
const FunctionBind = Function.prototype.bind;
// Node's "primordials" trick: a function bound to the original `call`, so invoking it never looks up a
// (possibly patched) `.call` on anything at run time.
function uncurry<R>(fn: unknown): Uncurried<R> {
  return FunctionBind.call(FunctionCall, fn as (...a: unknown[]) => unknown) as Uncurried<R>;
}

const gopd = Object.getOwnPropertyDescriptor;
const getProto = Object.getPrototypeOf;
const objectKeys = Object.keys;
const hasOwn = Object.hasOwn;
const defineProperty = Object.defineProperty;
const isArray = Array.isArray;
const isView = ArrayBuffer.isView;
const jsonStringify = JSON.stringify;

function getterOf(proto: object, key: PropertyKey): unknown {
  const d = gopd(proto, key);
  return d === undefined ? undefined : d.get;
}

const ObjectProto = Object.prototype;
const MapProto = Map.prototype;
const SetProto = Set.prototype;
const DateProto = Date.prototype;
const RegExpProto = RegExp.prototype;
const ErrorProto = Error.prototype;
const PromiseProto = Promise.prototype;
const WeakMapProto = WeakMap.prototype;
const WeakSetProto = WeakSet.prototype;
const WeakRefProto: object | undefined = typeof WeakRef === 'function' ? WeakRef.prototype : undefined;
const ArrayBufferProto = ArrayBuffer.prototype;
const SharedArrayBufferProto: object | undefined =
  typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer.prototype : undefined;
const TypedArrayProto = getProto(Uint8Array.prototype) as object;

const mapSize = uncurry<number>(getterOf(MapProto, 'size'));
const mapEntries = uncurry<object>(MapProto.entries);
const mapIterNext = uncurry<IteratorResult<[unknown, unknown]>>((getProto(new Map().entries()) as Iterator<unknown>).next);
const setSize = uncurry<number>(getterOf(SetProto, 'size'));
const setValues = uncurry<object>(SetProto.values);
const setIterNext = uncurry<IteratorResult<unknown>>((getProto(new Set().values()) as Iterator<unknown>).next);
const dateGetTime = uncurry<number>(DateProto.getTime);
const dateToISOString = uncurry<string>(DateProto.toISOString);
const regexpSource = uncurry<string>(getterOf(RegExpProto, 'source'));
const regexpExec = uncurry<RegExpExecArray | null>(RegExpProto.exec);
const arrayBufferByteLength = uncurry<number>(getterOf(ArrayBufferProto, 'byteLength'));
const sharedArrayBufferByteLength =
  SharedArrayBufferProto === undefined ? undefined : uncurry<number>(getterOf(SharedArrayBufferProto, 'byteLength'));
// Returns the typed array's name for a genuine typed array and undefined for anything else, without throwing.
const typedArrayTag = uncurry<string | undefined>(getterOf(TypedArrayProto, Symbol.toStringTag));
const typedArrayLength = uncurry<number>(getterOf(TypedArrayProto, 'length'));
const dataViewByteLength = uncurry<number>(getterOf(DataView.prototype, 'byteLength'));
const dataViewGetUint8 = uncurry<number>(DataView.prototype.getUint8);
const functionToString = uncurry<string>(Function.prototype.toString);
const symbolToString = uncurry<string>(Symbol.prototype.toString);
const stringSlice = uncurry<string>(String.prototype.slice);
const stringCharCodeAt = uncurry<number>(String.prototype.charCodeAt);

// `RegExp.prototype.flags` is generic and reads `this.global` etc. through [[Get]], which a subclass could
// override with getters; the individual flag getters read the internal slot instead.
const REGEXP_FLAGS: [string, Uncurried<boolean>][] = [];
for (const [flag, name] of [
  ['d', 'hasIndices'],
  ['g', 'global'],
  ['i', 'ignoreCase'],
  ['m', 'multiline'],
  ['s', 'dotAll'],
  ['u', 'unicode'],
  ['v', 'unicodeSets'],
  ['y', 'sticky'],
] as const) {
  const get = getterOf(RegExpProto, name);
  if (typeof get === 'function') REGEXP_FLAGS[REGEXP_FLAGS.length] = [flag, uncurry<boolean>(get)];
}

// Some V8 versions expose `stack` as an own accessor rather than a lazily formatted data property. That
// accessor is V8's own, so calling it is as safe as reading the data property; any other getter is user code.
let nativeStackGetter: unknown;
try {
  const d = gopd(new Error(), 'stack');
  if (d !== undefined && !hasOwn(d, 'value') && typeof d.get === 'function') nativeStackGetter = d.get;
} catch {
  nativeStackGetter = undefined;
}
const nativeStack = nativeStackGetter === undefined ? undefined : uncurry<unknown>(nativeStackGetter);

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

// ---------------------------------------------------------------------------------------------------------
// Per-call state.

const K_ROOT = 0;
const K_PROP = 1;
const K_INDEX = 2;
const K_MAP_KEY = 3;
const K_MAP_VALUE = 4;
const K_SET_VALUE = 5;

const B_NONE = 0;
const B_MAP = 1;
const B_SET = 2;
const B_DATE = 3;
const B_REGEXP = 4;
const B_ERROR = 5;
const B_PROMISE = 6;
const B_WEAKMAP = 7;
const B_WEAKSET = 8;
const B_WEAKREF = 9;
const B_ARRAYBUFFER = 10;
const B_SHAREDARRAYBUFFER = 11;

function noProxies(): boolean {
  return false;
}

function limit(v: unknown, fallback: number): number {
  return typeof v === 'number' && v >= 0 ? Math.floor(v) : fallback;
}

class State {
  readonly maxDepth: number;
  readonly maxKeys: number;
  readonly maxItems: number;
  readonly maxString: number;
  readonly maxNodes: number;
  readonly isProxy: (v: unknown) => boolean;
  readonly redact: RegExp | undefined;
  readonly redactKey: ((key: string) => boolean) | undefined;
  nodes = 0;
  // The containers on the path from the root, indexed by depth, and how each was reached from its parent;
  // only read back to name a cycle. Per call, so nothing of the target stays referenced afterwards.
  readonly ancestors: unknown[] = [];
  readonly segKey: (string | number)[] = [];
  readonly segKind: number[] = [];
  // Results of `classify`, kept here so classifying allocates nothing.
  brand = B_NONE;
  className: string | undefined = undefined;

  constructor(o: SerializeOptions) {
    this.maxDepth = limit(o.maxDepth, DEFAULT_LIMITS.maxDepth);
    this.maxKeys = limit(o.maxKeys, DEFAULT_LIMITS.maxKeys);
    this.maxItems = limit(o.maxItems, DEFAULT_LIMITS.maxItems);
    this.maxString = limit(o.maxString, DEFAULT_LIMITS.maxString);
    this.maxNodes = limit(o.maxNodes, DEFAULT_LIMITS.maxNodes);
    this.isProxy = typeof o.isProxy === 'function' ? o.isProxy : noProxies;
    let re = typeof o.redact === 'function' ? undefined : o.redact;
    // A global or sticky regexp keeps state in lastIndex between tests and would skip matches.
    if (re !== undefined && (re.global || re.sticky)) re = new RegExp(re.source, re.flags.replace(/[gy]/g, ''));
    this.redact = re;
    this.redactKey = typeof o.redact === 'function' ? o.redact : undefined;
  }
}

function proxied(s: State, v: unknown): boolean {
  try {
    return s.isProxy(v) === true;
  } catch {
    // If we cannot tell, assume the worst: a proxy is only ever labelled, never reflected on.
    return true;
  }
}

function redacted(s: State, key: string): boolean {
  if (s.redactKey !== undefined) return s.redactKey(key) === true;
  return s.redact !== undefined && regexpExec(s.redact, key) !== null;
}

// ---------------------------------------------------------------------------------------------------------
// Values that are their own capture: the hot path of call tracing, without a walk.

/** JSON carries it as is: finite numbers, booleans, null, and strings within the cap. */
export function isPlainPrimitive(v: unknown, maxString: number): boolean {
  const t = typeof v;
  return v === null || t === 'boolean' || (t === 'number' && Number.isFinite(v) && !Object.is(v, -0)) || (t === 'string' && (v as string).length <= maxString);
}

/**
 * A genuine array (the caller checked: not a proxy) of at most 8 plain primitives, every one an own element:
 * it is its own capture. A hole fails (reading it would reach Array.prototype, where a getter could sit).
 */
export function isPlainList(list: unknown[], maxString: number): boolean {
  const n = list.length;
  if (n > 8) return false;
  for (let i = 0; i < n; i++) if (!hasOwn(list, i) || !isPlainPrimitive(list[i], maxString)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// Entry point.

export function serialize(value: unknown, options?: SerializeOptions): Json {
  try {
    return visit(new State(options ?? {}), value, 0, '', K_ROOT);
  } catch {
    return { $t: 'unreadable' };
  }
}

function visit(s: State, v: unknown, depth: number, key: string | number, kind: number): Json {
  if (s.nodes >= s.maxNodes) return { $t: 'cut' };
  s.nodes++;
  try {
    switch (typeof v) {
      case 'string':
        return v.length > s.maxString ? longString(v, s.maxString) : v;
      case 'number':
        return number(v);
      case 'boolean':
        return v;
      case 'undefined':
        return { $t: 'undefined' };
      case 'bigint':
        return { $t: 'bigint', v: `${v}` };
      case 'symbol':
        return { $t: 'symbol', v: capString(symbolToString(v), s.maxString) };
      case 'function':
        return visitFunction(s, v as (...a: unknown[]) => unknown);
      case 'object':
        return v === null ? null : visitObject(s, v, depth, key, kind);
      default:
        return { $t: 'unreadable' };
    }
  } catch {
    return { $t: 'unreadable' };
  }
}

function number(n: number): Json {
  if (n !== n) return { $t: 'number', v: 'NaN' };
  if (n === Infinity) return { $t: 'number', v: 'Infinity' };
  if (n === -Infinity) return { $t: 'number', v: '-Infinity' };
  if (n === 0 && 1 / n < 0) return { $t: 'number', v: '-0' };
  return n;
}

// Cutting between the halves of a surrogate pair would leave a lone surrogate in the output.
function capString(str: string, max: number): string {
  if (str.length <= max) return str;
  let end = max;
  if (end > 0) {
    const c = stringCharCodeAt(str, end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end--;
  }
  return stringSlice(str, 0, end);
}

function longString(str: string, max: number): Json {
  return { $t: 'string', length: str.length, v: capString(str, max) };
}

function visitFunction(s: State, fn: (...a: unknown[]) => unknown): Json {
  if (proxied(s, fn)) return { $t: 'Proxy' };
  let name = '';
  const d = gopd(fn, 'name');
  if (d !== undefined && hasOwn(d, 'value') && typeof d.value === 'string') name = capString(d.value, s.maxString);
  let isClass = false;
  try {
    isClass = stringSlice(functionToString(fn), 0, 5) === 'class';
  } catch {
    isClass = false;
  }
  return { $t: isClass ? 'class' : 'function', name };
}

// ---------------------------------------------------------------------------------------------------------
// Objects.

function visitObject(s: State, v: object, depth: number, key: string | number, kind: number): Json {
  if (proxied(s, v)) return { $t: 'Proxy' };

  if (isArray(v)) {
    const c = container(s, v, depth, key, kind);
    return c !== undefined ? c : visitArray(s, v, depth);
  }
  if (isView(v)) return visitView(s, v);

  const proto = getProto(v) as object | null;
  if (proto === ObjectProto || proto === null) {
    const c = container(s, v, depth, key, kind);
    if (c !== undefined) return c;
    const out: JsonObject = {};
    writeProps(s, v, out, depth, false);
    return out;
  }

  classify(s, proto);
  const brand = s.brand;
  const className = s.className;
  switch (brand) {
    case B_MAP: {
      let size = -1;
      try {
        size = mapSize(v);
      } catch {
        size = -1;
      }
      if (size >= 0) return container(s, v, depth, key, kind) ?? visitMap(s, v, size, depth);
      break;
    }
    case B_SET: {
      let size = -1;
      try {
        size = setSize(v);
      } catch {
        size = -1;
      }
      if (size >= 0) return container(s, v, depth, key, kind) ?? visitSet(s, v, size, depth);
      break;
    }
    case B_DATE: {
      let t: number | undefined;
      try {
        t = dateGetTime(v);
      } catch {
        t = undefined;
      }
      if (t !== undefined) return { $t: 'Date', v: t === t ? dateToISOString(v) : 'Invalid Date' };
      break;
    }
    case B_REGEXP: {
      let source: string | undefined;
      try {
        source = regexpSource(v);
      } catch {
        source = undefined;
      }
      if (source !== undefined) {
        let flags = '';
        for (let i = 0; i < REGEXP_FLAGS.length; i++) {
          const f = REGEXP_FLAGS[i]!;
          if (f[1](v) === true) flags += f[0];
        }
        return { $t: 'RegExp', v: capString(`/${source}/${flags}`, s.maxString) };
      }
      break;
    }
    case B_ERROR: {
      const name = className === undefined || className === '' ? 'Error' : className;
      return container(s, v, depth, key, kind, name) ?? visitError(s, v, name, depth);
    }
    case B_PROMISE:
      return { $t: 'Promise' };
    case B_WEAKMAP:
      return { $t: 'WeakMap' };
    case B_WEAKSET:
      return { $t: 'WeakSet' };
    case B_WEAKREF:
      return { $t: 'WeakRef' };
    case B_ARRAYBUFFER:
    case B_SHAREDARRAYBUFFER: {
      let n = -1;
      try {
        n = brand === B_ARRAYBUFFER ? arrayBufferByteLength(v) : sharedArrayBufferByteLength!(v);
      } catch {
        n = -1;
      }
      if (n >= 0) return { $t: brand === B_ARRAYBUFFER ? 'ArrayBuffer' : 'SharedArrayBuffer', byteLength: n };
      break;
    }
  }

  // An instance of some class (or a built-in whose brand check failed, i.e. an impostor).
  const name = className === undefined || className === '' ? '(anonymous)' : className;
  const c = container(s, v, depth, key, kind, name);
  if (c !== undefined) return c;
  const out: JsonObject = { $class: name };
  const shown = SHOWN_KEYS.get(name);
  if (shown === undefined) writeProps(s, v, out, depth, false);
  else writeShown(s, v, out, depth, shown);
  return out;
}

/**
 * Node's HTTP objects, whose own keys are mostly stream internals (`_events`, `_readableState`): a handler's
 * `(req, res)` showed those, cut, and never the route's params or body. What a reader asks about instead,
 * where present as own data (Express and body parsers set `params` and `body` on the request; `headers`
 * and a response's default status are getters and stay unread); the rest is counted in `$more`.
 */
const SHOWN_KEYS = new Map<string, readonly string[]>([
  ['IncomingMessage', ['method', 'url', 'statusCode', 'params', 'query', 'body']],
  ['ServerResponse', ['statusCode', 'statusMessage']],
  ['ClientRequest', ['method', 'host', 'path']],
]);

function writeShown(s: State, obj: object, out: JsonObject, depth: number, shown: readonly string[]): void {
  let total: number;
  try {
    total = objectKeys(obj).length;
  } catch {
    out.$more = { $t: 'unreadable' };
    return;
  }
  let written = 0;
  for (const k of shown) {
    let d: PropertyDescriptor | undefined;
    try {
      d = gopd(obj, k);
    } catch {
      d = undefined;
    }
    if (d === undefined || !hasOwn(d, 'value') || d.value === undefined || d.value === null) continue;
    written++;
    put(out, k, redacted(s, k) ? '[redacted]' : readOwn(s, obj, k, depth + 1, K_PROP, false));
  }
  if (total > written) out.$more = total - written;
}

// Walks the prototype chain once to find both the nearest constructor name and the nearest built-in
// prototype. Results go to s.brand / s.className.
function classify(s: State, proto: object): void {
  s.brand = B_NONE;
  s.className = undefined;
  let p: object | null = proto;
  for (let i = 0; p !== null && i < 64; i++) {
    if (proxied(s, p)) return;
    if (s.className === undefined) s.className = constructorName(s, p);
    if (s.brand === B_NONE) s.brand = brandOf(p);
    if (p === ObjectProto || (s.brand !== B_NONE && s.className !== undefined)) return;
    p = getProto(p) as object | null;
  }
}

function brandOf(p: object): number {
  if (p === MapProto) return B_MAP;
  if (p === SetProto) return B_SET;
  if (p === ErrorProto) return B_ERROR;
  if (p === DateProto) return B_DATE;
  if (p === RegExpProto) return B_REGEXP;
  if (p === PromiseProto) return B_PROMISE;
  if (p === WeakMapProto) return B_WEAKMAP;
  if (p === WeakSetProto) return B_WEAKSET;
  if (p === ArrayBufferProto) return B_ARRAYBUFFER;
  if (p === SharedArrayBufferProto) return B_SHAREDARRAYBUFFER;
  if (p === WeakRefProto) return B_WEAKREF;
  return B_NONE;
}

// undefined: this prototype has no usable own `constructor`, keep looking up the chain;
// '': it has one, but its name cannot be read without running code.
function constructorName(s: State, p: object): string | undefined {
  const d = gopd(p, 'constructor');
  if (d === undefined || !hasOwn(d, 'value')) return undefined;
  const ctor: unknown = d.value;
  if (typeof ctor !== 'function' || proxied(s, ctor)) return undefined;
  const nd = gopd(ctor, 'name');
  if (nd === undefined || !hasOwn(nd, 'value') || typeof nd.value !== 'string') return '';
  return capString(nd.value, s.maxString);
}

function classNameOf(s: State, v: object): string | undefined {
  const proto = getProto(v) as object | null;
  if (proto === null) return undefined;
  classify(s, proto);
  return s.className === '' ? undefined : s.className;
}

// Shared entry of every value that has children: returns the cycle or depth marker that replaces it, or
// records it on the path and returns undefined.
function container(s: State, v: object, depth: number, key: string | number, kind: number, cls?: string): Json | undefined {
  const ancestors = s.ancestors;
  for (let j = 0; j < depth; j++) if (ancestors[j] === v) return { $t: 'cycle', path: pathTo(s, j) };
  if (depth > s.maxDepth) {
    let name = cls;
    if (name === undefined) {
      if (isArray(v)) name = 'Array';
      else {
        const proto = getProto(v) as object | null;
        name = proto === ObjectProto || proto === null ? 'Object' : (classNameOf(s, v) ?? '(anonymous)');
      }
    }
    return { $t: 'depth', class: name };
  }
  ancestors[depth] = v;
  s.segKey[depth] = key;
  s.segKind[depth] = kind;
  return undefined;
}

function pathTo(s: State, depth: number): string {
  let path = '$';
  for (let i = 1; i <= depth; i++) {
    const k = s.segKey[i]!;
    switch (s.segKind[i]) {
      case K_PROP:
        path += typeof k === 'string' && regexpExec(IDENTIFIER, k) !== null ? `.${k}` : `[${jsonStringify(`${k}`)}]`;
        break;
      case K_INDEX:
        path += `[${k}]`;
        break;
      case K_MAP_KEY:
        path += `.keys()[${k}]`;
        break;
      case K_MAP_VALUE:
        path += `.values()[${k}]`;
        break;
      case K_SET_VALUE:
        path += `.values()[${k}]`;
        break;
    }
  }
  return path;
}

// Own keys that collide with the markers this encoding adds get one more "$", so `{ $t: 1 }` comes out as
// `{ $$t: 1 }` and `{ $$t: 1 }` as `{ $$$t: 1 }`: stripping one leading "$" always recovers the original.
function escapeKey(k: string): string {
  const n = k.length;
  if (n < 2 || stringCharCodeAt(k, 0) !== 36) return k;
  let i = 1;
  while (i < n && stringCharCodeAt(k, i) === 36) i++;
  const rest = n - i;
  if (rest !== 1 && rest !== 4 && rest !== 5) return k;
  const tail = stringSlice(k, i);
  return tail === 't' || tail === 'more' || tail === 'class' ? `$${k}` : k;
}

function put(out: JsonObject, k: string, v: Json): void {
  // Plain assignment of "__proto__" would replace the output's prototype instead of adding a key.
  if (k === '__proto__') defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

// Error output already carries these, read from descriptors up the chain.
function isErrorField(k: string): boolean {
  return k === 'message' || k === 'stack' || k === 'cause' || k === 'errors';
}

function writeProps(s: State, obj: object, out: JsonObject, depth: number, isError: boolean): void {
  let keys: string[];
  try {
    keys = objectKeys(obj);
  } catch {
    out.$more = { $t: 'unreadable' };
    return;
  }
  const n = keys.length;
  const maxKeys = s.maxKeys;
  const child = depth + 1;
  let written = 0;
  let more = 0;
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    if (isError && isErrorField(k)) continue;
    if (written >= maxKeys) {
      if (!isError) {
        more += n - i;
        break;
      }
      more++;
      continue;
    }
    written++;
    // In an Error the bare key "class" is taken by the marker's own field.
    const outKey = isError && k === 'class' ? '$class' : escapeKey(k);
    put(out, outKey, redacted(s, k) ? '[redacted]' : readOwn(s, obj, k, child, K_PROP, false));
  }
  if (more > 0) out.$more = more;
}

function readOwn(s: State, obj: object, key: string | number, depth: number, kind: number, hole: boolean): Json {
  if (s.nodes >= s.maxNodes) return { $t: 'cut' };
  let d: PropertyDescriptor | undefined;
  try {
    d = gopd(obj, key);
  } catch {
    s.nodes++;
    return { $t: 'unreadable' };
  }
  if (d !== undefined && hasOwn(d, 'value')) return visit(s, d.value, depth, key, kind);
  s.nodes++;
  if (d === undefined) return hole ? { $t: 'hole' } : { $t: 'undefined' };
  return d.get === undefined ? { $t: 'setter' } : { $t: 'getter' };
}

function visitArray(s: State, arr: unknown[], depth: number): Json {
  // A genuine, non-proxy array: `length` is an own data property that cannot be an accessor.
  const length = arr.length;
  const shown = length < s.maxItems ? length : s.maxItems;
  const items: Json[] = new Array<Json>(shown);
  const child = depth + 1;
  for (let i = 0; i < shown; i++) items[i] = readOwn(s, arr, i, child, K_INDEX, true);
  return shown === length ? items : { $t: 'Array', length, items };
}

function visitMap(s: State, m: object, size: number, depth: number): Json {
  const shown = size < s.maxItems ? size : s.maxItems;
  const entries: Json[] = new Array<Json>(shown);
  const child = depth + 1;
  // A genuine Map's iterator runs no user code: keys are compared by SameValueZero, nothing is called.
  const it = mapEntries(m);
  for (let i = 0; i < shown; i++) {
    const r = mapIterNext(it);
    if (r.done === true) {
      entries.length = i;
      break;
    }
    const k = r.value[0];
    const kOut = visit(s, k, child, i, K_MAP_KEY);
    const vOut = typeof k === 'string' && redacted(s, k) ? '[redacted]' : visit(s, r.value[1], child, i, K_MAP_VALUE);
    entries[i] = [kOut, vOut];
  }
  const out: JsonObject = { $t: 'Map', size, entries };
  if (size > shown) out.more = size - shown;
  return out;
}

function visitSet(s: State, set: object, size: number, depth: number): Json {
  const shown = size < s.maxItems ? size : s.maxItems;
  const values: Json[] = new Array<Json>(shown);
  const child = depth + 1;
  const it = setValues(set);
  for (let i = 0; i < shown; i++) {
    const r = setIterNext(it);
    if (r.done === true) {
      values.length = i;
      break;
    }
    values[i] = visit(s, r.value, child, i, K_SET_VALUE);
  }
  const out: JsonObject = { $t: 'Set', size, values };
  if (size > shown) out.more = size - shown;
  return out;
}

// Typed arrays, Buffers and DataViews: leaves holding only numbers, so no depth or cycle handling. Each
// shown element counts against maxNodes like any other value.
function visitView(s: State, v: ArrayBufferView): Json {
  const tag = typedArrayTag(v);
  const isTyped = typeof tag === 'string';
  // Element reads on a genuine typed array never reach the prototype chain, so they cannot run user code.
  const length = isTyped ? typedArrayLength(v) : dataViewByteLength(v);
  const name = classNameOf(s, v) ?? (isTyped ? tag : 'DataView');
  let shown = length < s.maxItems ? length : s.maxItems;
  const budget = s.maxNodes - s.nodes;
  if (shown > budget) shown = budget > 0 ? budget : 0;
  s.nodes += shown;
  const items: Json[] = new Array<Json>(shown);
  if (isTyped) {
    const a = v as unknown as ArrayLike<number | bigint>;
    for (let i = 0; i < shown; i++) {
      const e = a[i]!;
      items[i] = typeof e === 'bigint' ? `${e}` : number(e);
    }
  } else {
    for (let i = 0; i < shown; i++) items[i] = dataViewGetUint8(v, i);
  }
  const out: JsonObject = { $t: name, length, v: items };
  if (length > shown) out.more = length - shown;
  return out;
}

function visitError(s: State, e: object, name: string, depth: number): Json {
  const out: JsonObject = { $t: 'Error', class: name };
  const child = depth + 1;
  const message = lookup(s, e, 'message');
  if (message !== undefined) out.message = describe(s, message, child, 'message');
  // Reading `stack` formats it, which runs Error.prepareStackTrace if the target installed one: keep a
  // failure there from costing the rest of the error.
  try {
    const stack = lookup(s, e, 'stack');
    if (stack !== undefined) {
      if (hasOwn(stack, 'value')) out.stack = stackOf(s, stack.value, child);
      else if (nativeStack !== undefined && stack.get === nativeStackGetter) out.stack = stackOf(s, nativeStack(e), child);
      else out.stack = describe(s, stack, child, 'stack');
    }
  } catch {
    out.stack = { $t: 'unreadable' };
  }
  // Error options' `cause` and AggregateError's `errors` are own but non-enumerable.
  const cause = gopd(e, 'cause');
  if (cause !== undefined) out.cause = describe(s, cause, child, 'cause');
  const errors = gopd(e, 'errors');
  if (errors !== undefined) out.errors = describe(s, errors, child, 'errors');
  writeProps(s, e, out, depth, true);
  return out;
}

// The descriptor of `key` on obj or the nearest prototype that has it, without running any code.
function lookup(s: State, obj: object, key: string): PropertyDescriptor | undefined {
  let o: object | null = obj;
  for (let i = 0; o !== null && i < 64; i++) {
    if (i > 0 && proxied(s, o)) return undefined;
    const d = gopd(o, key);
    if (d !== undefined) return d;
    o = getProto(o) as object | null;
  }
  return undefined;
}

function describe(s: State, d: PropertyDescriptor, depth: number, key: string): Json {
  if (key !== 'stack' && redacted(s, key)) return '[redacted]';
  if (hasOwn(d, 'value')) return visit(s, d.value, depth, key, K_PROP);
  if (s.nodes >= s.maxNodes) return { $t: 'cut' };
  s.nodes++;
  return d.get === undefined ? { $t: 'setter' } : { $t: 'getter' };
}

// Stacks are for display: a plain string cut to maxString rather than the long-string marker.
function stackOf(s: State, st: unknown, depth: number): Json {
  if (typeof st !== 'string') return visit(s, st, depth, 'stack', K_PROP);
  if (s.nodes >= s.maxNodes) return { $t: 'cut' };
  s.nodes++;
  return capString(st, s.maxString);
}

// ---------------------------------------------------------------------------------------------------------
// A batch's text as bytes.

/** The part of Node's Buffer the batch text needs (the agent imports nothing: the builtin is handed in). */
export interface BytesClass {
  allocUnsafeSlow(size: number): Bytes;
}
export interface Bytes {
  readonly length: number;
  [index: number]: number;
  set(from: ArrayLike<number>, offset?: number): void;
  subarray(start: number, end: number): Bytes;
  write(text: string, offset: number, encoding: 'utf8'): number;
  toString(encoding: 'latin1' | 'utf8', start: number, end: number): string;
}

const INITIAL_BYTES = 64 * 1024;
/** "00" to "99", as bytes. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 48 + ((i / 10) | 0);
  DIGIT_PAIRS[2 * i + 1] = 48 + (i % 10);
}
/** A buffer grown past this for one big batch is let go when the batch is taken. */
const KEPT_BYTES = 1024 * 1024;

/**
 * The text of the batch being filled, written as UTF-8 into one buffer reused batch after batch: an event
 * costs no string per piece (a call event was ~15 short strings and a rope of them until its batch was
 * sealed, most of what a traced call allocated), and `take` makes the batch's one flat string. Digits are
 * written as `${n}` writes them; text that is all ASCII byte by byte, the rest by Buffer's UTF-8 writer.
 */
export class TextBytes {
  private buf: Bytes;
  /** Bytes written. */
  pos = 0;
  /** Nothing but ASCII written since the last take: the bytes are the text's latin1 (a copy, no decoding). */
  private ascii = true;

  constructor(private readonly bytes: BytesClass) {
    this.buf = bytes.allocUnsafeSlow(INITIAL_BYTES);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const bigger = this.bytes.allocUnsafeSlow(size);
    bigger.set(this.buf.subarray(0, this.pos));
    this.buf = bigger;
  }

  /** One ASCII character, by its code. */
  byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }

  /** Text as it is (JSON already). */
  text(s: string): void {
    const n = s.length;
    // At most 3 UTF-8 bytes per UTF-16 unit: the writer below is never cut short.
    this.room(3 * n);
    const buf = this.buf;
    let p = this.pos;
    if (n <= 64) {
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          this.pos = p;
          this.utf8(i === 0 ? s : s.slice(i));
          return;
        }
        buf[p++] = c;
      }
      this.pos = p;
    } else this.utf8(s);
  }

  /**
   * Bytes of ASCII text prepared once (asciiBytes), copied by TypedArray#set: 24–26 ns for the 37 bytes of a
   * call event's head, against 80–130 ns copied in a loop and 110–130 ns read from its string (Node 20).
   */
  raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  private utf8(s: string): void {
    const written = this.buf.write(s, this.pos, 'utf8');
    // As many bytes as UTF-16 units only when every one is ASCII.
    if (written !== s.length) this.ascii = false;
    this.pos += written;
  }

  /** A number as `${n}` writes it (putNumber). */
  num(n: number): void {
    this.room(MAX_NUMBER_BYTES);
    this.pos = putNumber(this.buf, this.pos, n);
  }

  /**
   * Room for `n` more bytes, and the buffer to write them into from `pos` with the put* functions below (valid
   * until the next call that may grow it): a writer that knows the most it writes checks once, not per piece.
   */
  reserve(n: number): Bytes {
    this.room(n);
    return this.buf;
  }

  /** The text written so far, as one flat string; the buffer is empty after. */
  take(): string {
    const text = this.buf.toString(this.ascii ? 'latin1' : 'utf8', 0, this.pos);
    // Emptied after the allocation, the one call that may take long: a termination that cuts it (Channel.seal)
    // leaves the text and its encoding flag as they were, to be taken again whole.
    if (this.buf.length > KEPT_BYTES) this.buf = this.bytes.allocUnsafeSlow(INITIAL_BYTES);
    this.pos = 0;
    this.ascii = true;
    return text;
  }
}

/** The bytes of a text for TextBytes.raw, or undefined if it is not all ASCII. */
export function asciiBytes(text: string): Uint8Array | undefined {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return undefined;
    out[i] = c;
  }
  return out;
}

/** The most bytes `${n}` takes for a number: "-2.2250738585072014e-308" is 24. */
export const MAX_NUMBER_BYTES = 24;

/**
 * A number at `p` as `${n}` writes it; the position after it. Integers below 2^53 digit by digit (a double's
 * own printing is its shortest-double conversion: a time stamp's 14 digits cost twice as much that way), any
 * other through its string. The caller has reserved MAX_NUMBER_BYTES.
 */
export function putNumber(buf: Bytes, p: number, n: number): number {
  if (n >= 0 && n < 9007199254740992 && n === Math.floor(n)) return putUint(buf, p, n);
  if (n < 0 && n > -9007199254740992 && n === Math.floor(n)) {
    buf[p] = 45; // -
    return putUint(buf, p + 1, -n);
  }
  const s = `${n}`;
  for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
  return p;
}

/** 0 ≤ n < 2^53, an integer: two halves of int32 arithmetic (dividing a double by 10 per digit costs more). */
function putUint(buf: Bytes, p: number, n: number): number {
  if (n < 1e9) return putDigits(buf, p, n | 0, 0);
  const hi = Math.floor(n / 1e9);
  return putDigits(buf, putDigits(buf, p, hi | 0, 0), (n - hi * 1e9) | 0, 9);
}

/** The digits of 0 ≤ v < 1e9 (an int32), left-padded with zeros to `width`, two a step. */
function putDigits(buf: Bytes, p: number, v: number, width: number): number {
  let len = v < 10 ? 1 : v < 100 ? 2 : v < 1e3 ? 3 : v < 1e4 ? 4 : v < 1e5 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : v < 1e8 ? 8 : 9;
  if (len < width) len = width;
  const end = p + len;
  let q = end;
  while (v >= 100) {
    const d = (v / 100) | 0;
    const r = (v - d * 100) << 1;
    buf[--q] = DIGIT_PAIRS[r + 1]!;
    buf[--q] = DIGIT_PAIRS[r]!;
    v = d;
  }
  if (v >= 10) {
    buf[--q] = DIGIT_PAIRS[(v << 1) + 1]!;
    buf[--q] = DIGIT_PAIRS[v << 1]!;
  } else buf[--q] = 48 + v;
  while (q > p) buf[--q] = 48;
  return end;
}

/** `null` at `p`. */
export function putNull(buf: Bytes, p: number): number {
  buf[p] = 110;
  buf[p + 1] = 117;
  buf[p + 2] = 108;
  buf[p + 3] = 108;
  return p + 4;
}

/**
 * A plain primitive other than a string (a finite number, a boolean, null) at `p`, as JSON.stringify writes
 * it; the caller has reserved MAX_NUMBER_BYTES.
 */
export function putScalar(buf: Bytes, p: number, v: unknown): number {
  if (typeof v === 'number') return putNumber(buf, p, v);
  if (v === null) return putNull(buf, p);
  if (v === true) {
    buf[p] = 116;
    buf[p + 1] = 114;
    buf[p + 2] = 117;
    buf[p + 3] = 101;
    return p + 4;
  }
  buf[p] = 102;
  buf[p + 1] = 97;
  buf[p + 2] = 108;
  buf[p + 3] = 115;
  buf[p + 4] = 101;
  return p + 5;
}

/** A plain primitive (isPlainPrimitive) as JSON, as JSON.stringify writes it. */
export function writePrimitive(out: TextBytes, v: unknown): void {
  if (typeof v === 'string') out.text(jsonStringify(v));
  else out.pos = putScalar(out.reserve(MAX_NUMBER_BYTES), out.pos, v);
}

/** A plain list (isPlainList) as JSON, as JSON.stringify writes it (without its walk). */
export function writePlainList(out: TextBytes, list: unknown[]): void {
  out.byte(91);
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out.byte(44);
    writePrimitive(out, list[i]);
  }
  out.byte(93);
}
