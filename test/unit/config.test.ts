// One validated configuration: flags over environment over the file over defaults, errors that name the key;
// and tools added from modules named there.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, resolveConfig } from '../../src/config.js';
import { loadTools } from '../../src/extensions.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { TOOLS } from '../../src/tools/registry.js';
import { FIXTURES, tempDir } from '../helpers.js';

function file(json: unknown): string {
  const path = join(tempDir(), 'nodescope.config.json');
  writeFileSync(path, JSON.stringify(json));
  return path;
}

describe('configuration', () => {
  it('takes flags over environment over the file over defaults', () => {
    const path = file({ tracing_level: 'minimal', sample_rate: 0.5, max_events: 10, retention: { call: '10m' }, web: true });
    const config = resolveConfig({ max_events: '20' }, { NODESCOPE_SAMPLE_RATE: '0.25' }, path);
    expect(config).toMatchObject({ tracing_level: 'minimal', sample_rate: 0.25, max_events: 20, retention: { call: 600_000 }, web: true, persist: false });
    expect(resolveConfig({}, {}, null)).toEqual(DEFAULT_CONFIG);
  });

  it('names the bad key, and where it came from', () => {
    expect(() => resolveConfig({ tracing_level: 'loud' }, {}, null)).toThrow('invalid tracing_level (--tracing-level) "loud": must be one of full, messages_only, states_only, minimal, off');
    expect(() => resolveConfig({}, { NODESCOPE_SAMPLE_RATE: '2' }, null)).toThrow(/invalid sample_rate \(NODESCOPE_SAMPLE_RATE\) "2"/);
    const path = file({ max_event: 5 });
    expect(() => resolveConfig({}, {}, path)).toThrow(/unknown key "max_event" in .*nodescope\.config\.json; known keys: tracing_level/);
    expect(() => resolveConfig({}, {}, file({ retention: 'call' }))).toThrow(/invalid retention \(retention in .*\) "call": "call" is not type=duration/);
  });
});

describe('custom tools', () => {
  it('loads a tool from a module named in the configuration and calls it like a built-in', async () => {
    const config = resolveConfig({}, {}, file({ tools: [join(FIXTURES, 'custom_tool.mjs')] }));
    const tools = await loadTools(config.tools);
    expect(tools.map((t) => t.name)).toContain('count_logs');
    expect(tools.map((t) => t.name)).toEqual([...tools.map((t) => t.name)].sort());
    const session = new Session({ config });
    try {
      const r = await callTool(tools.find((t) => t.name === 'count_logs')!, { pid_string: 'nobody' }, session);
      expect(r.isError).toBe(true);
      expect((r.content[0] as { text: string }).text).toMatch(/^count_logs failed: no actor "nobody": nothing is recorded yet/);
    } finally {
      await session.dispose();
    }
  });

  it('refuses a tool that clashes with a built-in or lacks what a tool needs', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'clash.mjs'), `export default { name: 'attach', description: 'x', schema: {}, annotations: {}, handler() {} };`);
    writeFileSync(join(dir, 'bad.mjs'), `export const tools = [{ name: 'Bad-Name' }];`);
    writeFileSync(join(dir, 'none.mjs'), `export const x = 1;`);
    await expect(loadTools([join(dir, 'clash.mjs')], TOOLS)).rejects.toThrow(/clash\.mjs: a tool named attach exists already/);
    await expect(loadTools([join(dir, 'bad.mjs')], TOOLS)).rejects.toThrow(/bad\.mjs: tool name "Bad-Name" must be snake_case/);
    await expect(loadTools([join(dir, 'none.mjs')], TOOLS)).rejects.toThrow(/none\.mjs exports no tools/);
  });
});
