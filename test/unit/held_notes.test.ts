// The notes nodescopes leave of the processes they hold name them by pid, and pids are reused: a note
// about an earlier process with the same pid, or from a host whose pid another process has now, is stale.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noteAlive, processStart, readHeld, removeHeld, writeHeld, type HeldNote } from '../../src/trace/discovery.js';

const target = spawn('sleep', ['60'], { stdio: 'ignore' });
afterAll(() => {
  removeHeld(target.pid!, 'held-notes-test');
  target.kill('SIGKILL');
});

function note(over: Partial<HeldNote>): HeldNote {
  const pid = target.pid!;
  return { pid, start: processStart(pid)!, port: 9339, ownerId: 'held-notes-test', hostPid: process.pid, hostStart: processStart('self')!, openedByUs: false, ...over };
}

describe('held notes', () => {
  // First: a process sweeps the folder as it writes its first note.
  it('left by a nodescope that is gone are removed as another writes its first', () => {
    // A note as a killed nodescope leaves it: its host (a process that has ended) named in it.
    const gone = spawnSync('true').pid;
    const dir = join(tmpdir(), `nodescope-held-${process.getuid!()}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const left = join(dir, `${target.pid}.json`);
    writeFileSync(left, JSON.stringify(note({ hostPid: gone, hostStart: '1' })));
    expect(readHeld(target.pid!)).toBeDefined();
    writeHeld({ ...note({}), pid: process.pid, start: processStart('self')! });
    expect(existsSync(left)).toBe(false);
    removeHeld(process.pid, 'held-notes-test');
  });

  it('are read back while the process they name and their host both run', () => {
    writeHeld(note({}));
    expect(readHeld(target.pid!)).toEqual(note({}));
    expect(noteAlive(note({}))).toBe(true);
  });

  it('are stale once their pid names another process', () => {
    writeHeld(note({ start: '1' }));
    expect(readHeld(target.pid!)).toBeUndefined();
  });

  it('are dead once their host pid names another process', () => {
    // The target stands in for a process that got the host's pid after the host died.
    expect(noteAlive(note({ hostPid: target.pid!, hostStart: '1' }))).toBe(false);
    expect(noteAlive(note({ hostPid: target.pid!, hostStart: processStart(target.pid!)! }))).toBe(true);
  });
});
