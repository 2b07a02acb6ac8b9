// Recursive diff of two captured states. Plain objects (and class instances, `$class`) and arrays are
// walked; serializer markers (`{"$t": …}`: Map, Date, capped arrays, cut values…) compare as leaves, since
// their inner shape is an encoding, not the user's structure. Arrays are compared index by index: a state's
// arrays are usually append-only lists, where this reads naturally ("+ items[3]").
import { isMarker, renderValue, showKey, unescapeKey } from './format.js';

export type ChangeKind = 'changed' | 'added' | 'removed';

export interface Change {
  /** `total`, `items[2].qty`, `meta["a b"]`; empty for the whole state. */
  path: string;
  kind: ChangeKind;
  before?: unknown;
  after?: unknown;
}

export function diffStates(before: unknown, after: unknown): Change[] {
  const out: Change[] = [];
  walk(before, after, '', out);
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isMarker(v);
}

function keyPath(path: string, key: string): string {
  const k = unescapeKey(key);
  const shown = showKey(k);
  return shown === k ? (path ? `${path}.${k}` : k) : `${path}[${shown}]`;
}

function walk(a: unknown, b: unknown, path: string, out: Change[]): void {
  if (isRecord(a) && isRecord(b)) {
    for (const k of Object.keys(a)) {
      if (!Object.hasOwn(b, k)) out.push({ path: keyPath(path, k), kind: 'removed', before: a[k] });
      else walk(a[k], b[k], keyPath(path, k), out);
    }
    for (const k of Object.keys(b)) if (!Object.hasOwn(a, k)) out.push({ path: keyPath(path, k), kind: 'added', after: b[k] });
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const common = Math.min(a.length, b.length);
    for (let i = 0; i < common; i++) walk(a[i], b[i], `${path}[${i}]`, out);
    for (let i = common; i < b.length; i++) out.push({ path: `${path}[${i}]`, kind: 'added', after: b[i] });
    for (let i = common; i < a.length; i++) out.push({ path: `${path}[${i}]`, kind: 'removed', before: a[i] });
    return;
  }
  if (!equal(a, b)) out.push({ path, kind: 'changed', before: a, after: b });
}

/** Structural equality of JSON values (key order ignored). */
export function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => equal(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao);
  return keys.length === Object.keys(bo).length && keys.every((k) => Object.hasOwn(bo, k) && equal(ao[k], bo[k]));
}

/** `items[2].qty: 1 → 3`, `+ items[3]: {…}`, `- coupon`. */
export function renderChange(c: Change): string {
  const path = c.path || '(whole state)';
  if (c.kind === 'added') return `+ ${path}: ${renderValue(c.after)}`;
  if (c.kind === 'removed') return `- ${path}`;
  return `${path}: ${renderValue(c.before)} → ${renderValue(c.after)}`;
}
