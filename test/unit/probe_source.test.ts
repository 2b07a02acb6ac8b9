// What trace_line reads in the source: names in scope at a position, and side-effect checks of expressions.
import { describe, expect, it } from 'vitest';
import { namesInScope, offsetOf, templateExpressions, unsafeExpression } from '../../src/trace/probe_source.js';
import { conditionText } from '../../src/trace/probes.js';

const SOURCE = `'use strict';
const RATE = 2;
let calls = 0;
var legacy;
function outer(a, { b, c: [d] }, ...rest) {
  const local = a + 1;
  if (local) {
    let inner = local * RATE; // here
    for (const item of rest) {
      calls++;
    }
  }
  try { } catch (err) { }
  return () => local;
}
`;

describe('names in scope', () => {
  it("splits the innermost function's names (params, blocks, hoisted vars) from the closure's", () => {
    const offset = SOURCE.indexOf('let inner');
    expect(namesInScope(SOURCE, offset)).toEqual({ locals: ['inner', 'a', 'b', 'd', 'rest', 'local'], closure: ['legacy', 'RATE', 'calls'] });
    // In the for-of body: the loop variable too.
    expect(namesInScope(SOURCE, SOURCE.indexOf('calls++'))?.locals).toEqual(['item', 'inner', 'a', 'b', 'd', 'rest', 'local']);
    // At the top level everything is local.
    expect(namesInScope(SOURCE, SOURCE.indexOf('let calls'))).toEqual({ locals: ['legacy', 'RATE', 'calls'], closure: [] });
  });

  it('reads ES modules (imports are closure names) and leaves compiler helpers out', () => {
    const esm = `import { x as y } from './m.js';\nconst __helper = 1;\nexport function f(q) {\n  return q + y;\n}\n`;
    expect(namesInScope(esm, esm.indexOf('return'))).toEqual({ locals: ['q'], closure: ['y'] });
  });

  it('counts lines and columns from 1', () => {
    expect(offsetOf('ab\ncd\nef', 3, 2)).toBe(7);
  });
});

describe('side effects', () => {
  it('accepts reads, arithmetic, comparisons and reading methods', () => {
    for (const e of ['total < 0', 'order.items.length > 3 && user?.id', 'name.toUpperCase().startsWith("A")', 'Object.keys(cart).length', 'map.get(k) ?? -1', '`${a}-${b}`', 'typeof x === "string"']) {
      expect(unsafeExpression(e), e).toBeUndefined();
    }
  });

  it('refuses what could change the program, and says why', () => {
    expect(unsafeExpression('count++')).toBe('increments or decrements: count++');
    expect(unsafeExpression('order.total = 0')).toBe('assigns: order.total = 0');
    expect(unsafeExpression('delete cache[k]')).toBe('deletes: delete cache[k]');
    expect(unsafeExpression('new Date()')).toBe('constructs an object (runs a constructor): new Date()');
    expect(unsafeExpression('items.push(1)')).toMatch(/^calls items\.push\(\), which may have side effects/);
    expect(unsafeExpression('save()')).toMatch(/^calls save\(\)/);
    expect(unsafeExpression('list.map(x => x * 2)')).toMatch(/^calls list\.map\(\)/);
    expect(unsafeExpression('(() => { for (;;); })()')).toMatch(/^calls/);
    expect(unsafeExpression('a; b')).toBe('is not one expression (it goes on after "a")');
    expect(unsafeExpression('a +')).toMatch(/^does not parse/);
  });

  it('finds the placeholders of a logpoint', () => {
    expect(templateExpressions('total {order.total} for { user.id }')).toEqual(['order.total', 'user.id']);
  });
});

describe('the breakpoint condition', () => {
  it('gates first, then hands the agent a getter per name and expression, and always answers false', () => {
    expect(conditionText('p1', 'total < 0', ['total'], ['RATE'], ['order.id'])).toBe(
      '(() => { const __nodescope_probes = globalThis[Symbol.for("nodescope.agent")]?.probes; return __nodescope_probes !== undefined && __nodescope_probes.gate("p1") && __nodescope_probes.hit("p1", this, () => (total < 0), [["total", () => total]], [["RATE", () => RATE]], [["order.id", () => (order.id)]]); })()',
    );
  });
});
