// Shared test plumbing: fixture processes spawned as plain `node <fixture>` (no flags), and tracers on an
// in-memory or temporary store. Every spawned process is killed after each test file.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { Store, type StoreOptions } from '../src/store/store.js';
import { DEFAULT_REDACT, Tracer, type TracerOptions } from '../src/trace/tracer.js';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

export interface Fixture {
  proc: ChildProcessWithoutNullStreams;
  pid: number;
  /** Resolves with the first stdout line matching `re` (from now on, or already seen). */
  line(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the next stdout line matching `re` that arrives from now on. */
  nextLine(re: RegExp, timeoutMs?: number): Promise<string>;
  send(command: string): void;
  /** Everything it printed on stdout so far, exactly. */
  stdout(): string;
  /** Every stdout line so far. */
  lines(): string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const spawned: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  // Each fixture leads its own process group: killing the group also ends the children it forked.
  for (const p of spawned) {
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface StartOptions {
  /** The node binary to run it on (default the machine's own): see test/targets for the other versions. */
  node?: string;
  /** Node options before the script (`--import tsx`). */
  execArgv?: string[];
}

export function startFixture(file: string, args: string[] = [], options: StartOptions = {}): Fixture {
  const proc = spawn(options.node ?? process.execPath, [...(options.execArgv ?? []), join(FIXTURES, file), ...args], { stdio: 'pipe', detached: true });
  spawned.push(proc);
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let buffer = '';
  let all = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    all += chunk;
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const l = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(l);
      for (const w of [...waiters]) if (w.re.test(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  const errors: string[] = [];
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk: string) => errors.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    pid: proc.pid!,
    exited,
    send: (command) => proc.stdin.write(`${command}\n`),
    stdout: () => all,
    lines: () => [...lines],
    line: (re, timeoutMs) => {
      const seen = lines.find((l) => re.test(l));
      return seen ? Promise.resolve(seen) : waitLine(re, timeoutMs);
    },
    nextLine: (re, timeoutMs) => waitLine(re, timeoutMs),
  };

  function waitLine(re: RegExp, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fixture ${file} printed no line matching ${re}; got: ${lines.join(' | ')}; stderr: ${errors.join('').slice(-2000)}`)), timeoutMs);
      waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }
}

export function newTracer(options: Partial<TracerOptions> & { store?: StoreOptions } = {}): { store: Store; tracer: Tracer } {
  const store = new Store({ ...options.store });
  const tracer = new Tracer(store, { level: options.level ?? 'full', sampleRate: options.sampleRate ?? 1, redact: options.redact ?? DEFAULT_REDACT, web: options.web, traceAll: options.traceAll });
  return { store, tracer };
}

const tracers: Tracer[] = [];
afterEach(async () => {
  for (const t of tracers.splice(0)) await t.close();
});

/** A fixture started as plain `node <file>`, waited for (its first line), and a tracer attached to it by pid; closed after the test. */
export async function attached(
  file: string,
  options: Partial<TracerOptions> & { store?: StoreOptions; ready?: RegExp } & StartOptions = {},
): Promise<{ app: Fixture; t: { store: Store; tracer: Tracer }; ready: string }> {
  const app = startFixture(file, [], options);
  const ready = await app.line(options.ready ?? /^(ready|listening)/);
  const t = newTracer(options);
  tracers.push(t.tracer);
  await t.tracer.attach(app.pid);
  return { app, t, ready };
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A private folder for one test file, removed after its tests. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nodescope-test-'));
  tempDirs.push(dir);
  return dir;
}

/** Where Tracer.cpuProfile saves in a test: `profile.cpuprofile` in `dir` (a tempDir()); answers its path. */
export function saveIn(dir: string): (json: string) => string {
  return (json) => {
    const file = join(dir, 'profile.cpuprofile');
    writeFileSync(file, json);
    return file;
  };
}

/**
 * Polls until `probe` returns (or resolves to) something truthy; fails with `what` after the timeout. An
 * async probe is awaited: its promise, itself truthy, would otherwise end the wait at once.
 */
export async function eventually<T>(probe: () => T | undefined | null | false | PromiseLike<T | undefined | null | false>, what: string | (() => string), timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function events(store: Store, where = '1=1', ...params: unknown[]) {
  return store.db
    .prepare(`SELECT type, subtype, actor, from_actor, to_actor, payload FROM events WHERE ${where} ORDER BY ts_ns, id`)
    .all(...params)
    .map((r: any) => ({ ...r, payload: r.payload ? JSON.parse(r.payload) : null }));
}
