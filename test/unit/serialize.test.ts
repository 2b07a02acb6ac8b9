import { types } from 'node:util';
import { describe, expect, it } from 'vitest';
import { asciiBytes, DEFAULT_LIMITS, isPlainList, isPlainPrimitive, serialize, TextBytes, writePlainList, writePrimitive, type Json, type SerializeOptions } from '../../src/agent/serialize.js';
import { writeCallComplete } from '../../src/agent/calls.js';
import { appendEvent, callCompleteHead, decodeBatch, encodeBatchOf, encodeCallComplete, encodeEvent, integerJson } from '../../src/shared/protocol.js';

const isProxy = types.isProxy;
const REDACT = /pass(word)?|token|secret|authorization|cookie|api[-_]?key/i;
const ser = (v: unknown, o: SerializeOptions = {}): Json => serialize(v, { isProxy, ...o });
const capStack = (e: Error, max = DEFAULT_LIMITS.maxString): string => e.stack!.slice(0, max);

// A proxy handler that is itself a proxy: any trap V8 looks up on it is counted, whatever the trap.
function trappedProxy<T extends object>(target: T): { proxy: T; traps: () => number } {
  let n = 0;
  const handler = new Proxy({}, { get: () => void n++ });
  return { proxy: new Proxy(target, handler), traps: () => n };
}

describe('serialize: primitives', () => {
  it('passes JSON primitives through', () => {
    expect(ser('hi')).toEqual('hi');
    expect(ser('')).toEqual('');
    expect(ser(42)).toEqual(42);
    expect(ser(-1.5)).toEqual(-1.5);
    expect(ser(0)).toEqual(0);
    expect(Object.is(ser(0), 0)).toBe(true);
    expect(ser(true)).toEqual(true);
    expect(ser(false)).toEqual(false);
    expect(ser(null)).toEqual(null);
  });

  it('encodes the values JSON cannot carry', () => {
    expect(ser(undefined)).toEqual({ $t: 'undefined' });
    expect(ser(NaN)).toEqual({ $t: 'number', v: 'NaN' });
    expect(ser(Infinity)).toEqual({ $t: 'number', v: 'Infinity' });
    expect(ser(-Infinity)).toEqual({ $t: 'number', v: '-Infinity' });
    expect(ser(-0)).toEqual({ $t: 'number', v: '-0' });
    expect(ser(123n)).toEqual({ $t: 'bigint', v: '123' });
    expect(ser(-(2n ** 70n))).toEqual({ $t: 'bigint', v: '-1180591620717411303424' });
    expect(ser(Symbol('desc'))).toEqual({ $t: 'symbol', v: 'Symbol(desc)' });
    expect(ser(Symbol())).toEqual({ $t: 'symbol', v: 'Symbol()' });
    expect(ser(Symbol.iterator)).toEqual({ $t: 'symbol', v: 'Symbol(Symbol.iterator)' });
  });

  it('caps long strings with a marker', () => {
    expect(ser('abcdefghij', { maxString: 5 })).toEqual({ $t: 'string', length: 10, v: 'abcde' });
    expect(ser('abcde', { maxString: 5 })).toEqual('abcde');
    expect(ser('x'.repeat(2000))).toEqual({ $t: 'string', length: 2000, v: 'x'.repeat(1024) });
  });

  it('does not split a surrogate pair when capping', () => {
    expect(ser('ab😀cd', { maxString: 3 })).toEqual({ $t: 'string', length: 6, v: 'ab' });
    expect(ser('ab😀cd', { maxString: 4 })).toEqual({ $t: 'string', length: 6, v: 'ab😀' });
  });
});

describe('serialize: functions and classes', () => {
  it('names functions without calling them', () => {
    let calls = 0;
    function foo(): void {
      calls++;
    }
    const arrow = (): void => void calls++;
    expect(ser(foo)).toEqual({ $t: 'function', name: 'foo' });
    expect(ser(arrow)).toEqual({ $t: 'function', name: 'arrow' });
    expect(ser(async function load() {})).toEqual({ $t: 'function', name: 'load' });
    expect(ser(function* gen() {})).toEqual({ $t: 'function', name: 'gen' });
    expect(ser(foo.bind(null))).toEqual({ $t: 'function', name: 'bound foo' });
    expect(ser(Math.max)).toEqual({ $t: 'function', name: 'max' });
    expect(ser([function () {}][0])).toEqual({ $t: 'function', name: '' });
    expect(calls).toBe(0);
  });

  it('tells classes from functions', () => {
    class Cart {}
    expect(ser(Cart)).toEqual({ $t: 'class', name: 'Cart' });
    expect(ser(class extends Cart {})).toEqual({ $t: 'class', name: '' });
  });

  it('does not run a static name getter', () => {
    let calls = 0;
    class Weird {
      static get name(): string {
        calls++;
        return 'X';
      }
    }
    expect(ser(Weird)).toEqual({ $t: 'class', name: '' });
    expect(ser(new Weird())).toEqual({ $class: '(anonymous)' });
    expect(calls).toBe(0);
  });
});

