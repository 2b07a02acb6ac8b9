// Finding a process's inspector. `/json/list` has no pid, and stderr of a process we did not start is not
// ours to read, so ports are found from /proc: the socket inodes in /proc/<pid>/fd matched against the
// LISTEN rows of /proc/<pid>/net/tcp{,6}. SIGUSR1 is only sent when /proc/<pid>/status says the process
// catches it: to a process that does not (not Node, or Node still booting), SIGUSR1 is fatal.
import { mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_INSPECTOR_PORT = 9229;
const SIGUSR1_BIT = 1n << 9n; // signal 10, bit 9 of the SigCgt mask

export function fetchJson<T>(host: string, port: number, path: string, timeoutMs = 2_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as T);
        } catch (error) {
          reject(new Error(`http://${host}:${port}${path} answered something that is not JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`http://${host}:${port}${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** The WebSocket URL of the inspector listening at host:port. */
export async function inspectorUrl(host: string, port: number, timeoutMs?: number): Promise<string> {
  const targets = await fetchJson<{ webSocketDebuggerUrl?: string }[]>(host, port, '/json/list', timeoutMs);
  const url = targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target at ${host}:${port}`);
  return url;
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // fd closed while we read
    }
  }
  return inodes;
}

interface ListenRow {
  address: string;
  port: number;
  inode: string;
}

function listeningRows(pid: number | 'self'): ListenRow[] {
  return tcpRows(pid, '0A'); // 0A = LISTEN
}

function tcpRows(pid: number | 'self', state: string): ListenRow[] {
  const rows: ListenRow[] = [];
  for (const file of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== state) continue;
      const [addressHex, portHex] = cols[1]!.split(':');
      rows.push({ address: addressHex!, port: parseInt(portHex!, 16), inode: cols[9]! });
    }
  }
  return rows;
}

/** TCP ports the process listens on, in ascending order. */
export function listeningPorts(pid: number): number[] {
  const inodes = socketInodes(pid);
  if (inodes.size === 0) return [];
  const ports = listeningRows(pid).filter((r) => inodes.has(r.inode)).map((r) => r.port);
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** How many clients are connected to a port the process listens on (a debugger on its inspector's). */
export function connectedClients(pid: number, port: number): number {
  const inodes = socketInodes(pid);
  return tcpRows(pid, '01').filter((r) => r.port === port && inodes.has(r.inode)).length; // 01 = ESTABLISHED
}

/** Whether anything on this machine listens on the port (cheap: one read of /proc/self/net/tcp{,6}). */
export function portInUse(port: number): boolean {
  return listeningRows('self').some((r) => r.port === port);
}

/**
 * Ports the process's own flags name for its inspector (--inspect, --inspect-brk, --inspect-port, in its
 * command line or NODE_OPTIONS), plus 9229. Only these are probed before signalling, so that nodescope does
 * not send requests into the application's own ports.
 */
export function flaggedInspectorPorts(pid: number): number[] {
  const ports = new Set<number>([DEFAULT_INSPECTOR_PORT]);
  for (const text of flagTexts(pid)) {
    for (const m of text.matchAll(/--inspect(?:-brk|-port)?[= ](?:[\w.[\]:-]*:)?(\d{1,5})\b/g)) ports.add(Number(m[1]));
  }
  return [...ports];
}

/** Whether the process was told to write a heap snapshot on SIGUSR1 (--heapsnapshot-signal), which then opens no inspector. */
export function snapshotsOnSigusr1(pid: number): boolean {
  return flagTexts(pid).some((text) => /--heapsnapshot-signal[= ]SIGUSR1\b/.test(text));
}

/** The process's command line and NODE_OPTIONS, where its Node flags are. */
function flagTexts(pid: number): string[] {
  const texts: string[] = [];
  try {
    texts.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '));
  } catch {
    // gone
  }
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((e) => e.startsWith('NODE_OPTIONS='));
    if (env) texts.push(env);
  } catch {
    // not ours to read
  }
  return texts;
}

/** The announce folder a process was started with (our preload's, in launch mode), if any. */
export function announceDirOf(pid: number): string | undefined {
  try {
    const entry = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((e) => e.startsWith('NODESCOPE_ANNOUNCE_DIR='));
    return entry?.slice('NODESCOPE_ANNOUNCE_DIR='.length);
  } catch {
    return undefined;
  }
}

/** The pid of the process listening on a port, if it can be found (scans every process's fds). */
export function listenerOf(port: number): number | undefined {
  const row = listeningRows('self').find((r) => r.port === port);
  if (!row) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (socketInodes(Number(entry)).has(row.inode)) return Number(entry);
  }
  return undefined;
}

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A zombie answers kill 0 too: ended, and never reaped when its parent is gone and pid 1 does not reap.
  return processStart(pid) !== 'dead';
}

/** How a zombie ended: field 52 of /proc/<pid>/stat is its wait status (Linux 3.5+). */
export function zombieExit(pid: number): { code: number | null; signal: string | null } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
    const status = Number(fields[49]);
    if (fields[0] !== 'Z' || !Number.isInteger(status)) return undefined;
    const signal = status & 0x7f;
    if (signal === 0) return { code: (status >> 8) & 0xff, signal: null };
    return { code: null, signal: Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] ?? String(signal) };
  } catch {
    return undefined;
  }
}

/** True when the process has a handler for SIGUSR1: Node installs one early in its startup. */
export function catchesSigusr1(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status);
    return m !== null && (BigInt('0x' + m[1]) & SIGUSR1_BIT) !== 0n;
  } catch {
    return false;
  }
}

/** Whether the executable of a process looks like Node.js (its own binary or one named node*). */
export function isNodeProcess(pid: number): boolean {
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`);
    return exe === process.execPath || /(^|\/)node[\d.]*$/.test(exe);
  } catch {
    return false;
  }
}

/** Direct children of a process that run Node. */
export function nodeChildren(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces; the ppid is the second field after it.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && isNodeProcess(Number(entry))) children.push(Number(entry));
    } catch {
      // process gone
    }
  }
  return children.sort((a, b) => a - b);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value or the time is up. */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 10): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}

