// Time arguments as models write them: ISO 8601, epoch milliseconds, or "the last 5 minutes" as `-5m` (or `5m`).
// Everything becomes wall-clock ms, because that is what a person or a log line knows; rows are filtered on
// `wall_ms` (ts_ns is a monotonic clock nobody outside the trace can name).

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const EPOCH = /^\d+(?:\.\d+)?$/;
/** `-5m`: a time relative to now, which can only be in the past. */
const RELATIVE = /^-\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
// A date first, so that Date.parse's lenient guesses ("March 7", "1") are not taken for ISO 8601.
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

export const TIME_HELP = 'use ISO 8601 (2026-11-22T16:00:00Z), epoch ms ("1795000000000") or a time relative to now like "-5m" (-500ms, -30s, -5m, -2h, -1d)';

/** A time argument → wall-clock ms. A duration means that long before `now`. */
export function parseTime(input: string | number, now: number = Date.now()): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input >= 0) return input;
    throw new Error(`cannot read time ${input}: ${TIME_HELP}`);
  }
  const text = input.trim();
  if (text.toLowerCase() === 'now') return now;
  const duration = DURATION.exec(text) ?? RELATIVE.exec(text);
  if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2]!]!;
  if (EPOCH.test(text)) return Number(text);
  if (ISO.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms;
  }
  throw new Error(`cannot read time "${input}": ${TIME_HELP}`);
}

export interface TimeWindow {
  sinceMs: number | null;
  untilMs: number | null;
}

/** `since` and `until` together; says which argument is wrong, and refuses an empty window. */
export function parseWindow(since: string | number | undefined, until: string | number | undefined, now: number = Date.now()): TimeWindow {
  const read = (name: string, v: string | number | undefined): number | null => {
    if (v === undefined || v === '') return null;
    try {
      return parseTime(v, now);
    } catch (error) {
      throw new Error(`${name}: ${(error as Error).message}`);
    }
  };
  const sinceMs = read('since', since);
  const untilMs = read('until', until);
  if (sinceMs !== null && untilMs !== null && sinceMs > untilMs) {
    throw new Error(`since (${new Date(sinceMs).toISOString()}) is after until (${new Date(untilMs).toISOString()}): swap them`);
  }
  return { sinceMs, untilMs };
}

/** " since … until …", for answers that say which window they covered. */
export function describeWindow(w: TimeWindow): string {
  const parts: string[] = [];
  if (w.sinceMs !== null) parts.push(`since ${new Date(w.sinceMs).toISOString()}`);
  if (w.untilMs !== null) parts.push(`until ${new Date(w.untilMs).toISOString()}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

/** The SQL condition for a window on `wall_ms` (named parameters :since, :until). */
export const WINDOW_SQL = '(:since IS NULL OR wall_ms >= :since) AND (:until IS NULL OR wall_ms <= :until)';

export function windowParams(w: TimeWindow): { since: number | null; until: number | null } {
  return { since: w.sinceMs, until: w.untilMs };
}

/** A duration argument ("10m", "30s", "1h") → milliseconds. */
export function parseDuration(input: string): number {
  const m = DURATION.exec(input.trim());
  if (!m) throw new Error(`cannot read duration "${input}": use a number with ms, s, m, h or d, like 10m`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}