describe('serialize: built-ins', () => {
  it('Date', () => {
    expect(ser(new Date(0))).toEqual({ $t: 'Date', v: '1970-01-01T00:00:00.000Z' });
    expect(ser(new Date(Date.UTC(2024, 1, 29, 12, 30)))).toEqual({ $t: 'Date', v: '2024-02-29T12:30:00.000Z' });
    expect(ser(new Date(NaN))).toEqual({ $t: 'Date', v: 'Invalid Date' });
  });

  it('Date never runs user toISOString/toJSON/valueOf', () => {
    let calls = 0;
    const d = new Date(0);
    Object.assign(d, {
      toISOString: () => void calls++,
      toJSON: () => void calls++,
      valueOf: () => void calls++,
    });
    expect(ser(d)).toEqual({ $t: 'Date', v: '1970-01-01T00:00:00.000Z' });
    expect(calls).toBe(0);
  });

  it('RegExp reads source and flags from the internal slots', () => {
    expect(ser(/a\/b/gi)).toEqual({ $t: 'RegExp', v: '/a\\/b/gi' });
    expect(ser(/x/dmsuy)).toEqual({ $t: 'RegExp', v: '/x/dmsuy' });
    expect(ser(new RegExp(''))).toEqual({ $t: 'RegExp', v: '/(?:)/' });
    let calls = 0;
    class Sneaky extends RegExp {
      override get global(): boolean {
        calls++;
        return true;
      }
      override get flags(): string {
        calls++;
        return 'zzz';
      }
    }
    expect(ser(new Sneaky('q', 'm'))).toEqual({ $t: 'RegExp', v: '/q/m' });
    expect(calls).toBe(0);
  });

  it('Map with entries, redacted string keys and a "more" count', () => {
    const m = new Map<unknown, unknown>([
      ['a', 1],
      [{ k: 1 }, [2]],
      [3n, undefined],
    ]);
    expect(ser(m)).toEqual({
      $t: 'Map',
      size: 3,
      entries: [
        ['a', 1],
        [{ k: 1 }, [2]],
        [{ $t: 'bigint', v: '3' }, { $t: 'undefined' }],
      ],
    });
    expect(ser(m, { maxItems: 1 })).toEqual({ $t: 'Map', size: 3, entries: [['a', 1]], more: 2 });
    const secrets = new Map([
      ['password', 'hunter2'],
      ['user', 'bob'],
    ]);
    expect(ser(secrets, { redact: REDACT })).toEqual({
      $t: 'Map',
      size: 2,
      entries: [
        ['password', '[redacted]'],
        ['user', 'bob'],
      ],
    });
  });

  it('Set with values and a "more" count', () => {
    expect(ser(new Set([1, 'two', null]))).toEqual({ $t: 'Set', size: 3, values: [1, 'two', null] });
    expect(ser(new Set([1, 2, 3, 4]), { maxItems: 2 })).toEqual({ $t: 'Set', size: 4, values: [1, 2], more: 2 });
    expect(ser(new Set())).toEqual({ $t: 'Set', size: 0, values: [] });
  });

  it('Map/Set iteration ignores patched prototypes and user Symbol.iterator', () => {
    let calls = 0;
    class MyMap extends Map<string, number> {
      override *[Symbol.iterator](): MapIterator<[string, number]> {
        calls++;
      }
      override entries(): MapIterator<[string, number]> {
        calls++;
        return super.entries();
      }
      override get size(): number {
        calls++;
        return 99;
      }
    }
    const m = new MyMap([['x', 1]]);
    const savedEntries = Map.prototype.entries;
    const savedValues = Set.prototype.values;
    Map.prototype.entries = function () {
      calls++;
      return savedEntries.call(this);
    };
    Set.prototype.values = function () {
      calls++;
      return savedValues.call(this);
    };
    try {
      expect(ser(m)).toEqual({ $t: 'Map', size: 1, entries: [['x', 1]] });
      expect(ser(new Set([7]))).toEqual({ $t: 'Set', size: 1, values: [7] });
    } finally {
      Map.prototype.entries = savedEntries;
      Set.prototype.values = savedValues;
    }
    expect(calls).toBe(0);
  });

  it('WeakMap, WeakSet, WeakRef and Promise are labelled, not inspected', () => {
    let calls = 0;
    class MyPromise<T> extends Promise<T> {}
    Object.defineProperty(MyPromise.prototype, 'then', {
      value(this: Promise<unknown>, ...args: Parameters<Promise<unknown>['then']>) {
        calls++;
        return Promise.prototype.then.apply(this, args);
      },
    });
    expect(ser(new WeakMap())).toEqual({ $t: 'WeakMap' });
    expect(ser(new WeakSet())).toEqual({ $t: 'WeakSet' });
    expect(ser(new WeakRef({}))).toEqual({ $t: 'WeakRef' });
    expect(ser(Promise.resolve(1))).toEqual({ $t: 'Promise' });
    expect(ser(new MyPromise(() => {}))).toEqual({ $t: 'Promise' });
    expect(calls).toBe(0);
  });

  it('typed arrays, Buffer, DataView, ArrayBuffer', () => {
    expect(ser(new Uint8Array([1, 2, 3]))).toEqual({ $t: 'Uint8Array', length: 3, v: [1, 2, 3] });
    expect(ser(Buffer.from('hi'))).toEqual({ $t: 'Buffer', length: 2, v: [104, 105] });
    expect(ser(new Float64Array([1.5, NaN, -0, Infinity]))).toEqual({
      $t: 'Float64Array',
      length: 4,
      v: [1.5, { $t: 'number', v: 'NaN' }, { $t: 'number', v: '-0' }, { $t: 'number', v: 'Infinity' }],
    });
    expect(ser(new BigInt64Array([5n, -6n]))).toEqual({ $t: 'BigInt64Array', length: 2, v: ['5', '-6'] });
    expect(ser(Buffer.alloc(100))).toEqual({ $t: 'Buffer', length: 100, v: new Array(50).fill(0), more: 50 });
    expect(ser(new Int16Array(10), { maxItems: 3 })).toEqual({ $t: 'Int16Array', length: 10, v: [0, 0, 0], more: 7 });
    const dv = new DataView(new Uint8Array([9, 8, 7]).buffer);
    expect(ser(dv)).toEqual({ $t: 'DataView', length: 3, v: [9, 8, 7] });
    expect(ser(new ArrayBuffer(16))).toEqual({ $t: 'ArrayBuffer', byteLength: 16 });
    expect(ser(new SharedArrayBuffer(4))).toEqual({ $t: 'SharedArrayBuffer', byteLength: 4 });
    class Pixels extends Uint8ClampedArray {}
    expect(ser(new Pixels(2))).toEqual({ $t: 'Pixels', length: 2, v: [0, 0] });
  });

  it('typed arrays ignore a shadowing length getter', () => {
    let calls = 0;
    const a = new Uint8Array([1, 2]);
    Object.defineProperty(a, 'length', {
      get: () => {
        calls++;
        return 1e9;
      },
    });
    expect(ser(a)).toEqual({ $t: 'Uint8Array', length: 2, v: [1, 2] });
    expect(calls).toBe(0);
  });

  it('built-in impostors are plain instances, never brand-checked by user code', () => {
    expect(ser(Object.create(Map.prototype))).toEqual({ $class: 'Map' });
    expect(ser(Object.create(Date.prototype, { x: { value: 1, enumerable: true } }))).toEqual({ $class: 'Date', x: 1 });
    expect(ser(Object.create(RegExp.prototype))).toEqual({ $class: 'RegExp' });
    expect(ser(Object.create(ArrayBuffer.prototype))).toEqual({ $class: 'ArrayBuffer' });
  });
});

