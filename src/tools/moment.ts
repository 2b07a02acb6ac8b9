// Arguments naming one moment (time travel), shared so that their names and docs stay the same everywhere.
import { z } from 'zod';
import { parseTime } from '../query/time.js';

export const moment = (what: string) =>
  z.union([z.string(), z.number()]).describe(`${what}: ISO 8601 (2026-11-22T16:00:00.005Z), epoch ms, or a duration meaning that long before now (30s, 5m)`);

/** A moment argument → wall-clock ms; the error names the argument. */
export function parseMoment(name: string, value: string | number): number {
  try {
    return parseTime(value);
  } catch (error) {
    throw new Error(`${name}: ${(error as Error).message}`);
  }
}

/** Two moments in order, or an error that says to swap them. */
export function parseSpan(first: [string, string | number], second: [string, string | number]): [number, number] {
  const a = parseMoment(...first);
  const b = parseMoment(...second);
  if (a > b) throw new Error(`${first[0]} (${new Date(a).toISOString()}) is after ${second[0]} (${new Date(b).toISOString()}): swap them`);
  return [a, b];
}
