// Private temp folders (the trace file's, the data socket's): named by the owner's pid, so the next
// nodescope removes those of one that was killed before it could remove its own.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { privateDir } from '../../src/store/private_dir.js';
import { DataChannel } from '../../src/trace/data_channel.js';

const PREFIX = `nodescope-sweep-test-${process.pid}x-`;
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('privateDir', () => {
  it("removes the folders of processes that are gone, keeps a live one's, and makes its own 0700", () => {
    // A pid that surely ran and is gone now.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const stale = join(tmpdir(), `${PREFIX}${dead}-abc`);
    const live = join(tmpdir(), `${PREFIX}${process.ppid}-abc`);
    for (const dir of [stale, live]) mkdirSync(dir), made.push(dir);
    const mine = privateDir(PREFIX);
    made.push(mine);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(basename(mine).startsWith(`${PREFIX}${process.pid}-`)).toBe(true);
    expect(statSync(mine).mode & 0o777).toBe(0o700);
  });

  it("names the data socket's folder by this process, and removes it at close", () => {
    const channel = new DataChannel();
    expect(basename(channel.dir).startsWith(`nodescope-data-${process.pid}-`)).toBe(true);
    channel.close();
    expect(existsSync(channel.dir)).toBe(false);
  });
});