describe('serialize: errors', () => {
  it('Error with class, message and stack', () => {
    const e = new TypeError('boom');
    expect(ser(e)).toEqual({ $t: 'Error', class: 'TypeError', message: 'boom', stack: capStack(e) });
  });

  it('caps the stack to maxString as a plain string', () => {
    const e = new Error('x');
    expect(ser(e, { maxString: 10 })).toEqual({ $t: 'Error', class: 'Error', message: 'x', stack: 'Error: x\n ' });
  });

  it('Error subclass with a code, own props and a cause', () => {
    class HttpError extends Error {
      code = 'E_HTTP';
      status = 503;
    }
    const cause = new RangeError('socket');
    const e = new HttpError('upstream down', { cause });
    expect(ser(e)).toEqual({
      $t: 'Error',
      class: 'HttpError',
      message: 'upstream down',
      stack: capStack(e),
      cause: { $t: 'Error', class: 'RangeError', message: 'socket', stack: capStack(cause) },
      code: 'E_HTTP',
      status: 503,
    });
  });

  it('AggregateError errors, and an own "class" key', () => {
    const inner = new Error('a');
    const e = new AggregateError([inner], 'many');
    Object.assign(e, { class: 'mine' });
    expect(ser(e)).toEqual({
      $t: 'Error',
      class: 'AggregateError',
      message: 'many',
      stack: capStack(e),
      errors: [{ $t: 'Error', class: 'Error', message: 'a', stack: capStack(inner) }],
      $class: 'mine',
    });
  });

  it('never runs message/name getters or a spoofed toStringTag', () => {
    let calls = 0;
    class Quiet extends Error {
      override get message(): string {
        calls++;
        return 'no';
      }
      get [Symbol.toStringTag](): string {
        calls++;
        return 'Quiet';
      }
    }
    const e = new Quiet();
    // Replacing V8's lazy stack formats it first, which reads `message`: that call is ours, not serialize's.
    Object.defineProperty(e, 'stack', { value: 'Quiet: stack' });
    calls = 0;
    expect(ser(e)).toEqual({ $t: 'Error', class: 'Quiet', message: { $t: 'getter' }, stack: 'Quiet: stack' });
    const spoof = {
      get [Symbol.toStringTag](): string {
        calls++;
        return 'Error';
      },
      message: 'not an error',
    };
    expect(ser(spoof)).toEqual({ message: 'not an error' });
    expect(calls).toBe(0);
  });

  it('an error-like object without a stack', () => {
    expect(ser(Object.create(Error.prototype))).toEqual({ $t: 'Error', class: 'Error', message: '' });
  });
});

