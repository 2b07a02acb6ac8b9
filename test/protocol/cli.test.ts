// The command line as a user meets it (dist/cli.js): help for the tools and each tool's arguments from its
// schema, unknown options refused by every subcommand, a non-zero exit when a tool answers an error, and a
// progress line on stderr during a long call.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TOOLS } from '../../src/tools/registry.js';
import { tempDir } from '../helpers.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
/** Where cpu_profile's files go: removed after the tests. */
const EXPORTS = tempDir();

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<Ran> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, NODESCOPE_TOOL_CATEGORIES: 'core', NODESCOPE_EXPORT_DIR: EXPORTS } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('nodescope help', () => {
  it('--help and call --help: the usage, and every tool (listed or not) one a line', async () => {
    const usage = await cli('--help');
    expect(usage.code).toBe(0);
    expect(usage.stdout).toMatch(/^nodescope — a flight recorder for Node\.js/);
    const list = await cli('call', '--help');
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe("Tools (nodescope call <tool> --help shows a tool's arguments):");
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/)[0])).toEqual(TOOLS.map((t) => t.name));
  });

  it('call <tool> --help prints that tool\'s arguments from its schema', async () => {
    for (const tool of TOOLS.filter((t) => ['get_function_calls', 'configure', 'detach'].includes(t.name))) {
      const r = await cli('call', tool.name, '--help');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split('\n')[0]).toBe(`${tool.name} — ${tool.title}`);
      const flags = [...r.stdout.matchAll(/^ {2}--(\w+) <[^>]+>( \(required\))?$/gm)].map((m) => [m[1], m[2] !== undefined]);
      expect(flags).toEqual(Object.entries(tool.schema).map(([k, s]) => [k, !(s as any).isOptional()]));
      if (flags.length === 0) expect(r.stdout).toContain('No arguments.');
    }
    const configure = await cli('call', 'configure', '--help');
    expect(configure.stdout).toContain('  --web <boolean>\n      true: record HTTP server and client requests');
    expect(configure.stdout).toContain('  --tracing_level <full|messages_only|states_only|minimal|off>\n');
  });

  it('call with no tool or an unknown one lists the tools and exits 2', async () => {
    const none = await cli('call');
    expect(none.code).toBe(2);
    expect(none.stderr.split('\n')[0]).toBe('nodescope call: name the tool. Tools:');
    const wrong = await cli('call', 'get_supervison_tree');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.split('\n')[0]).toBe('nodescope call: unknown tool "get_supervison_tree". Tools:');
  });
});

describe('unknown options', () => {
  const pointer = 'nodescope --help lists the commands and options; nodescope call --help lists the tools.\n';
  it('are refused by every subcommand, with the nearest known one', async () => {
    const cases: [string[], string][] = [
      [['mcp', '--tool-categorys', 'all'], 'nodescope: mcp: unknown option --tool-categorys (did you mean --tool-categories?)\n'],
      [['serve', '--htp'], 'nodescope: serve: unknown option --htp (did you mean --http?)\n'],
      [['serve', '--http', '127.0.0.1:0', '--persit'], 'nodescope: serve: unknown option --persit (did you mean --persist?)\n'],
      [['demo', '--wbe'], 'nodescope: demo: unknown option --wbe (did you mean --web?)\n'],
      [['tools', '--verbose'], 'nodescope: tools: unknown option --verbose\n'],
      [['call', 'get_supervision_tree', '--atach', '4242'], 'nodescope: call: unknown option --atach (did you mean --attach?)\n'],
      [['frobnicate'], 'nodescope: unknown command "frobnicate"\n'],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(message + pointer);
    }
  });

  it('a tool argument the tool does not take is refused by the tool, exit 1', async () => {
    const r = await cli('call', 'get_supervision_tree', '--formt', 'json');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^get_supervision_tree: unknown argument "formt"\. It takes: /);
  });
});

describe('call against a live process', () => {
  // Launched (a random inspector port) rather than attached: attaching by pid needs port 9229 for a moment,
  // which any other inspector on the machine may hold.
  const hot = join(import.meta.dirname, '..', 'fixtures', 'hot.cjs');

  it('exits 1 when the tool answers an error (a module that cannot be traced)', async () => {
    const r = await cli('call', 'trace_module', '--module_name', 'nosuch.js', '--launch', '--', process.execPath, hot);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^trace_module failed: no loaded module is named "nosuch\.js"; closest loaded: .*\. Give a path relative to the target's working directory, an absolute path, or a package name\.\n$/);
  });

  it('shows progress on stderr while a long call runs', async () => {
    const started = Date.now();
    const r = await cli('call', 'cpu_profile', '--pid_string', 'hot.cjs', '--duration', '1.5', '--launch', '--', process.execPath, hot);
    const seconds = (Date.now() - started) / 1000;
    expect(r.code, r.stderr).toBe(0);
    const pid = /^CPU profile of (\d+): /.exec(r.stdout)?.[1];
    expect(pid, r.stdout).toBeDefined();
    // Quiet for the first second; then the report in force, and one line a second at most while it holds.
    const lines = r.stderr.trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(/^nodescope: cpu_profile: /);
    // One line a second at most for an unchanged message: the first report, then one about a second later (more
    // when a loaded machine stretches the call: a CI run's took long enough for 3).
    const profiling = lines.filter((l) => l.startsWith(`nodescope: cpu_profile: profiling ${pid} (`));
    expect(profiling.length).toBeGreaterThanOrEqual(1);
    expect(profiling.length).toBeLessThanOrEqual(Math.max(2, Math.floor(seconds)));
    for (const l of profiling) expect(l).toMatch(/\(\d+\/1500\)$/);
  });
});
