// Private folders of this nodescope process in the OS temp folder: `<tmp>/<prefix><pid>-XXXXXX`, 0700
// (mkdtemp). Each is removed when its owner closes; the folders of nodescope processes that no longer run
// (killed before they could remove theirs) are removed whenever a new one is made.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function privateDir(prefix: string): string {
  sweepStale(prefix);
  return mkdtempSync(join(tmpdir(), `${prefix}${process.pid}-`));
}

function sweepStale(prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    try {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    } catch {
      // another user's, or gone meanwhile
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A private file for a trace that is not persisted (better-sqlite3 cannot share a `:memory:` database with the
 * writer thread): `<tmp>/nodescope-db-<pid>-XXXXXX/trace.db`, deleted at close.
 */
export function privateTraceFile(): { dir: string; path: string } {
  const dir = privateDir('nodescope-db-');
  return { dir, path: join(dir, 'trace.db') };
}