describe('serialize: arrays', () => {
  it('complete arrays are plain JSON arrays', () => {
    expect(ser([1, 'a', null, [true]])).toEqual([1, 'a', null, [true]]);
    expect(ser([])).toEqual([]);
  });

  it('marks holes and accessor indexes without calling them', () => {
    let calls = 0;
    // eslint-disable-next-line no-sparse-arrays
    const a: unknown[] = [1, , 3];
    Object.defineProperty(a, 3, {
      get: () => {
        calls++;
        return 4;
      },
      enumerable: true,
    });
    expect(ser(a)).toEqual([1, { $t: 'hole' }, 3, { $t: 'getter' }]);
    expect(calls).toBe(0);
  });

  it('arrays longer than maxItems', () => {
    expect(ser([1, 2, 3, 4, 5], { maxItems: 2 })).toEqual({ $t: 'Array', length: 5, items: [1, 2] });
    expect(ser(new Array(1e9), { maxItems: 1 })).toEqual({ $t: 'Array', length: 1e9, items: [{ $t: 'hole' }] });
  });
});

describe('serialize: objects', () => {
  it('plain and null-prototype objects', () => {
    expect(ser({ a: 1, b: { c: 'd' } })).toEqual({ a: 1, b: { c: 'd' } });
    const bare = Object.create(null) as Record<string, unknown>;
    bare.x = 1;
    expect(ser(bare)).toEqual({ x: 1 });
  });

  it('class instances get $class first', () => {
    class Cart {
      items = [1];
      total = 3;
    }
    const out = ser(new Cart()) as Record<string, Json>;
    expect(out).toEqual({ $class: 'Cart', items: [1], total: 3 });
    expect(Object.keys(out)).toEqual(['$class', 'items', 'total']);
    expect(ser(new (class {})())).toEqual({ $class: '(anonymous)' });
    expect(ser(Object.create({ inherited: 1 }))).toEqual({ $class: 'Object' });
  });

  it('keeps Object.keys order and skips symbol keys', () => {
    const o = { b: 1, a: 2, 2: 'two', 1: 'one', [Symbol('s')]: 3 };
    const out = ser(o) as Record<string, Json>;
    expect(Object.keys(out)).toEqual(['1', '2', 'b', 'a']);
    expect(out).toEqual({ 1: 'one', 2: 'two', b: 1, a: 2 });
  });

  it('reports accessors as markers without calling them', () => {
    let calls = 0;
    const o = {
      get counted(): number {
        return ++calls;
      },
      get thrower(): never {
        calls++;
        throw new Error('nope');
      },
      set onlySet(_v: number) {
        calls++;
      },
      plain: 1,
    };
    expect(ser(o)).toEqual({ counted: { $t: 'getter' }, thrower: { $t: 'getter' }, onlySet: { $t: 'setter' }, plain: 1 });
    class WithGetter {
      x = 1;
      get y(): number {
        return ++calls;
      }
    }
    expect(ser(new WithGetter())).toEqual({ $class: 'WithGetter', x: 1 });
    expect(calls).toBe(0);
  });

  it('never calls toJSON, toString, valueOf, Symbol.iterator or a constructor getter', () => {
    let calls = 0;
    const bump = (): string => String(++calls);
    const o = {
      toJSON: bump,
      toString: bump,
      valueOf: bump,
      [Symbol.iterator]: bump,
      [Symbol.toPrimitive]: bump,
    };
    expect(ser(o)).toEqual({
      toJSON: { $t: 'function', name: 'bump' },
      toString: { $t: 'function', name: 'bump' },
      valueOf: { $t: 'function', name: 'bump' },
    });
    class Hidden {
      a = 1;
    }
    Object.defineProperty(Hidden.prototype, 'constructor', { get: bump });
    expect(ser(new Hidden())).toEqual({ $class: 'Object', a: 1 });
    expect(calls).toBe(0);
  });

  it('caps keys with $more', () => {
    expect(ser({ a: 1, b: 2, c: 3, d: 4 }, { maxKeys: 2 })).toEqual({ a: 1, b: 2, $more: 2 });
    class K {
      a = 1;
      b = 2;
      c = 3;
    }
    expect(ser(new K(), { maxKeys: 1 })).toEqual({ $class: 'K', a: 1, $more: 2 });
  });

  it('escapes own keys that look like markers', () => {
    const out = ser({ $t: 'mine', $class: 'x', $more: 1, $$t: 2, $tt: 3, $: 4 });
    expect(out).toEqual({ $$t: 'mine', $$class: 'x', $$more: 1, $$$t: 2, $tt: 3, $: 4 });
    expect(ser({ $t: 'Proxy' })).toEqual({ $$t: 'Proxy' });
  });

  it('keeps an own "__proto__" key as a key', () => {
    const o = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as object;
    const out = ser(o) as Record<string, Json>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'y']);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"x":1},"y":2}');
  });
});

