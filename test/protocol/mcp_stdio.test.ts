// Round trips through a real MCP client over stdio against the built server (dist/cli.js), and a second
// nodescope process that answers from the trace file the first one persisted.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectTools } from '../../src/tools/categories.js';
import { TOOLS } from '../../src/tools/registry.js';
import { eventually, startFixture, tempDir } from '../helpers.js';
import { conforming } from './conform.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
const text = (r: any) => r.content.map((c: any) => c.text).join('\n');

describe('MCP over stdio', () => {
  const db = join(tempDir(), 'trace.db');
  let client: Client;

  beforeAll(async () => {
    client = new Client({ name: 'nodescope-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--persist', '--persist-path', db, '--tool-categories', 'core,tracing'], stderr: 'pipe' }));
    conforming(client);
  });
  afterAll(async () => {
    await client?.close();
  });

  it('lists the tools, sorted, each with annotations and described arguments', async () => {
    const { tools } = await client.listTools();
    // The categories asked for: core (the nine, launch/attach/detach, the most used extras) and tracing.
    const names = tools.map((t) => t.name);
    expect(names).toEqual(selectTools(TOOLS, ['core', 'tracing']).map((t) => t.name));
    expect(names).toEqual(expect.arrayContaining(['attach', 'detach', 'get_execution_path', 'get_function_calls', 'get_message_flow', 'get_state_timeline', 'get_supervision_tree', 'launch', 'trace_line', 'trace_module', 'trace_named_process', 'untrace']));
    expect(names).not.toContain('evaluate');
    expect(names).toEqual([...names].sort());
    for (const t of tools) expect(t.annotations).toBeDefined();
    expect(tools.find((t) => t.name === 'get_supervision_tree')!.annotations!.readOnlyHint).toBe(true);
    const attach = tools.find((t) => t.name === 'attach')!;
    expect((attach.inputSchema.properties as any).target.description).toMatch(/OS pid/);
    // A tool of a category not listed is still answered by name (a script, or a model told of it).
    expect(names).not.toContain('message_queue_analysis');
    const unlisted = await client.callTool({ name: 'message_queue_analysis', arguments: {} });
    expect(text(unlisted)).not.toMatch(/no tool named/);
    expect(text(await client.callTool({ name: 'no_such_tool', arguments: {} }))).toMatch(/^no tool named "no_such_tool"; tools: /);
  });

  it('attaches by pid and answers the supervision tree with ids, names and exit codes', async () => {
    const app = startFixture('family.cjs');
    const childPid = Number((await app.line(/^ready/)).split(' ')[1]);
    const attached = await client.callTool({ name: 'attach', arguments: { target: String(app.pid) } });
    expect(attached.isError, text(attached)).toBeFalsy();
    expect(attached.structuredContent).toMatchObject({ pid: app.pid, actor: String(app.pid) });

    app.send('stop-pricing');
    let last = '';
    const tree: any = await eventually(async () => {
      const answer = await client.callTool({ name: 'get_supervision_tree', arguments: {} });
      last = text(answer);
      return /pricing" — exited \(code 3\)/.test(last) && last.includes(`${childPid} process`) && answer;
    }, () => `pricing exited and the child process in the tree; last: ${last}`);
    const lines = text(tree).split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${app.pid} process "family.cjs" — running since \\d{4}-`));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^[├└]─ ${app.pid}/w1 worker "pricing" — exited \\(code 3\\) at `)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^[├└]─ ${app.pid}/w2 worker "inventory" — running`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^[├└]─ ${childPid} process "family.cjs child" — running since `)));
    const root = (tree.structuredContent as any).tree[0];
    expect(root.children.map((c: any) => [c.id, c.name, c.status, c.exit_code ?? null]).sort()).toEqual(
      [[`${app.pid}/w1`, 'pricing', 'exited', 3], [`${app.pid}/w2`, 'inventory', 'running', null], [String(childPid), 'family.cjs child', 'running', null]].sort(),
    );

    const detached = await client.callTool({ name: 'detach', arguments: {} });
    expect(text(detached)).toMatch(new RegExp(`Detached from pid .*${app.pid}`));
    app.send('quit');
  });

  it('answers bad arguments with isError and what to do instead', async () => {
    const unknown = await client.callTool({ name: 'attach', arguments: { target: '1', pid: 42 } });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toBe('attach: unknown argument "pid". It takes: target, web.');
    const missing = await client.callTool({ name: 'attach', arguments: { target: 'nonsense' } });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/give an OS pid \(4242\), an inspector address \(127\.0\.0\.1:9229\) or a ws:\/\/ URL/);
    // Through JSON on stdin: an own "__proto__" key, which the SDK's parsing drops, is still refused.
    const proto = await client.callTool({ name: 'detach', arguments: JSON.parse('{"__proto__": {}}') });
    expect([proto.isError, text(proto)]).toEqual([true, 'detach: unknown argument "__proto__". It takes no arguments.']);
    const ctor = await client.callTool({ name: 'get_supervision_tree', arguments: { constructor: 'x' } });
    expect(text(ctor)).toBe('get_supervision_tree: unknown argument "constructor". It takes: format.');
    // A number where the pid is listed as a string is read as the pid (the Inspector CLI sends --tool-arg target=8056 so).
    const byNumber = await client.callTool({ name: 'attach', arguments: { target: 2 ** 22 + 1 } });
    expect(text(byNumber)).not.toMatch(/expected string|must be a string/);
    const sloppy = await client.callTool({ name: 'get_function_calls', arguments: { module_name: 'x.js', limit: 'lots' } });
    expect(text(sloppy)).toBe('get_function_calls: limit must be a whole number (got "lots"). Rows per page (default 20).');
  });

  it('nodescope call --attach attaches, answers and detaches, leaving the target running', async () => {
    const app = startFixture('family.cjs');
    await app.line(/^ready/);
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'call', 'get_supervision_tree', '--attach', String(app.pid)]);
    expect(stdout).toMatch(new RegExp(`^${app.pid} process "family.cjs" — running since `));
    expect(stdout).toMatch(/worker "pricing" — running/);
    app.send('check');
    expect(JSON.parse((await app.line(/^check /)).slice(6))).toMatchObject({ workerEmitRestored: true, processEmitRestored: true, agent: false });
  });

  it('a second nodescope answers from the persisted file alone', async () => {
    const stopped = await client.callTool({ name: 'stop', arguments: {} });
    expect(text(stopped)).toMatch(new RegExp(`(Nothing was being traced|Stopped tracing pid [\\d, ]+)\\. \\d+ events recorded in ${db.replace(/[.]/g, '\\.')}; they stay queryable\\.`));
    await client.close();
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'call', 'get_supervision_tree', '--db', db, '--json']);
    const answer = JSON.parse(stdout);
    const names = JSON.stringify(answer.tree);
    expect(names).toContain('"name":"pricing","status"');
    expect(answer.tree[0].children.find((c: any) => c.name === 'pricing')).toMatchObject({ status: 'exited', exit_code: 3 });
  });
});
