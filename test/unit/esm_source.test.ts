// Finding the exported functions of an ES module in its source, for the breakpoint fallback.
import { describe, expect, it } from 'vitest';
import { findExportedFunctions, position } from '../../src/trace/esm_source.js';

const SOURCE = `import x from './x.js';
export function quote(sku, qty) {
  return 1;
}
export async function* stream() { yield 1; }
export const discount = (total) => total * 0.9;
export const fee = async ({ amount }) => { return amount; };
export class Till extends Base {
  constructor() { super(); }
  ring(amount) {
    if (amount) { return amount; }
  }
  static create(a, b) { return new Till(); }
}
function internal() {}
`;

describe('findExportedFunctions', () => {
  it('finds declarations, arrows and class methods with the arguments each can pass', () => {
    const sites = findExportedFunctions(SOURCE).map((s) => [s.name, s.argsExpression, SOURCE.slice(s.bodyOffset, s.bodyOffset + 12)]);
    expect(sites).toEqual([
      ['quote', 'arguments', '\n  return 1;'],
      ['stream', 'arguments', ' yield 1; }\n'],
      ['discount', '[total]', 'total * 0.9;'],
      ['fee', '[]', ' return amou'],
      ['Till#ring', 'arguments', '\n    if (amo'],
      ['Till.create', 'arguments', ' return new '],
    ]);
  });

  it('turns offsets into 0-based line and column', () => {
    expect(position('ab\ncd\nef', 7)).toEqual({ lineNumber: 2, columnNumber: 1 });
  });
});
