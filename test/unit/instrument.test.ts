// Finding the functions of a script and instrumenting them in place (src/trace/instrument.ts): what live
// edits swap in. Run here as real code: the instrumented module must behave like the original, its calls
// going through the hook with the site numbers given.
import { describe, expect, it } from 'vitest';
import { CALL_HOOK, EVERY_FUNCTION, findFunctions, functionsAt, instrument } from '../../src/trace/instrument.js';
import { withoutTracerFrames } from '../../src/shared/stacks.js';

const SOURCE = `import x from './x.js';
export function quote(sku, qty) {
  "use strict";
  return sku.length * qty;
}
export async function* stream() { yield 1; }
export const discount = (total) => (total > 10 ? total * 0.9 : total);
export const fee = async ({ amount }) => { return amount; };
export class Till extends Base {
  constructor() { super(); }
  get size() { return 1; }
  ring(amount) {
    if (amount) { return amount; }
  }
  static create(a, b) { return new Till(); }
}
function internal(a) { return a; }
const local = 1;
export { internal as helper };
`;

describe('findFunctions', () => {
  it('finds the exports (declarations, arrows, class methods, renamed exports) and says what it skips', () => {
    const found = findFunctions(SOURCE);
    expect(found.module).toBe(true);
    expect(found.sites.map((s) => [s.name, s.argsExpression, s.async, s.expressionBody])).toEqual([
      ['quote', 'arguments', false, false],
      ['discount', '[total]', false, true],
      ['fee', '[{amount}]', true, false],
      ['Till#ring', 'arguments', false, false],
      ['Till.create', 'arguments', false, false],
      ['helper', 'arguments', false, false],
    ]);
    expect(found.skipped).toEqual([
      { name: 'stream', why: 'a generator' },
      { name: 'Till#size', why: 'a getter' },
    ]);
    // A directive stays first: the body's code starts after it.
    const quote = found.sites[0]!;
    expect(SOURCE.slice(quote.bodyStart - 13, quote.bodyStart)).toBe('"use strict";');
    expect(quote.rebind).toEqual({ binding: 'quote' });
    expect(found.sites.find((s) => s.name === 'Till#ring')!.rebind).toEqual({ cls: 'Till', key: 'ring', static: false });
  });

  it('finds named functions that are not exported, and functions by V8 location', () => {
    expect(findFunctions(SOURCE, ['internal']).sites.map((s) => s.name)).toContain('helper');
    const cjs = 'function pay(amount) {\n  return amount * 2;\n}\nexports.refund = (x) => -x;\nmodule.exports.pay = pay;\n';
    expect(functionsAt(cjs, [{ name: 'pay', lineNumber: 0, columnNumber: 12 }, { name: 'refund', lineNumber: 3, columnNumber: 17 }]).map((s) => s.name)).toEqual(['pay', 'refund']);
  });
});

describe('instrument', () => {
  it('runs each body through the hook, with this, the arguments and the result unchanged; inserts no line', () => {
    const source = `"use strict";
function add(a, b) { return a + b; }
const twice = (n) => n * 2;
class Box { constructor(v) { this.v = v; } get() { return this.v; } }
async function later(x) { await null; return x; }
function boom() { throw new Error('boom'); }
return { add, twice, box: new Box(7), later, boom };`;
    const wrapped = (name: string) => ({ site: findFunctions(source, [name]).sites.find((s) => s.name === name || s.name.endsWith(`#${name}`))!, id: name.length });
    const out = instrument(source, ['add', 'twice', 'get', 'later', 'boom'].map(wrapped));
    expect(out.split('\n')).toHaveLength(source.split('\n').length);
    const seen: unknown[][] = [];
    (globalThis as Record<string, unknown>)[CALL_HOOK] = (id: number, self: unknown, args: ArrayLike<unknown>, body: () => unknown) => {
      seen.push([id, self instanceof Object ? 'object' : self, Array.from(args)]);
      return body();
    };
    try {
      const api = new Function(out)();
      expect(api.add(2, 3)).toBe(5);
      expect(api.twice(4)).toBe(8);
      expect(api.box.get()).toBe(7);
      expect(() => api.boom()).toThrow('boom');
      // Methods of api and box get their object as this; the arrow keeps the enclosing (strict) undefined.
      expect(seen).toEqual([[3, 'object', [2, 3]], [5, undefined, [4]], [3, 'object', []], [4, 'object', []]]);
    } finally {
      delete (globalThis as Record<string, unknown>)[CALL_HOOK];
    }
    // Without the hook (the agent gone), the bodies run directly.
    const api = new Function(out)();
    expect(api.add(1, 1)).toBe(2);
  });
});

describe('withoutTracerFrames', () => {
  it('leaves the agent out of a stack and shows an instrumented function as itself, where it threw', () => {
    const stack = [
      'Error: no price for kiwi',
      '    at __ns$f (file:///app/prices.js:5:31)',
      '    at a.around (nodescope-agent.js:1:18403)',
      '    at value (nodescope-agent.js:1:32808)',
      '    at quote (file:///app/prices.js:7:89)',
      '    at Socket.<anonymous> (file:///app/app.js:11:49)',
    ].join('\n');
    expect(withoutTracerFrames(stack)).toBe(['Error: no price for kiwi', '    at quote (file:///app/prices.js:5:31)', '    at Socket.<anonymous> (file:///app/app.js:11:49)'].join('\n'));
    const plain = 'Error: x\n    at f (file:///a.js:1:1)';
    expect(withoutTracerFrames(plain)).toBe(plain);
  });
});

describe('every function of a script', () => {
  const APP = `const express = require('express');
const router = express.Router();
router.get('/orders/:id', async (req, res) => {
  await new Promise((resolve) => setImmediate(resolve));
  res.json(req.params);
});
router.post('/orders', express.json(), function create(req, res) { res.status(201).end(); });
const app = express();
app.use((error, _req, res, _next) => res.status(500).json({ error: error.message }));
app.use((error, _req, res, _next) => res.status(500).end());
module.exports.handle = (x) => x;
const api = { ping() { return 1; }, get size() { return 2; }, pong: () => 2 };
class Till { total = (a) => a; ring(a) { return a; } }
app.listen(0, () => console.log('listening'));
`;

  it('names each by what a reader would call it: its name, binding, property, or the call it is passed to', () => {
    const { sites } = findFunctions(APP, [EVERY_FUNCTION]);
    expect(sites.map((s) => s.name)).toEqual([
      "router.get('/orders/:id') callback",
      'Promise callback',
      'create',
      'app.use callback',
      'app.use callback@10',
      'module.exports.handle',
      'ping',
      'pong',
      'total',
      'Till#ring',
      'app.listen callback',
    ]);
  });

  it("passes an arrow's parameters spelled unlike its own text, which V8's live edit would mistake for the function", () => {
    const { sites } = findFunctions(APP, [EVERY_FUNCTION]);
    const handler = sites.find((s) => s.name === 'app.use callback')!;
    expect(handler.argsExpression).toBe('[error,_req,res,_next]');
    const spaced = findFunctions('const f = (a,b) => a + b;', [EVERY_FUNCTION]).sites[0]!;
    expect(spaced.argsExpression).toBe('[a ,b]');
    expect(findFunctions('const g = (a) => a;', [EVERY_FUNCTION]).sites[0]!.argsExpression).toBe('[a]');
  });
});
