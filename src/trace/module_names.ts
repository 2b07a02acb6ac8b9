// Module names as people say them, resolved against what the target has loaded: a path relative to its
// working directory or to its main script's folder, an absolute path, a file:// URL, a unique suffix or
// basename of a loaded module ("payments.cjs", "src/payments.ts"), the TypeScript source of a loaded
// compiled file (through its source map), or else a package name left to the target's own resolver.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { pathOf, sourceMaps } from './sourcemaps.js';

export type Resolution =
  /** `source`: the TypeScript file named, when `file` is the loaded JavaScript compiled from it. */
  | { kind: 'found'; file: string; source?: string }
  | { kind: 'ambiguous'; candidates: string[] }
  | { kind: 'package' }
  | { kind: 'not_found'; closest: string[] };

export interface Loaded {
  /** Absolute paths of the modules loaded in any traced thread. */
  files: string[];
  /** Folders a relative name is tried from: the target's working directory, its main script's folder. */
  roots: string[];
}

const EXTENSIONS = ['', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '/index.js', '/index.mjs', '/index.ts'];

const isFile = (p: string) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

export function resolveModuleName(name: string, loaded: Loaded): Resolution {
  const files = [...new Set(loaded.files)];
  const isLoaded = new Set(files);
  const pick = (paths: string[]): Resolution | undefined => {
    const unique = [...new Set(paths)];
    const live = unique.filter((p) => isLoaded.has(p));
    const chosen = live.length > 0 ? live : unique;
    if (chosen.length === 1) return found(chosen[0]!, files);
    if (chosen.length > 1) return { kind: 'ambiguous', candidates: chosen.sort() };
    return undefined;
  };

  if (name.startsWith('file:')) {
    const path = pathOf(name);
    return path ? found(path, files) : { kind: 'not_found', closest: closest(name, files) };
  }
  if (isAbsolute(name)) return pick(withExtensions(name).filter((p) => isLoaded.has(p) || isFile(p))) ?? { kind: 'not_found', closest: closest(name, files) };

  // A bare name of an installed package means the package, as require() reads it: not the file of that
  // name in the main script's folder, which is the package's own command-line script when the program was
  // started through it (npx http-server runs node_modules/http-server/bin/http-server).
  if (isPackageName(name) && loaded.roots.some((root) => hasPackage(root, name))) return { kind: 'package' };
  const relative = loaded.roots.flatMap((root) => withExtensions(resolve(root, name))).filter((p) => isLoaded.has(p) || isFile(p));
  const byPath = pick(relative);
  if (byPath?.kind === 'found' || name.startsWith('.')) return byPath ?? { kind: 'not_found', closest: closest(name, files) };

  // A suffix or basename of a loaded module, on whole path segments.
  const tail = name.replace(/^\/+/, '');
  const suffix = files.filter((f) => withExtensions(tail).some((t) => f === t || f.endsWith(sep + t)));
  const bySuffix = pick(suffix.length > 0 ? suffix : relative);
  if (bySuffix) return bySuffix;
  // The TypeScript source of a loaded compiled file, named by a suffix ("src/payments.ts").
  const named = (s: string) => s === tail || s.endsWith(sep + tail);
  const own = files.filter((f) => !f.includes(`${sep}node_modules${sep}`));
  const mapped = own.filter((f) => sourcesOf(f).some(named));
  if (mapped.length === 1) return { kind: 'found', file: mapped[0]!, source: sourcesOf(mapped[0]!).find(named) };
  if (mapped.length > 1) return { kind: 'ambiguous', candidates: mapped.sort() };
  // The TypeScript source of a file not loaded yet, named from the folders of the loaded sources.
  const sourceDirs = [...new Set(own.flatMap(sourcesOf).flatMap((s) => ancestors(dirname(s))))];
  const unloaded = pick(sourceDirs.map((dir) => resolve(dir, name)).filter((p) => /\.[cm]?tsx?$/.test(p) && isFile(p)));
  if (unloaded) return unloaded;
  if (isPackageName(name)) return { kind: 'package' };
  return { kind: 'not_found', closest: closest(name, files) };
}

/**
 * The command-line scripts of the installed package a module belongs to (`bin` of its package.json), when
 * it is that package's: they are other modules, named by their paths.
 */
export function packageBins(name: string, file: string): string[] {
  const pkg = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!;
  const at = file.lastIndexOf(`${sep}node_modules${sep}${pkg}${sep}`);
  if (!isPackageName(name) || at < 0) return [];
  const dir = file.slice(0, at + `${sep}node_modules${sep}${pkg}`.length);
  try {
    const bin = JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8')).bin;
    const paths = typeof bin === 'string' ? [bin] : bin && typeof bin === 'object' ? Object.values(bin) : [];
    return paths.filter((p): p is string => typeof p === 'string').map((p) => resolve(dir, p)).filter((p) => p !== file);
  } catch {
    return [];
  }
}

const isPackageName = (name: string) => /^(@[\w.-]+\/)?[\w.-]+(\/[\w.-]+)*$/.test(name) && !/\.[cm]?[jt]s$/.test(name);

/** A package of that name installed where the target resolves from (node_modules in a folder above). */
function hasPackage(root: string, name: string): boolean {
  const pkg = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!;
  for (let dir = root; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'node_modules', pkg, 'package.json'))) return true;
    if (dirname(dir) === dir) return false;
  }
}

function withExtensions(path: string): string[] {
  return EXTENSIONS.map((ext) => path + ext);
}

function found(path: string, loaded: string[]): Resolution {
  const compiled = compiledFrom(path, loaded);
  return compiled ? { kind: 'found', file: compiled, source: path } : { kind: 'found', file: path };
}

/**
 * A file named by its TypeScript source: the loaded compiled file whose source map lists it; else, not
 * loaded yet, the file it compiles to where the loaded ones say (src/app.ts → dist/app.js puts src/rates.ts
 * at dist/rates.js), if that file's map lists it: its trace then waits for that file.
 */
function compiledFrom(file: string, loaded: string[]): string | undefined {
  if (loaded.includes(file) || !/\.[cm]?tsx?$/.test(file)) return undefined;
  const own = loaded.filter((f) => !f.includes(`${sep}node_modules${sep}`));
  const compiled = own.find((f) => sourcesOf(f).includes(file));
  if (compiled) return compiled;
  const js = file.replace(/\.([cm]?)tsx?$/, '.$1js');
  const siblings = own.flatMap((f) => sourcesOf(f).map((s) => resolve(dirname(f), relative(dirname(s), js))));
  return [...new Set(siblings)].find((f) => isFile(f) && sourcesOf(f).includes(file));
}

/** A folder and those above it, up to (not including) the file system's root. */
function ancestors(dir: string): string[] {
  const all: string[] = [];
  for (let d = dir; dirname(d) !== d; d = dirname(d)) all.push(d);
  return all;
}

/** Absolute paths of the sources a compiled file's source map names (a .map file or an inline map). */
function sourcesOf(file: string): string[] {
  return /\.[cm]?js$/.test(file) ? sourceMaps.sources(file) : [];
}

/** Loaded modules whose names are closest to what was asked for, for a not-found answer. */
function closest(name: string, files: string[]): string[] {
  const want = basename(name).toLowerCase();
  const own = files.filter((f) => !f.includes(`${sep}node_modules${sep}`) || name.includes('node_modules'));
  return own
    .map((f) => ({ f, d: distance(want, basename(f).toLowerCase()) }))
    .sort((a, b) => a.d - b.d || a.f.localeCompare(b.f))
    .slice(0, 5)
    .map((x) => x.f);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = next;
    }
  }
  return row[b.length]!;
}