describe('serialize: proxies', () => {
  it('never touches a proxy, wherever it sits', () => {
    const { proxy, traps } = trappedProxy({ a: 1 });
    const fn = trappedProxy(function target() {});
    const arr = trappedProxy([1, 2]);
    expect(ser(proxy)).toEqual({ $t: 'Proxy' });
    expect(ser({ p: proxy, f: fn.proxy, list: [arr.proxy] })).toEqual({
      p: { $t: 'Proxy' },
      f: { $t: 'Proxy' },
      list: [{ $t: 'Proxy' }],
    });
    expect(ser(new Map([[proxy, arr.proxy]]))).toEqual({ $t: 'Map', size: 1, entries: [[{ $t: 'Proxy' }, { $t: 'Proxy' }]] });
    expect(traps()).toBe(0);
    expect(fn.traps()).toBe(0);
    expect(arr.traps()).toBe(0);
  });

  it('does not walk a proxy on the prototype chain', () => {
    const { proxy, traps } = trappedProxy({});
    const child = Object.create(proxy, { own: { value: 1, enumerable: true } }) as object;
    expect(ser(child)).toEqual({ $class: '(anonymous)', own: 1 });
    const fakeError = Object.create(proxy, { message: { value: 'm', enumerable: true } }) as object;
    expect(ser(fakeError)).toEqual({ $class: '(anonymous)', message: 'm' });
    expect(traps()).toBe(0);
  });

  it('treats a value as a proxy when isProxy throws', () => {
    const out = serialize(
      { a: {} },
      {
        isProxy: () => {
          throw new Error('x');
        },
      },
    );
    expect(out).toEqual({ $t: 'Proxy' });
  });
});

