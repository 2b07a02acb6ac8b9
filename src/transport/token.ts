// The bearer token of `nodescope serve --http`: whoever holds it can drive tools that attach to, profile and
// (with --allow-evaluate) run code in processes, so it lives in a file only its owner can read.
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config.js';

export const TOKEN_ENV = 'NODESCOPE_TOKEN';

/** `~/.nodescope/token`, or `<persist_path>.token` when the trace is persisted (one token per trace file). */
export function tokenFile(config?: Pick<Config, 'persist' | 'persist_path'>): string {
  return config?.persist ? `${resolve(config.persist_path)}.token` : join(homedir(), '.nodescope', 'token');
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
