// Locations in the source a person reads. V8 reports generated JavaScript (tsc output, tsx's in-memory
// transform); this maps (url, line, column) to (source, line, column, name) through the script's source map,
// on the host only: the target pays nothing. Maps come from the generated file on disk (a `.map` next to it
// or an inline `data:` URL in its `sourceMappingURL` comment) or, for code transformed in memory (tsx), from
// the `sourceMapURL` the inspector announces with the script. Node's own type stripping keeps positions, and
// its .ts paths are already in the stacks: nothing to map there.
import { AGENT_SOURCE_URL } from '../shared/protocol.js';
import { BODY_NAME, withoutTracerFrames } from '../shared/stacks.js';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { allGeneratedPositionsFor, GREATEST_LOWER_BOUND, LEAST_UPPER_BOUND, originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';

export interface OriginalLocation {
  /** Absolute path of the original file (a URL when the map names one that is not a file). */
  source: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
  name: string | null;
}

export interface GeneratedLocation {
  /** The script as the inspector names it (a file:// URL or a path). */
  url: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
}

/** Maps bigger than this are not read: a minified bundle's map can be tens of MB. */
const MAX_MAP_BYTES = 20 * 1024 * 1024;

/** A file path from a script URL or path; undefined for node:internal, eval code and the like. */
export function pathOf(url: string): string | undefined {
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch {
      return undefined;
    }
  }
  return isAbsolute(url) ? url : undefined;
}

function decodeDataUrl(url: string): string | undefined {
  const comma = url.indexOf(',');
  if (comma < 0) return undefined;
  const head = url.slice(5, comma);
  const body = url.slice(comma + 1);
  return head.endsWith(';base64') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body);
}