describe('serialize: depth, cycles, size', () => {
  it('replaces containers beyond maxDepth', () => {
    class Cart {
      inner = { deep: 1 };
    }
    const v = { a: { b: { c: { d: 1 } }, list: [[1]], cart: new Cart(), m: new Map(), leaf: 'ok' } };
    expect(ser(v, { maxDepth: 1 })).toEqual({
      a: {
        b: { $t: 'depth', class: 'Object' },
        list: { $t: 'depth', class: 'Array' },
        cart: { $t: 'depth', class: 'Cart' },
        m: { $t: 'depth', class: 'Map' },
        leaf: 'ok',
      },
    });
    expect(ser({ a: { b: { c: { d: { e: 1 } } } } }, { maxDepth: 2 })).toEqual({
      a: { b: { c: { $t: 'depth', class: 'Object' } } },
    });
    expect(ser({ e: new TypeError('x'), d: new Date(0) }, { maxDepth: 0 })).toEqual({
      e: { $t: 'depth', class: 'TypeError' },
      d: { $t: 'Date', v: '1970-01-01T00:00:00.000Z' },
    });
  });

  it('the default depth is 6', () => {
    let v: Record<string, unknown> = {};
    const root = v;
    for (let i = 0; i < 10; i++) v = v.n = {};
    let out = ser(root) as Record<string, Json>;
    for (let i = 0; i < 6; i++) out = out.n as Record<string, Json>;
    expect(out.n).toEqual({ $t: 'depth', class: 'Object' });
  });

  it('reports cycles with the path of the first occurrence', () => {
    const root: Record<string, unknown> = { a: { b: [1, 2, {}] } };
    const third = (root.a as { b: Record<string, unknown>[] }).b[2]!;
    third.self = third;
    third.top = root;
    expect(ser(root)).toEqual({
      a: { b: [1, 2, { self: { $t: 'cycle', path: '$.a.b[2]' }, top: { $t: 'cycle', path: '$' } }] },
    });
    const odd: Record<string, unknown> = {};
    odd['my key'] = { back: odd['my key'] };
    (odd['my key'] as Record<string, unknown>).back = odd['my key'];
    expect(ser({ odd })).toEqual({ odd: { 'my key': { back: { $t: 'cycle', path: '$.odd["my key"]' } } } });
  });

  it('cycles through Map, Set and Error', () => {
    const m = new Map<string, unknown>();
    const inner: Record<string, unknown> = {};
    inner.back = inner;
    m.set('k', inner);
    m.set('m', m);
    expect(ser(m)).toEqual({
      $t: 'Map',
      size: 2,
      entries: [
        ['k', { back: { $t: 'cycle', path: '$.values()[0]' } }],
        ['m', { $t: 'cycle', path: '$' }],
      ],
    });
    const s = new Set<unknown>();
    const item: unknown[] = [];
    item.push(item);
    s.add(item);
    expect(ser(s)).toEqual({ $t: 'Set', size: 1, values: [[{ $t: 'cycle', path: '$.values()[0]' }]] });
    const e = new Error('loop') as Error & { self?: unknown };
    e.self = e;
    expect(ser(e)).toEqual({ $t: 'Error', class: 'Error', message: 'loop', stack: capStack(e), self: { $t: 'cycle', path: '$' } });
  });

  it('serializes shared, non-cyclic references every time', () => {
    const shared = { x: 1 };
    expect(ser({ a: shared, b: shared, c: [shared] })).toEqual({ a: { x: 1 }, b: { x: 1 }, c: [{ x: 1 }] });
  });

  it('cuts every value after maxNodes', () => {
    expect(ser({ a: 1, b: 2, c: 3 }, { maxNodes: 2 })).toEqual({ a: 1, b: { $t: 'cut' }, c: { $t: 'cut' } });
    expect(ser({ a: [1, 2], b: { c: 1 } }, { maxNodes: 3 })).toEqual({
      a: [1, { $t: 'cut' }],
      b: { $t: 'cut' },
    });
    expect(ser('x', { maxNodes: 0 })).toEqual({ $t: 'cut' });
    expect(ser(new Uint8Array(10), { maxNodes: 4 })).toEqual({ $t: 'Uint8Array', length: 10, v: [0, 0, 0], more: 7 });
    expect(ser(new Map([[1, 2], [3, 4]]), { maxNodes: 4 })).toEqual({
      $t: 'Map',
      size: 2,
      entries: [
        [1, 2],
        [3, { $t: 'cut' }],
      ],
    });
  });

  it('a ~100 KB object completes within maxNodes', () => {
    const big: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) big[`k${i}`] = { id: i, name: `item number ${i}`, tags: ['a', 'b'], price: i * 1.5, note: 'lorem ipsum dolor' };
    expect(JSON.stringify(big).length).toBeGreaterThan(90_000);

    const byDefault = ser(big) as Record<string, Json>;
    expect(Object.keys(byDefault)).toHaveLength(51);
    expect(byDefault.$more).toBe(950);
    expect(byDefault.k49).toEqual({ id: 49, name: 'item number 49', tags: ['a', 'b'], price: 73.5, note: 'lorem ipsum dolor' });

    // Root + 8 values per entry: 249 full entries use 1993 nodes, the 250th gets 7 more.
    const out = ser(big, { maxKeys: 5000 }) as Record<string, Json>;
    expect(Object.keys(out)).toHaveLength(1000);
    expect(out.k248).toEqual({ id: 248, name: 'item number 248', tags: ['a', 'b'], price: 372, note: 'lorem ipsum dolor' });
    expect(out.k249).toEqual({ id: 249, name: 'item number 249', tags: ['a', 'b'], price: 373.5, note: { $t: 'cut' } });
    expect(out.k250).toEqual({ $t: 'cut' });
    expect(Object.values(out).filter((v) => JSON.stringify(v) === '{"$t":"cut"}')).toHaveLength(750);
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });
});

describe('serialize: redaction', () => {
  it('replaces values under matching keys, at any depth, without reading them', () => {
    let calls = 0;
    const v = {
      user: 'bob',
      password: 'hunter2',
      apiKey: 'k-123',
      api_key: { nested: true },
      headers: { Authorization: 'Bearer abc', Cookie: 'sid=1', accept: 'json' },
      get token(): string {
        calls++;
        return 't';
      },
      list: [{ secret: 1 }],
    };
    expect(ser(v, { redact: REDACT })).toEqual({
      user: 'bob',
      password: '[redacted]',
      apiKey: '[redacted]',
      api_key: '[redacted]',
      headers: { Authorization: '[redacted]', Cookie: '[redacted]', accept: 'json' },
      token: '[redacted]',
      list: [{ secret: '[redacted]' }],
    });
    expect(calls).toBe(0);
  });

  it('applies to class instances and error props, and a global regexp does not skip matches', () => {
    class Login {
      password = 'x';
      passwordConfirm = 'x';
    }
    expect(ser(new Login(), { redact: /password/g })).toEqual({
      $class: 'Login',
      password: '[redacted]',
      passwordConfirm: '[redacted]',
    });
    const e = Object.assign(new Error('auth'), { token: 'abc' });
    expect(ser(e, { redact: REDACT })).toEqual({ $t: 'Error', class: 'Error', message: 'auth', stack: capStack(e), token: '[redacted]' });
  });
});