/** Waits for `work` to settle, or `ms` to pass, whichever comes first (its timer let go either way). */
export async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

// ------------------------------------------------------------------ who holds a process

/**
 * Where each nodescope notes the processes it holds and their inspector port: a second nodescope reads it to
 * find the port without probing the application's own ports (it never sends a request to those), then
 * reads the owner from the agent itself. A note whose host is gone is stale and ignored.
 */
const HELD_DIR = join(tmpdir(), `nodescope-held-${process.getuid?.() ?? 'user'}`);

export interface HeldNote {
  pid: number;
  /** processStart of pid and of hostPid: pids are reused (32,768 of them go round in minutes on a busy machine). */
  start: string;
  port: number;
  ownerId: string;
  hostPid: number;
  hostStart: string;
  endpoint?: string;
  openedByUs: boolean;
}

export function writeHeld(note: HeldNote): void {
  try {
    mkdirSync(HELD_DIR, { recursive: true, mode: 0o700 });
    sweepHeld();
    const file = join(HELD_DIR, `${note.pid}.json`);
    writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(note), { mode: 0o600 });
    renameSync(`${file}.${process.pid}.tmp`, file);
  } catch {
    // a hint only: without it, a second nodescope finds no port and says so
  }
}

/** The note on pid, unless it was written about an earlier process that had the same pid. */
/** Whether this process swept the folder yet (once: its own notes are removed as it lets go). */
let swept = false;

/** Removes the notes a nodescope killed before it could remove them left (stale: see readHeld, noteAlive). */
function sweepHeld(): void {
  if (swept) return;
  swept = true;
  for (const file of readdirSync(HELD_DIR)) {
    const pid = /^(\d+)\.json$/.exec(file)?.[1];
    if (pid === undefined) continue;
    const note = readHeld(Number(pid));
    if (note === undefined || !noteAlive(note)) rmSync(join(HELD_DIR, file), { force: true });
  }
}

export function readHeld(pid: number): HeldNote | undefined {
  try {
    const note = JSON.parse(readFileSync(join(HELD_DIR, `${pid}.json`), 'utf8')) as HeldNote;
    return note.pid === pid && typeof note.port === 'number' && typeof note.start === 'string' && note.start === processStart(pid) ? note : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the nodescope that wrote a note still runs. Its start time tells it from a process that got its
 * pid since: a CI run once refused an attach because a stale note named a host pid the target now had.
 */
export function noteAlive(note: HeldNote): boolean {
  return typeof note.hostStart === 'string' && processStart(note.hostPid) === note.hostStart;
}

export function removeHeld(pid: number, ownerId: string): void {
  if (readHeld(pid)?.ownerId === ownerId) rmSync(join(HELD_DIR, `${pid}.json`), { force: true });
}

/**
 * Field 22 of /proc/<pid>/stat (start time in clock ticks): tells a live process from a reused pid. A zombie
 * (killed, not yet reaped by its parent) answers 'dead': it is gone for every purpose here.
 */
export function processStart(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' ? 'dead' : fields[19];
  } catch {
    return undefined;
  }
}

/** Whether a process lives in our pid namespace (then its pids and ours mean the same processes). */
export function samePidNamespace(pid: number): boolean {
  try {
    return readlinkSync('/proc/self/ns/pid') === readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return false;
  }
}
