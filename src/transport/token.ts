// The bearer token of `nodescope serve --http`: whoever holds it can drive tools that attach to, profile and
// (with --allow-evaluate) run code in processes, so it lives in a file only its owner can read.
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, join } from 'node:path';

export const TOKEN_ENV = 'NODESCOPE_TOKEN';

/**
 * `~/.nodescope/token-<port>`: one file per server, named by the port it listens on, so two servers never
 * overwrite each other's token, and a client finds the file from the URL alone (persisted or not).
 */
export function tokenFile(port: number | string): string {
  return join(tokenDir(), `token-${port}`);
}

function tokenDir(): string {
  return join(homedir(), '.nodescope');
}

/**
 * `token-<port>.pid`, beside the token file: the pid and host of the server that wrote it, so a file left by
 * a server that was killed (SIGKILL: no exit handler runs) is known stale without probing its port. A file
 * of its own, so the token file stays the bare token that clients read (`Bearer $(cat …)`).
 */
export function pidFile(file: string): string {
  return `${file}.pid`;
}

/** The token file a client of `url` reads: the port in the URL, or the scheme's default. */
export function tokenFileFor(url: URL): string {
  return tokenFile(url.port || (url.protocol === 'https:' ? 443 : 80));
}

/** Removes the file when the server ends, unless another server has written its own token there since. */
export function removeTokenFile(file: string, token: string): void {
  if (read(pidFile(file))?.split(/\s+/)[0] === String(process.pid)) rmSync(pidFile(file), { force: true });
  if (read(file) === token) rmSync(file, { force: true });
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The pid of the server that wrote a token file, when its pid file names one on this host. */
function writerOf(file: string): number | undefined {
  const [pid, host] = read(pidFile(file))?.split(/\s+/) ?? [];
  // A home directory shared with another machine or container: its pids are not ours to judge.
  return /^\d+$/.test(pid ?? '') && host === hostname() ? Number(pid) : undefined;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes a token file (and its pid file) whose server no longer runs: that server's pid, or undefined when
 * the file is not known stale (its server runs, or no pid file says which it was). A reused pid keeps a
 * stale file until that process ends too: never a live server's file removed.
 */
export function removeIfStale(file: string): number | undefined {
  const pid = writerOf(file);
  if (pid === undefined || running(pid)) return undefined;
  // A server starting on that port now writes its pid file before its token: if it has, the files are its.
  if (writerOf(file) !== pid) return undefined;
  rmSync(file, { force: true });
  rmSync(pidFile(file), { force: true });
  return pid;
}

/** Removes the token files in ~/.nodescope of servers that no longer run (killed); the files removed. */
export function removeStaleTokenFiles(dir = tokenDir()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const files = names.filter((n) => /^token-\d+\.pid$/.test(n)).map((n) => join(dir, n.slice(0, -'.pid'.length)));
  return files.filter((f) => removeIfStale(f) !== undefined);
}

/** The server's token: NODESCOPE_TOKEN if set, else 32 random bytes (256 bits) as hex. */
export function serverToken(env: NodeJS.ProcessEnv = process.env): { token: string; fromEnv: boolean } {
  const fromEnv = env[TOKEN_ENV]?.trim();
  return fromEnv ? { token: fromEnv, fromEnv: true } : { token: randomBytes(32).toString('hex'), fromEnv: false };
}

export function writeTokenFile(file: string, token: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // The pid first: a server killed between the two leaves a pid file that says it is gone, never a token
  // file that nothing says is stale.
  writePrivate(pidFile(file), `${process.pid} ${hostname()}\n`);
  writePrivate(file, `${token}\n`);
}

function writePrivate(file: string, text: string): void {
  // `mode` applies only when the file is created; the chmod also covers a file left by an earlier run,
  // and happens before the token is written into it.
  const fd = openSync(file, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** The token a client should send: an explicit one, NODESCOPE_TOKEN, or the file a server wrote. */
export function clientToken(explicit: string | undefined, file: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit) return explicit;
  if (env[TOKEN_ENV]?.trim()) return env[TOKEN_ENV]!.trim();
  return read(file) || undefined;
}