/** The last `sourceMappingURL` comment of a script's text. */
export function sourceMappingUrlOf(text: string): string | undefined {
  const at = text.lastIndexOf('sourceMappingURL=');
  if (at < 0) return undefined;
  const before = text.slice(Math.max(0, at - 4), at);
  if (!/[/*]\s*[#@]\s*$/.test(before) && !/\/\/[#@]$/.test(before)) return undefined;
  const m = /^sourceMappingURL=(\S+)/.exec(text.slice(at));
  return m?.[1];
}

export class SourceMaps {
  /** By script path or URL: the map, or null when the script has none. */
  private readonly maps = new Map<string, TraceMap | null>();
  /** sourceMapURL announced by the inspector for scripts whose text is not on disk as it ran (tsx). */
  private readonly announced = new Map<string, string>();

  /** The inspector's scriptParsed said this script has a map (inline or a URL relative to the script). */
  announce(url: string, sourceMapURL: string): void {
    if (!sourceMapURL || this.announced.get(url) === sourceMapURL) return;
    this.announced.set(url, sourceMapURL);
    this.maps.delete(key(url));
  }

  /** Scripts announced with a map, for looking up which one was generated from a source. */
  announcedScripts(): string[] {
    return [...this.announced.keys()];
  }

  /**
   * The map of a script, or null. `fromDiskOnly`: ignore maps the inspector announced — for stack text,
   * which Node already maps itself when source maps are enabled (tsx turns them on), so a position in a
   * file without a map on disk is an original position already.
   */
  mapFor(url: string, fromDiskOnly = false): TraceMap | null {
    const k = key(url);
    const announced = this.announced.get(url) ?? this.announced.get(pathToFileURL(k).href) ?? this.announced.get(k);
    if (fromDiskOnly && announced) return this.load(k, undefined);
    if (this.maps.has(k)) return this.maps.get(k)!;
    const map = this.load(k, announced);
    this.maps.set(k, map);
    return map;
  }

  private readonly disk = new Map<string, TraceMap | null>();

  private load(path: string, announced: string | undefined): TraceMap | null {
    if (announced) return this.parse(announced, path);
    if (this.disk.has(path)) return this.disk.get(path)!;
    let map: TraceMap | null = null;
    try {
      if (!/\.[cm]?jsx?$/.test(path)) throw new Error('not JavaScript');
      const text = readFileSync(path, 'utf8');
      const ref = sourceMappingUrlOf(text);
      if (ref) map = this.parse(ref, path);
    } catch {
      map = null;
    }
    this.disk.set(path, map);
    return map;
  }

  private parse(ref: string, scriptPath: string): TraceMap | null {
    try {
      if (ref.startsWith('data:')) {
        const json = decodeDataUrl(ref);
        return json ? new TraceMap(json, pathToFileURL(scriptPath).href) : null;
      }
      const mapPath = ref.startsWith('file://') ? fileURLToPath(ref) : resolve(dirname(scriptPath), decodeURIComponent(ref));
      const text = readFileSync(mapPath, 'utf8');
      if (text.length > MAX_MAP_BYTES) return null;
      return new TraceMap(text, pathToFileURL(mapPath).href);
    } catch {
      return null;
    }
  }

  /** The original location of a generated one (1-based line and column), if the script has a map. */
  original(url: string, line: number, column: number, fromDiskOnly = false): OriginalLocation | undefined {
    const map = this.mapFor(url, fromDiskOnly);
    if (!map) return undefined;
    let o = originalPositionFor(map, { line, column: Math.max(0, column - 1), bias: GREATEST_LOWER_BOUND });
    if (o.source === null) o = originalPositionFor(map, { line, column: Math.max(0, column - 1), bias: LEAST_UPPER_BOUND });
    if (o.source === null) return undefined;
    return { source: sourcePath(o.source), line: o.line, column: o.column + 1, name: o.name };
  }

  /** Sources of a script's map, as absolute paths. */
  sources(url: string): string[] {
    const map = this.mapFor(url);
    return map ? map.resolvedSources.map(sourcePath) : [];
  }

  /**
   * Where an original line runs in a generated script: the first mapped position of that line, or of the
   * next line that has code (up to 20 lines on: a comment or blank line has none).
   */
  generated(url: string, source: string, line: number): { location: GeneratedLocation; originalLine: number } | undefined {
    const map = this.mapFor(url);
    if (!map) return undefined;
    const name = map.resolvedSources.find((s) => sourcePath(s) === source);
    if (name === undefined) return undefined;
    for (let l = line; l < line + 20; l++) {
      const all = allGeneratedPositionsFor(map, { source: name, line: l, column: 0, bias: LEAST_UPPER_BOUND });
      const found = all.length ? all : allGeneratedPositionsFor(map, { source: name, line: l, column: Number.MAX_SAFE_INTEGER, bias: GREATEST_LOWER_BOUND });
      const onLine = found.filter((g) => g.line !== null);
      if (onLine.length === 0) continue;
      onLine.sort((a, b) => a.line - b.line || a.column - b.column);
      const first = onLine[0]!;
      return { location: { url, line: first.line, column: first.column + 1 }, originalLine: l };
    }
    return undefined;
  }

  /**
   * A V8 stack text with every frame in a mapped script rewritten to its original location, as Node's
   * --enable-source-maps prints it: `at charge (/app/src/payments.ts:12:11)`. Only maps found on disk
   * are used (see mapFor).
   */
  mapStack(stack: string): string {
    if (!stack.includes(':')) return stack;
    let changed = false;
    const lines = stack.split('\n').map((text) => {
      const m = FRAME.exec(text);
      if (!m) return text;
      const o = this.original(m[2]!, Number(m[3]), Number(m[4]), true);
      if (!o) return text;
      changed = true;
      return `${m[1]}${o.source}:${o.line}:${o.column}${m[5]}`;
    });
    return changed ? lines.join('\n') : stack;
  }
}

/** `    at fn (/x/y.js:3:9)` or `    at /x/y.js:3:9` or `at fn (file:///x/y.mjs:3:9)`. */
const FRAME = /^(\s*at (?:.*\()?)((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)(\)?)\s*$/;

function key(url: string): string {
  return pathOf(url) ?? url;
}

function sourcePath(source: string): string {
  return source.startsWith('file://') ? (pathOf(source) ?? source) : source;
}

/** `/app/src/payments.ts:12:11` → `src/payments.ts:12:11` relative to `cwd` when below it. */
export function shortPath(path: string, cwd?: string): string {
  const p = pathOf(path) ?? path;
  return cwd && p.startsWith(`${cwd}/`) ? p.slice(cwd.length + 1) : p;
}

/** One registry for the host: maps are per file, the same in every thread and process. */
export const sourceMaps = new SourceMaps();

/**
 * Rewrites the locations in a captured payload before it is stored: the stack text of every captured Error
 * (`{ $t: "Error", stack }`) found within a few levels, and the frames of a probe hit. Called by the ingest
 * for the event types that carry errors.
 */
export function mapPayloadLocations(payload: unknown, maps: SourceMaps = sourceMaps, depth = 0): void {
  if (payload === null || typeof payload !== 'object' || depth > 4) return;
  if (Array.isArray(payload)) {
    for (const item of payload) mapPayloadLocations(item, maps, depth + 1);
    return;
  }
  const o = payload as Record<string, unknown>;
  if (o.$t === 'Error' && typeof o.stack === 'string') o.stack = maps.mapStack(withoutTracerFrames(o.stack));
  for (const k in o) if (k !== 'stack' && o[k] !== null && typeof o[k] === 'object') mapPayloadLocations(o[k], maps, depth + 1);
}

type Frame = [fn: string, url: string, line: number, column: number];
const isAgentFrame = (f: unknown) => Array.isArray(f) && f[1] === AGENT_SOURCE_URL;

/**
 * A probe hit's frames ([fn, url, line, column], generated, 1-based) as mapped frame text, as the program
 * would have them untraced (the same rule as withoutTracerFrames): the agent's frames left out, and the body
 * of a function instrumented in place named as the function, whose own frame then goes.
 */
export function mapFrames(frames: unknown, maps: SourceMaps = sourceMaps): string[] {
  if (!Array.isArray(frames)) return [];
  const out: string[] = [];
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i] as unknown;
    if (!Array.isArray(f)) {
      out.push(String(f));
      continue;
    }
    if (isAgentFrame(f)) continue;
    let [fn, url, line, column] = f as Frame;
    if (fn === BODY_NAME) {
      let j = i + 1;
      while (j < frames.length && isAgentFrame(frames[j])) j++;
      if (Array.isArray(frames[j])) [fn, i] = [(frames[j] as Frame)[0], j];
    }
    const o = typeof url === 'string' && typeof line === 'number' ? maps.original(url, line, column ?? 1) : undefined;
    const where = o ? `${o.source}:${o.line}:${o.column}` : `${pathOf(url ?? '') ?? url}:${line}:${column}`;
    out.push(`${fn || '<anonymous>'} (${where})`);
  }
  return out;
}

/** The ingest's hook (Ingest.locate): errors' stacks and probe hits' frames, mapped before they are stored. */
export function locateEvent(type: string, payload: unknown): void {
  if (type === 'probe') {
    const p = payload as { stack?: unknown } | null;
    if (p && Array.isArray(p.stack)) p.stack = mapFrames(p.stack);
  }
  mapPayloadLocations(payload);
}
