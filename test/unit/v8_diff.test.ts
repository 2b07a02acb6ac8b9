// V8's live-edit diff as src/trace/v8_diff.ts computes it, and the spellings instrument.ts picks by it. The
// capture test startup_handlers checks the same shapes against V8 itself (Node 20, 22, 24).
import { describe, expect, it } from 'vitest';
import { EVERY_FUNCTION, findFunctions, instrumented } from '../../src/trace/instrument.js';
import { carried, liveEditChanges } from '../../src/trace/v8_diff.js';

describe('liveEditChanges', () => {
  it('diffs the changed lines character by character, and leaves the rest out', () => {
    const before = 'a\nconst x = 1;\nb\n';
    const after = 'a\nconst xy = 12;\nb\n';
    expect(liveEditChanges(before, after)).toEqual([
      { start: 9, end: 9, newStart: 9, newEnd: 10 },
      { start: 13, end: 13, newStart: 14, newEnd: 15 },
    ]);
  });

  it("carries a function's ends through the changes; an insertion at its end falls outside it", () => {
    const changes = [{ start: 5, end: 5, newStart: 5, newEnd: 8 }];
    expect(carried(changes, 0, 10)).toEqual({ start: 0, end: 13 });
    expect(carried(changes, 0, 5)).toEqual({ start: 0, end: 5 });
    expect(carried([{ start: 4, end: 6, newStart: 4, newEnd: 9 }], 0, 5)).toBeUndefined();
  });
});

describe('instrumented', () => {
  const one = (source: string) => {
    const site = findFunctions(source, [EVERY_FUNCTION]).sites.find((s) => s.name.endsWith('callback'))!;
    return instrumented(source, [{ site, id: 1 }]);
  };

  it('spells each function so that V8 finds it again; an expression body not ending in ")" cannot be', () => {
    expect(one("  app.get('/f', (y) => { return 1; });\n").lost).toEqual([]);
    expect(one("  app.get('/b', async () => ({ orders: 2 }));\n").lost).toEqual([]);
    expect(one("  app.get('/h', (c) => c.json({ ok: true }));\n").lost).toEqual([]);
    expect(one("  app.get('/c', (x) => x + 1);\n").lost).toEqual(["app.get('/c') callback"]);
  });

  it('ends an expression body that ends in ")" with the call of the hook, the body named for stacks', () => {
    expect(one("app.get('/h', (c) => c.json(1));").source).toBe(
      "app.get('/h', (c) => (globalThis.__nodescope_call ?? ((i, t, a, f) => f()))(1, undefined, [c], { __ns$f: () => ( c.json(1)) }.__ns$f));",
    );
  });
});