describe('serialize: robustness and format', () => {
  it('anything that throws while read becomes unreadable', () => {
    const buf = new ArrayBuffer(4);
    const dv = new DataView(buf);
    structuredClone(buf, { transfer: [buf] });
    expect(ser({ dv })).toEqual({ dv: { $t: 'unreadable' } });
  });

  it('a throwing Error.prepareStackTrace costs only the stack', () => {
    const saved = Error.prepareStackTrace;
    Error.prepareStackTrace = () => {
      throw new Error('hook');
    };
    try {
      const e = new Error('m');
      expect(ser(e)).toEqual({ $t: 'Error', class: 'Error', message: 'm', stack: { $t: 'unreadable' } });
    } finally {
      Error.prepareStackTrace = saved;
    }
  });

  it('exposes the default limits', () => {
    expect(DEFAULT_LIMITS).toEqual({ maxDepth: 6, maxKeys: 50, maxItems: 50, maxString: 1024, maxNodes: 2000 });
    expect(ser({ a: [1, 2, 3] }, { maxItems: NaN, maxDepth: -1 })).toEqual({ a: [1, 2, 3] });
  });

  it('output is deterministic and survives a JSON round trip', () => {
    class Cart {
      items = new Map([['sku', { qty: 1n }]]);
    }
    const v = {
      n: -0,
      s: Symbol('x'),
      d: new Date(0),
      cart: new Cart(),
      arr: [undefined, NaN, new Uint8Array([1])],
      f(): void {},
      big: 'y'.repeat(3000),
    };
    const a = ser(v);
    const b = ser(v);
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    expect(a).toEqual({
      n: { $t: 'number', v: '-0' },
      s: { $t: 'symbol', v: 'Symbol(x)' },
      d: { $t: 'Date', v: '1970-01-01T00:00:00.000Z' },
      cart: { $class: 'Cart', items: { $t: 'Map', size: 1, entries: [['sku', { qty: { $t: 'bigint', v: '1' } }]] } },
      arr: [{ $t: 'undefined' }, { $t: 'number', v: 'NaN' }, { $t: 'Uint8Array', length: 1, v: [1] }],
      f: { $t: 'function', name: 'f' },
      big: { $t: 'string', length: 3000, v: 'y'.repeat(1024) },
    });
  });

  it('works without options', () => {
    expect(serialize({ a: 1 })).toEqual({ a: 1 });
    expect(serialize(undefined)).toEqual({ $t: 'undefined' });
  });
});

