// The bearer token of `nodescope serve --http`: whoever holds it can drive tools that attach to, profile and
// (with --allow-evaluate) run code in processes, so it lives in a file only its owner can read.
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const TOKEN_ENV = 'NODESCOPE_TOKEN';

/**
 * `~/.nodescope/token-<port>`: one file per server, named by the port it listens on, so two servers never
 * overwrite each other's token, and a client finds the file from the URL alone (persisted or not).
 */
export function tokenFile(port: number | string): string {
  return join(homedir(), '.nodescope', `token-${port}`);
}

/** The token file a client of `url` reads: the port in the URL, or the scheme's default. */
export function tokenFileFor(url: URL): string {
  return tokenFile(url.port || (url.protocol === 'https:' ? 443 : 80));
}

/** Removes the file when the server ends, unless another server has written its own token there since. */
export function removeTokenFile(file: string, token: string): void {
  try {
    if (readFileSync(file, 'utf8').trim() === token) rmSync(file, { force: true });
  } catch {
    // already gone
  }
}

/** The server's token: NODESCOPE_TOKEN if set, else 32 random bytes (256 bits) as hex. */
export function serverToken(env: NodeJS.ProcessEnv = process.env): { token: string; fromEnv: boolean } {
  const fromEnv = env[TOKEN_ENV]?.trim();
  return fromEnv ? { token: fromEnv, fromEnv: true } : { token: randomBytes(32).toString('hex'), fromEnv: false };
}

export function writeTokenFile(file: string, token: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // `mode` applies only when the file is created; the chmod also covers a file left by an earlier run,
  // and happens before the token is written into it.
  const fd = openSync(file, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
}

/** The token a client should send: an explicit one, NODESCOPE_TOKEN, or the file a server wrote. */
export function clientToken(explicit: string | undefined, file: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit) return explicit;
  if (env[TOKEN_ENV]?.trim()) return env[TOKEN_ENV]!.trim();
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
