// export_trace writes only below the folder nodescope owns for exports: every way out is refused, and what
// the refused path points at is left exactly as it was.
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { TOOLS } from '../../src/tools/registry.js';
import { tempDir } from '../helpers.js';

const exportTrace = TOOLS.find((t) => t.name === 'export_trace')!;
const text = (r: any) => r.content.map((c: any) => c.text).join('\n');

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

function sessionIn(dir: string, overrides: Record<string, string> = {}): Session {
  session = new Session({ config: resolveConfig({ export_dir: dir, ...overrides }, {}, null) });
  return session;
}

describe('export_trace paths', () => {
  it('writes a name below the export folder and answers the absolute path', async () => {
    const dir = tempDir();
    const s = sessionIn(dir);
    const r = await callTool(exportTrace, { path: 'run.trace.json' }, s);
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ file: join(dir, 'run.trace.json') });
    expect(JSON.parse(readFileSync(join(dir, 'run.trace.json'), 'utf8')).metadata.source).toBe('nodescope');
    expect(lstatSync(join(dir, 'run.trace.json')).mode & 0o777).toBe(0o600);
    // Subfolders below it are made as needed; an absolute path inside it is the same file name.
    const nested = await callTool(exportTrace, { path: 'runs/a.json' }, s);
    expect(nested.structuredContent).toMatchObject({ file: join(dir, 'runs', 'a.json') });
    const absolute = await callTool(exportTrace, { path: join(dir, 'b.json') }, s);
    expect(absolute.structuredContent).toMatchObject({ file: join(dir, 'b.json') });
  });

  it('overwrites a file it wrote itself, in the same session', async () => {
    const dir = tempDir();
    const s = sessionIn(dir);
    expect((await callTool(exportTrace, { path: 'again.json' }, s)).isError).toBeFalsy();
    const again = await callTool(exportTrace, { path: 'again.json' }, s);
    expect(again.isError).toBeFalsy();
    expect(again.structuredContent).toMatchObject({ file: join(dir, 'again.json') });
  });

  it('refuses "../" escapes, absolute paths elsewhere and ".." inside a name', async () => {
    const dir = join(tempDir(), 'exports');
    const s = sessionIn(dir);
    const outside = join(dir, '..', 'escaped.json');
    for (const path of ['../escaped.json', '../../etc/x', 'a/../../escaped.json', 'a/../b.json', outside, '/etc/nodescope-x.json']) {
      const r = await callTool(exportTrace, { path }, s);
      expect(r.isError, path).toBe(true);
      expect(text(r)).toMatch(/^export_trace failed: ".*" (climbs out with "\.\.": |is outside the export folder: )export_trace writes only below .*exports \(export_dir\)/);
    }
    expect(existsSync(outside)).toBe(false);
    expect(existsSync('/etc/nodescope-x.json')).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never overwrites a file it did not write', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'mine.json'), 'precious');
    const r = await callTool(exportTrace, { path: 'mine.json' }, sessionIn(dir));
    expect(r.isError).toBe(true);
    expect(text(r)).toBe(`export_trace failed: ${join(dir, 'mine.json')} already exists and nodescope did not write it: it is never overwritten; choose another path`);
    expect(readFileSync(join(dir, 'mine.json'), 'utf8')).toBe('precious');
  });

  it('never writes through a symbolic link, to a file or a folder, dangling or not', async () => {
    const dir = tempDir();
    const victim = join(tempDir(), 'victim.txt');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, join(dir, 'link.json'));
    symlinkSync(join(tempDir(), 'nothing-here.json'), join(dir, 'dangling.json'));
    const elsewhere = tempDir();
    symlinkSync(elsewhere, join(dir, 'sub'));
    const s = sessionIn(dir);
    const viaLink = await callTool(exportTrace, { path: 'link.json' }, s);
    expect(viaLink.isError).toBe(true);
    expect(text(viaLink)).toMatch(/already exists and nodescope did not write it/);
    const dangling = await callTool(exportTrace, { path: 'dangling.json' }, s);
    expect(dangling.isError).toBe(true);
    const viaFolder = await callTool(exportTrace, { path: 'sub/x.json' }, s);
    expect(viaFolder.isError).toBe(true);
    expect(text(viaFolder)).toBe(`export_trace failed: a folder on the way ${join(dir, 'sub')} is a symbolic link: refused, as a link can point anywhere; set export_dir to a real folder`);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('refuses an export folder that is a symbolic link or writable by everyone', async () => {
    const real = tempDir();
    const link = join(tempDir(), 'exports');
    symlinkSync(real, link);
    const r = await callTool(exportTrace, { path: 'x.json' }, sessionIn(link));
    expect(text(r)).toBe(`export_trace failed: the export folder ${link} is a symbolic link: refused, as a link can point anywhere; set export_dir to a real folder`);
    await session!.dispose();
    const open = join(tempDir(), 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r2 = await callTool(exportTrace, { path: 'x.json' }, sessionIn(open));
    expect(text(r2)).toBe(`export_trace failed: the export folder ${open} is writable by everyone: refused; set export_dir to a folder only you can write`);
    expect(readdirSync(real)).toEqual([]);
    expect(readdirSync(open)).toEqual([]);
  });

  it('defaults to a folder of this user in the OS temp folder, or next to the persisted trace', async () => {
    session = new Session({ config: resolveConfig({}, {}, null) });
    const r = await callTool(exportTrace, {}, session);
    const mine = join(tmpdir(), `nodescope-${process.getuid!()}`);
    expect((r.structuredContent as any).file).toMatch(new RegExp(`^${mine}/exports/nodescope-[0-9TZ-]+\\.trace\\.json$`));
    expect(lstatSync(mine).mode & 0o777).toBe(0o700);
    await session.dispose();
    const dir = tempDir();
    session = new Session({ config: resolveConfig({ persist: 'true', persist_path: join(dir, 'trace.db') }, {}, null) });
    const p = await callTool(exportTrace, { path: 'run.json' }, session);
    expect(p.structuredContent).toMatchObject({ file: join(dir, 'nodescope-exports', 'run.json') });
  });
});