describe('plain values as JSON text (the call tracer\'s fast path)', () => {
  const PLAIN = [0, 1, -1, 42, 1e21, 1.5e-7, -3.25, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, true, false, null, '', 'a', 'line\nbreak "quoted" \\ back', '\u0001\u001f\u007f', 'é 漢字 😀', '\ud800 lone', '</script>'];

  it('leaves to the serializer what JSON would not carry as is', () => {
    for (const v of [NaN, Infinity, -Infinity, -0, undefined, 1n, Symbol('s'), 'x'.repeat(DEFAULT_LIMITS.maxString + 1), {}, [], () => 1]) expect(isPlainPrimitive(v, DEFAULT_LIMITS.maxString)).toBe(false);
    expect(isPlainList([1, 2, 3, 4, 5, 6, 7, 8, 9], DEFAULT_LIMITS.maxString)).toBe(false);
    expect(isPlainList([1, [2]], DEFAULT_LIMITS.maxString)).toBe(false);
    // A hole would be read from Array.prototype: its getter must not run.
    let ran = 0;
    Object.defineProperty(Array.prototype, 1, { get: () => ++ran, configurable: true });
    try {
      const holey = [1, , 3]; // eslint-disable-line no-sparse-arrays
      expect(isPlainList(holey, DEFAULT_LIMITS.maxString)).toBe(false);
    } finally {
      delete (Array.prototype as unknown as Record<number, unknown>)[1];
    }
    expect(ran).toBe(0);
  });

  it('prints integers as JSON does, time stamps in ns included', () => {
    const ns = [0, 1, 99_999, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 18_000_000_000_000, 18_000_000_000_001, 18_000_000_099_999, 18_000_000_100_000, 18_123_456_999_999, 2 ** 53 - 1, 2 ** 53, 2 ** 60, 1e21, -5, 1.5];
    for (let i = 0; i < 10_000; i++) ns.push(Math.floor(Math.random() * 2 ** 53), 1.8e13 + Math.floor(Math.random() * 1e12));
    for (const n of ns) expect(integerJson(n)).toBe(`${n}`);
  });

  it('encodes a call/complete event as encodeEvent does, and a batch of them decodes', () => {
    const cases: [string, string | null, number | null, 0 | 1, unknown[], unknown][] = [
      ['1234', null, null, 0, [5], 6],
      ['1234/w2', 'req-7 "x"', 17, 1, ['a\nb', true, null], { $t: 'Error', class: 'TypeError', message: 'bad' }],
      ['99', null, 3, 0, [], 'é 😀'],
    ];
    const texts: string[] = [];
    for (const [actor, corr, parent, threw, args, value] of cases) {
      const ts = 18_123_456_789_012;
      const text = encodeCallComplete(ts, callCompleteHead(actor), corr, 41, 3, JSON.stringify(args), parent, threw, JSON.stringify(value), 1234);
      expect(text).toBe(encodeEvent([ts, 'call', 'complete', actor, null, null, corr, 41, [3, args, parent, threw, value, 1234]]));
      texts.push(text);
    }
    const header = { seq: 1, actor: '1234', tsNs: 1, wallMs: 2 };
    const batch = decodeBatch(encodeBatchOf(header, texts.reduce(appendEvent, '')));
    expect(batch.events.map((e) => [e[3], e[6], JSON.parse(e[8]!)])).toEqual(cases.map(([actor, corr, parent, threw, args, value]) => [actor, corr, [3, args, parent, threw, value, 1234]]));
  });

  it('writes into a batch\'s bytes exactly what JSON.stringify writes, and takes it as one string', () => {
    const out = new TextBytes(Buffer);
    for (const v of PLAIN) {
      expect(isPlainPrimitive(v, DEFAULT_LIMITS.maxString)).toBe(true);
      writePrimitive(out, v);
      expect(out.take()).toBe(JSON.stringify(v));
    }
    for (let n = 0; n <= 8; n++) {
      const list = PLAIN.slice(n, n + n);
      expect(isPlainList(list, DEFAULT_LIMITS.maxString)).toBe(true);
      writePlainList(out, list);
      expect(out.take()).toBe(JSON.stringify(list));
    }
    const ns = [0, 1, 9, 10, 99_999, 999_999_999, 1e9, 1e9 + 1, 2 ** 31 - 1, 2 ** 31, 18_000_000_000_000, 18_000_000_000_001, 18_000_000_099_999, 18_123_456_999_999, 2 ** 53 - 1, 2 ** 53, 2 ** 60, 1e21, -5, -1e10 - 3, 1.5, -0.25];
    for (let i = 0; i < 10_000; i++) ns.push(Math.floor(Math.random() * 2 ** 53), 1.8e13 + Math.floor(Math.random() * 1e12), -Math.floor(Math.random() * 1e12));
    for (const n of ns) {
      out.num(n);
      expect(out.take()).toBe(`${n}`);
    }
    // ASCII and not, short and long, past the buffer's first 64 KiB: one string, as written.
    const pieces = ['abc', 'é', 'x'.repeat(100), '漢字 😀', '\u0001', 'y'.repeat(70_000), 'z'];
    for (const t of pieces) out.text(t);
    out.raw(asciiBytes(',null')!);
    expect(out.take()).toBe(`${pieces.join('')},null`);
    expect(asciiBytes('é')).toBeUndefined();
    out.text('after');
    expect(out.take()).toBe('after');
  });

  it('writes a call/complete event into a batch\'s bytes as encodeCallComplete spells it', () => {
    const out = new TextBytes(Buffer);
    const cases: [string, string | null, number | null, 0 | 1, unknown[], unknown][] = [
      ['1234', null, null, 0, [5], 6],
      ['1234/w2', 'req-7 "x" é', 17, 1, ['a\nb', true, null], { $t: 'Error', class: 'TypeError', message: 'bad' }],
      ['99', null, 3, 0, [], 'é 😀'],
      ['99', null, 2 ** 40, 1, [1.5, -2, 'ü'], -7],
      // Written in place: numbers of every kind, booleans and null; a correlation id with an ASCII head.
      ['1234', null, null, 0, [0, -0, 1e21, -1e-7, 2 ** 53, 2 ** 53 - 1, -(2 ** 31), 0.1], 1.7976931348623157e308],
      ['1234', 'req-1', 0, 0, [true, false, null], false],
      ['1234', null, 5, 1, [], null],
      ['1234', null, null, 0, [-5e-324], true],
      // Larger than the buffer's first 64 KiB, mid-event: the rest is written after it grew.
      ['1234', null, null, 0, [1], { big: 'x'.repeat(70_000) }],
      ['1234', null, null, 0, ['y'.repeat(1_000), 'é'.repeat(1_000)], 'z'.repeat(1_000)],
    ];
    for (const [actor, corr, parent, threw, args, value] of cases) {
      const ts = 18_123_456_789_012;
      const expected = encodeCallComplete(ts, callCompleteHead(actor), corr, 41, 3, JSON.stringify(args), parent, threw, JSON.stringify(value), 1234);
      const plainArgs = isPlainList(args, DEFAULT_LIMITS.maxString);
      const plainValue = isPlainPrimitive(value, DEFAULT_LIMITS.maxString);
      for (const head of [callCompleteHead(actor), asciiBytes(callCompleteHead(actor))!]) {
        writeCallComplete(out, ts, head, corr, 41, 3, args, plainArgs ? undefined : JSON.stringify(args), parent, threw, value, plainValue ? undefined : JSON.stringify(value), 1234);
        expect(out.take()).toBe(expected);
      }
    }
  });
});
