// State diffs as paths, on the serializer's encoding: markers are leaves, arrays go index by index.
import { describe, expect, it } from 'vitest';
import { diffStates, renderChange } from '../../src/query/diff.js';
import { renderTrigger, renderValue } from '../../src/query/format.js';

const render = (a: unknown, b: unknown) => diffStates(a, b).map(renderChange);

describe('diffStates', () => {
  it('finds changed, added and removed paths, nested through objects and arrays', () => {
    const before = { total: 3, coupon: 'SAVE', items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 1 }, { sku: 'c', qty: 1 }] };
    const after = { total: 9, items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 1 }, { sku: 'c', qty: 3 }, { sku: 'd', qty: 2 }], meta: { 'a b': 1 } };
    expect(diffStates(before, after)).toEqual([
      { path: 'total', kind: 'changed', before: 3, after: 9 },
      { path: 'coupon', kind: 'removed', before: 'SAVE' },
      { path: 'items[2].qty', kind: 'changed', before: 1, after: 3 },
      { path: 'items[3]', kind: 'added', after: { sku: 'd', qty: 2 } },
      { path: 'meta', kind: 'added', after: { 'a b': 1 } },
    ]);
    expect(render(before, after)).toEqual([
      'total: 3 → 9',
      '- coupon',
      'items[2].qty: 1 → 3',
      '+ items[3]: {sku: "d", qty: 2}',
      '+ meta: {"a b": 1}',
    ]);
  });

  it('quotes keys that are not identifiers', () => {
    expect(render({ meta: { 'a b': 1, 'x-y': [1] } }, { meta: { 'a b': 2, 'x-y': [] } })).toEqual(['meta["a b"]: 1 → 2', '- meta["x-y"][0]']);
    expect(render({ 'a b': 1 }, { 'a b': 2 })).toEqual(['["a b"]: 1 → 2']);
  });

  it('walks class instances and shows keys the serializer escaped as written', () => {
    const before = { $class: 'Cart', items: [], $$t: 'x' };
    const after = { $class: 'Cart', items: [{ $class: 'Item', sku: 'apple', qty: 2 }], $$t: 'y' };
    expect(render(before, after)).toEqual(['+ items[0]: Item {sku: "apple", qty: 2}', '$t: "x" → "y"']);
    expect(render({ $class: 'Cart' }, { $class: 'Order' })).toEqual(['$class: "Cart" → "Order"']);
  });

  it('compares serializer markers as leaves', () => {
    const m1 = { $t: 'Map', size: 1, entries: [['a', 1]] };
    const m2 = { $t: 'Map', size: 1, entries: [['a', 2]] };
    expect(diffStates({ m: m1 }, { m: m2 })).toEqual([{ path: 'm', kind: 'changed', before: m1, after: m2 }]);
    expect(render({ m: m1 }, { m: m2 })).toEqual(['m: Map(1) {"a" => 1} → Map(1) {"a" => 2}']);
    expect(diffStates({ m: { ...m1 } }, { m: { entries: [['a', 1]], size: 1, $t: 'Map' } })).toEqual([]);
    expect(render({ n: { $t: 'bigint', v: '1' } }, { n: { $t: 'bigint', v: '2' } })).toEqual(['n: 1n → 2n']);
    expect(render({ d: { $t: 'undefined' } }, { d: 5 })).toEqual(['d: undefined → 5']);
  });

  it('reports a change of kind (object to array, value to null) as one change', () => {
    expect(render({ a: { x: 1 } }, { a: [1] })).toEqual(['a: {x: 1} → [1]']);
    expect(render({ a: 1 }, { a: null })).toEqual(['a: 1 → null']);
    expect(render(1, 2)).toEqual(['(whole state): 1 → 2']);
    expect(diffStates(1, 2)).toEqual([{ path: '', kind: 'changed', before: 1, after: 2 }]);
  });

  it('finds nothing between equal states, whatever the key order', () => {
    expect(diffStates({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toEqual([]);
    expect(diffStates({ constructor: 1 }, {})).toEqual([{ path: 'constructor', kind: 'removed', before: 1 }]);
  });

  it('removes array tails index by index', () => {
    expect(render({ items: [1, 2, 3] }, { items: [1] })).toEqual(['- items[1]', '- items[2]']);
  });
});

describe('renderValue', () => {
  it('renders the serializer encoding as short JS-like text', () => {
    expect(renderValue({ $t: 'string', length: 3000, v: 'abc' })).toBe('"abc"…(3000 chars)');
    expect(renderValue({ $t: 'function', name: 'f' })).toBe('[function f]');
    expect(renderValue({ $t: 'class', name: '' })).toBe('[class (anonymous)]');
    expect(renderValue({ $t: 'Date', v: '1970-01-01T00:00:00.000Z' })).toBe('Date(1970-01-01T00:00:00.000Z)');
    expect(renderValue({ $t: 'Set', size: 60, values: [1, 2], more: 58 })).toBe('Set(60) {1, 2, …58 more}');
    expect(renderValue({ $t: 'Array', length: 80, items: [1] })).toBe('[1, …79 more]');
    expect(renderValue({ $t: 'Error', class: 'TypeError', message: 'bad', stack: '…' })).toBe('TypeError: bad');
    expect(renderValue({ $t: 'Uint8Array', length: 10, v: [0, 1], more: 8 })).toBe('Uint8Array(10) [0, 1, …8 more]');
    expect(renderValue({ $t: 'cycle', path: '$.a' })).toBe('[cycle $.a]');
    expect(renderValue({ $t: 'depth', class: 'Object' })).toBe('{…Object (deeper than captured)}');
    expect(renderValue({ $t: 'Promise' })).toBe('[Promise]');
    expect(renderValue({ a: 1, $more: 950 })).toBe('{a: 1, …950 more}');
    expect(renderValue('[redacted]')).toBe('"[redacted]"');
  });

  it('caps long renderings and says so', () => {
    expect(renderValue({ list: Array.from({ length: 100 }, (_, i) => i) }, 20)).toBe('{list: [0, 1, 2, 3, …(cut)');
  });
});

describe('renderTrigger', () => {
  it('writes method calls with the class, or says tracking began', () => {
    expect(renderTrigger({ method: 'add', args: ['apple', 2] }, 'Cart')).toBe('Cart#add("apple", 2)');
    expect(renderTrigger({ method: 'clear', args: [] }, null)).toBe('clear()');
    expect(renderTrigger(null, 'Cart')).toBe('tracking began');
    expect(renderTrigger({ method: '(tracked)', args: [] }, 'Cart')).toBe('tracking began');
  });
});
