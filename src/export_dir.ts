// Where export_trace may write. A server that runs as root and takes a path from a model must not become a
// way to overwrite /etc/passwd: files go only below one folder nodescope owns, are created exclusively
// (O_EXCL: never over a file someone else made, never through a symlink, dangling or not), and a folder on
// the way that is a symlink or belongs to someone else is refused.
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** O_NOFOLLOW where the platform has it (not on Windows, where O_EXCL still refuses existing links). */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * The default folder: next to the persisted trace (or the trace file read with --db), else a folder of this
 * user's own in the OS temp folder (which everyone can write, hence the per-user folder, checked below).
 */
export function defaultExportDir(options: { persist: boolean; persist_path: string; db?: string }): { dir: string; owned: string[] } {
  if (options.db) return { dir: join(dirname(resolve(options.db)), 'nodescope-exports'), owned: [] };
  if (options.persist) return { dir: join(dirname(resolve(options.persist_path)), 'nodescope-exports'), owned: [] };
  const mine = join(tmpdir(), `nodescope-${process.getuid?.() ?? 'user'}`);
  return { dir: join(mine, 'exports'), owned: [mine] };
}

export class ExportDir {
  private base: string | undefined;
  /** Files this nodescope created, by path: the only ones it may write again (same device and inode). */
  private readonly created = new Map<string, { dev: number; ino: number }>();

  /** `owned`: folders above `dir` that must also be real folders of this user (the shared temp folder's). */
  constructor(
    readonly dir: string,
    private readonly owned: string[] = [],
  ) {}

  /** Writes `text` to `name` below the folder (a fresh timestamped name when none is given); answers the path. */
  write(name: string | undefined, text: string, fallback: string): string {
    const base = this.root();
    const file = this.target(base, name ?? fallback);
    const parts = relative(base, dirname(file)).split(sep).filter(Boolean);
    let dir = base;
    for (const part of parts) {
      dir = join(dir, part);
      makeDir(dir);
      checkDir(dir, 'a folder on the way');
    }
    const known = this.created.get(file);
    let fd: number;
    try {
      fd = known ? openSync(file, constants.O_WRONLY | NOFOLLOW) : openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new Error(`${file} already exists and nodescope did not write it: it is never overwritten; choose another path`);
      if (code === 'ELOOP') throw new Error(`${file} is a symbolic link: nodescope does not write through links; choose another path`);
      throw error;
    }
    try {
      const st = fstatSync(fd);
      if (known && (st.dev !== known.dev || st.ino !== known.ino)) throw new Error(`${file} was replaced since nodescope wrote it: it is not overwritten; choose another path`);
      if (!st.isFile()) throw new Error(`${file} is not a regular file`);
      if (known) ftruncateSync(fd, 0);
      writeFileSync(fd, text);
      this.created.set(file, { dev: st.dev, ino: st.ino });
    } finally {
      closeSync(fd);
    }
    return file;
  }

  /** The folder, created if missing (mode 0700), checked once: a real folder, this user's, not writable by others. */
  private root(): string {
    if (this.base) return this.base;
    for (const d of [...this.owned, this.dir]) {
      makeDir(d, true);
      checkDir(d, 'the export folder');
    }
    this.base = realpathSync(this.dir);
    return this.base;
  }

  private target(base: string, name: string): string {
    const where = `export_trace writes only below ${base} (export_dir)`;
    if (name.trim() === '' || name.includes('\0')) throw new Error(`"${name}" is not a file name; ${where}`);
    if (name.split(/[\\/]/).includes('..')) throw new Error(`"${name}" climbs out with "..": ${where}; give a name like "run.trace.json"`);
    const file = isAbsolute(name) ? resolve(name) : resolve(base, name);
    const rel = relative(base, file);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`"${name}" is outside the export folder: ${where}; give a name like "run.trace.json"`);
    return file;
  }
}

function makeDir(dir: string, recursive = false): void {
  try {
    mkdirSync(dir, { recursive, mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function checkDir(dir: string, what: string): void {
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) throw new Error(`${what} ${dir} is a symbolic link: refused, as a link can point anywhere; set export_dir to a real folder`);
  if (!st.isDirectory()) throw new Error(`${what} ${dir} is not a folder; set export_dir to one`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`${what} ${dir} belongs to uid ${st.uid}, not to this user (${uid}): refused; set export_dir to a folder of your own`);
  if (process.platform !== 'win32' && st.mode & 0o002) throw new Error(`${what} ${dir} is writable by everyone: refused; set export_dir to a folder only you can write`);
}
