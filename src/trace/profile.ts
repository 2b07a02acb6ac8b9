// cpu_profile: V8's sampling profiler on one thread for a bounded time. The full profile is saved as a
// .cpuprofile file (it opens in Chrome DevTools) where the caller says; the answer summarizes the top functions.
import type { Protocol } from 'devtools-protocol';
import type { CdpSession } from './cdp.js';
import { pathOf, sourceMaps, type SourceMaps } from './sourcemaps.js';

export const MAX_PROFILE_MS = 60_000;

export interface ProfileFunction {
  function: string;
  url: string;
  line: number;
  /** Where V8 ran it, when that is generated code mapped to \`url\`:\`line\` through a source map. */
  generated?: string;
  self_ms: number;
  total_ms: number;
  self_pct: number;
}

export interface ProfileSummary {
  file: string;
  duration_ms: number;
  samples: number;
  top_self: ProfileFunction[];
  top_total: ProfileFunction[];
}

/** Saves the profile's JSON text; answers the path of the file written. */
export type SaveProfile = (json: string) => string;

export async function cpuProfile(
  session: CdpSession,
  durationMs: number,
  save: SaveProfile,
  onProgress?: (elapsedMs: number) => void,
  beforeSummary?: (profile: Protocol.Profiler.Profile) => Promise<void>,
): Promise<ProfileSummary> {
  const ms = Math.max(10, Math.min(durationMs, MAX_PROFILE_MS));
  await session.send('Profiler.enable');
  try {
    await session.send('Profiler.setSamplingInterval', { interval: 100 });
    await session.send('Profiler.start');
    const started = Date.now();
    while (Date.now() - started < ms) {
      await new Promise((r) => setTimeout(r, Math.min(250, ms - (Date.now() - started))));
      onProgress?.(Date.now() - started);
    }
    const { profile } = await session.send('Profiler.stop');
    const file = save(JSON.stringify(profile));
    await beforeSummary?.(profile).catch(() => undefined);
    return { file, ...summarize(profile) };
  } finally {
    await session.send('Profiler.disable').catch(() => undefined);
  }
}

/** Self time per function from the samples; total time adds the self time of everything below it. */
export function summarize(profile: Protocol.Profiler.Profile, top = 10, maps: SourceMaps = sourceMaps): Omit<ProfileSummary, 'file'> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  for (const id of profile.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
  const samples = profile.samples?.length ?? 0;
  const duration = (profile.endTime - profile.startTime) / 1000;
  const perSample = samples > 0 ? duration / samples : 0;
  const totals = new Map<number, number>();
  const total = (id: number): number => {
    const known = totals.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const t = (hits.get(id) ?? 0) + (node.children ?? []).reduce((sum, c) => sum + total(c), 0);
    totals.set(id, t);
    return t;
  };
  // Merge nodes of the same function (it appears under several callers); total time counts a function once
  // per stack, so recursive frames below it are not added twice.
  const functions = new Map<string, ProfileFunction>();
  const visit = (id: number, onStack: Set<string>) => {
    const node = byId.get(id)!;
    const f = node.callFrame;
    const key = `${f.functionName}|${f.url}|${f.lineNumber}`;
    let entry = functions.get(key);
    if (!entry) functions.set(key, (entry = locate({ function: f.functionName || '(anonymous)', url: f.url, line: f.lineNumber + 1, self_ms: 0, total_ms: 0, self_pct: 0 }, f.columnNumber + 1, maps)));
    entry.self_ms += (hits.get(id) ?? 0) * perSample;
    if (!onStack.has(key)) entry.total_ms += total(id) * perSample;
    const next = new Set(onStack).add(key);
    for (const c of node.children ?? []) visit(c, next);
  };
  visit(profile.nodes[0]!.id, new Set());
  const round = (x: number) => Math.round(x * 100) / 100;
  const all = [...functions.values()]
    // The thread's idle time and V8's bookkeeping are not functions anyone can change.
    .filter((f) => !['(root)', '(program)', '(idle)'].includes(f.function))
    .map((f) => ({ ...f, self_ms: round(f.self_ms), total_ms: round(f.total_ms), self_pct: duration > 0 ? round((100 * f.self_ms) / duration) : 0 }));
  return {
    duration_ms: round(duration),
    samples,
    top_self: [...all].sort((a, b) => b.self_ms - a.self_ms).slice(0, top),
    top_total: [...all].sort((a, b) => b.total_ms - a.total_ms).slice(0, top),
  };
}

/** A function's location in the original source, when its script has a source map (TypeScript, bundles). */
function locate(entry: ProfileFunction, column: number, maps: SourceMaps): ProfileFunction {
  if (!entry.url) return entry;
  const o = maps.original(entry.url, entry.line, column);
  if (!o) return entry;
  return { ...entry, url: o.source, line: o.line, generated: `${pathOf(entry.url) ?? entry.url}:${entry.line}` };
}
