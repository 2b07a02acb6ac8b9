// Paging and capping: offsets, footers, past-the-end errors, and cut values that say they were cut.
import { describe, expect, it } from 'vitest';
import { cap, checkPage, footer, paging } from '../../src/query/page.js';

describe('paging', () => {
  it('turns page and limit into an offset, 50 by default, at most 200', () => {
    expect(paging()).toEqual({ page: 1, limit: 50, offset: 0 });
    expect(paging(3)).toEqual({ page: 3, limit: 50, offset: 100 });
    expect(paging(2, 20)).toEqual({ page: 2, limit: 20, offset: 20 });
    expect(paging(2, 1000)).toEqual({ page: 2, limit: 200, offset: 200 });
  });

  it('refuses pages and limits that are not whole positive numbers', () => {
    expect(() => paging(0)).toThrow('page must be a whole number from 1, got 0');
    expect(() => paging(1.5)).toThrow('page must be a whole number from 1, got 1.5');
    expect(() => paging(1, 0)).toThrow('limit must be a whole number from 1 to 200, got 0');
  });

  it('writes footers', () => {
    expect(footer(paging(1), 312, 50)).toBe('showing 1–50 of 312; page=2 for more');
    expect(footer(paging(7), 312, 12)).toBe('showing 301–312 of 312');
    expect(footer(paging(1, 10), 3, 3)).toBe('showing 1–3 of 3');
    expect(footer(paging(1), 0, 0)).toBe('showing 0 of 0');
  });

  it('says which pages exist when asked past the end', () => {
    expect(() => checkPage(paging(8), 312)).toThrow('page=8 is past the end: 312 rows make 7 pages of 50; use page=1…7');
    expect(() => checkPage(paging(2), 3)).toThrow('page=2 is past the end: 3 rows make 1 page of 50; use page=1');
    expect(() => checkPage(paging(7), 312)).not.toThrow();
    expect(() => checkPage(paging(1), 0)).not.toThrow();
  });
});

describe('cap', () => {
  it('keeps short text and cuts long text with a marker', () => {
    expect(cap('abc', 3)).toBe('abc');
    expect(cap('abcd', 3)).toBe('abc…(cut)');
    expect(cap('x'.repeat(300))).toBe(`${'x'.repeat(200)}…(cut)`);
  });

  it('never splits a surrogate pair', () => {
    expect(cap('ab😀cd', 3)).toBe('ab…(cut)');
    expect(cap('ab😀cd', 4)).toBe('ab😀…(cut)');
  });
});
