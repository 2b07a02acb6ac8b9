// Arguments naming one moment (time travel), shared so that their names and docs stay the same everywhere.
import { z } from 'zod';
import { parseTime } from '../query/time.js';

export const moment = (what: string) => z.string().min(1).describe(`${what}: ISO 8601, epoch ms, or relative to now (-30s)`);

/** A moment argument → wall-clock ms; the error names the argument. */
export function parseMoment(name: string, value: string): number {
  try {
    return parseTime(value);
  } catch (error) {
    throw new Error(`${name}: ${(error as Error).message}`);
  }
}

/** Two moments in order, or an error that says to swap them. */
export function parseSpan(first: [string, string], second: [string, string]): [number, number] {
  const a = parseMoment(...first);
  const b = parseMoment(...second);
  if (a > b) throw new Error(`${first[0]} (${new Date(a).toISOString()}) is after ${second[0]} (${new Date(b).toISOString()}): swap them`);
  return [a, b];
}
