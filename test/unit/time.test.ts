// Time arguments: ISO 8601, epoch ms and relative durations, all to wall-clock ms.
import { describe, expect, it } from 'vitest';
import { describeWindow, parseTime, parseWindow } from '../../src/query/time.js';

const NOW = Date.UTC(2026, 10, 22, 17, 0, 0); // 2026-11-22T17:00:00Z

describe('parseTime', () => {
  it('reads ISO 8601 dates and times, with and without zone', () => {
    expect(parseTime('2026-11-22T16:30:00Z', NOW)).toBe(Date.UTC(2026, 10, 22, 16, 30));
    expect(parseTime('2026-11-22T16:30:00.250Z', NOW)).toBe(Date.UTC(2026, 10, 22, 16, 30, 0, 250));
    expect(parseTime('2026-11-22T18:30:00+02:00', NOW)).toBe(Date.UTC(2026, 10, 22, 16, 30));
    expect(parseTime('2026-11-22', NOW)).toBe(Date.UTC(2026, 10, 22));
  });

  it('reads "now" (the end of a window a person asks about)', () => {
    expect(parseTime('now', NOW)).toBe(NOW);
  });

  it('reads epoch milliseconds as numbers and numeric strings', () => {
    expect(parseTime(1_795_000_000_000, NOW)).toBe(1_795_000_000_000);
    expect(parseTime('1795000000000', NOW)).toBe(1_795_000_000_000);
    expect(parseTime(' 1795000000000 ', NOW)).toBe(1_795_000_000_000);
  });

  it('reads durations as that long before now', () => {
    expect(parseTime('500ms', NOW)).toBe(NOW - 500);
    expect(parseTime('30s', NOW)).toBe(NOW - 30_000);
    expect(parseTime('5m', NOW)).toBe(NOW - 300_000);
    expect(parseTime('2h', NOW)).toBe(NOW - 7_200_000);
    expect(parseTime('1d', NOW)).toBe(NOW - 86_400_000);
    expect(parseTime('1.5s', NOW)).toBe(NOW - 1_500);
  });

  it('reads relative times with a minus sign the same way', () => {
    expect(parseTime('-5m', NOW)).toBe(NOW - 300_000);
    expect(parseTime('-500ms', NOW)).toBe(NOW - 500);
    expect(parseTime('- 2h', NOW)).toBe(NOW - 7_200_000);
  });

  it('refuses anything else with the accepted forms', () => {
    const help = 'use ISO 8601 (2026-11-22T16:00:00Z), epoch ms ("1795000000000") or a time relative to now like "-5m" (-500ms, -30s, -5m, -2h, -1d)';
    expect(() => parseTime('yesterday', NOW)).toThrow(`cannot read time "yesterday": ${help}`);
    expect(() => parseTime('5 minutes', NOW)).toThrow('cannot read time "5 minutes"');
    expect(() => parseTime('March 7', NOW)).toThrow('cannot read time "March 7"');
    expect(() => parseTime('2026-13-45', NOW)).toThrow('cannot read time "2026-13-45"');
    expect(() => parseTime('+5m', NOW)).toThrow('cannot read time "+5m"');
    expect(() => parseTime(-1, NOW)).toThrow(`cannot read time -1: ${help}`);
    expect(() => parseTime(NaN, NOW)).toThrow('cannot read time NaN');
  });
});

describe('parseWindow', () => {
  it('parses both ends, leaving absent ones open', () => {
    expect(parseWindow('5m', undefined, NOW)).toEqual({ sinceMs: NOW - 300_000, untilMs: null });
    expect(parseWindow(undefined, '2026-11-22T16:59:00Z', NOW)).toEqual({ sinceMs: null, untilMs: NOW - 60_000 });
    expect(parseWindow(undefined, undefined, NOW)).toEqual({ sinceMs: null, untilMs: null });
  });

  it('names the argument that is wrong, and refuses an inverted window', () => {
    expect(() => parseWindow('soon', undefined, NOW)).toThrow(/^since: cannot read time "soon": use ISO 8601/);
    expect(() => parseWindow(undefined, 'x', NOW)).toThrow(/^until: cannot read time "x"/);
    expect(() => parseWindow('1m', '5m', NOW)).toThrow('since (2026-11-22T16:59:00.000Z) is after until (2026-11-22T16:55:00.000Z): swap them');
  });

  it('describes a window for answers', () => {
    expect(describeWindow({ sinceMs: NOW, untilMs: null })).toBe(' since 2026-11-22T17:00:00.000Z');
    expect(describeWindow({ sinceMs: NOW - 1000, untilMs: NOW })).toBe(' since 2026-11-22T16:59:59.000Z until 2026-11-22T17:00:00.000Z');
    expect(describeWindow({ sinceMs: null, untilMs: null })).toBe('');
  });
});
