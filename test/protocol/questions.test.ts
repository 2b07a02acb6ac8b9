// ElixirScope's six example questions, translated to a Node app and asked through a real MCP client over
// stdio, against a real target: the bank fixture (a registered counter, an "auth" worker, an "accounts"
// worker owning an account object that crashes, a payments module with a failing charge).
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Tiktoken } from 'js-tiktoken/lite';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture, type Fixture } from '../helpers.js';
import { conforming } from './conform.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
const text = (r: any): string => r.content.map((c: any) => c.text).join('\n');

describe('the six questions', () => {
  let client: Client;
  let app: Fixture;
  let main: string;
  const ask = async (name: string, args: Record<string, unknown> = {}) => {
    const r = await client.callTool({ name, arguments: args });
    expect(r.isError, `${name}: ${text(r)}`).toBeFalsy();
    // Every answer of a session fits a model's budget at default limits; the structured copy holds values,
    // not the prose again.
    const tokens = enc.encode(text(r)).length;
    expect(tokens, `${name}: ${tokens} tokens of text`).toBeLessThanOrEqual(1_500);
    spent.text += tokens;
    spent.structured += enc.encode(JSON.stringify(r.structuredContent)).length;
    if (process.env.SHOW_TOKENS) process.stderr.write(`${name} text ${tokens} structured ${enc.encode(JSON.stringify(r.structuredContent)).length}\n${JSON.stringify(r.structuredContent).slice(0, 1500)}\n`);
    return r;
  };
  const enc = new Tiktoken(o200k);
  const spent = { text: 0, structured: 0 };

  beforeAll(async () => {
    app = startFixture('bank/app.cjs');
    await app.line(/^ready/);
    main = String(app.pid);
    client = new Client({ name: 'nodescope-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp'], stderr: 'pipe' }));
    conforming(client);
    await ask('attach', { target: main });
    await ask('trace_named_process', { process_name: 'counter' });
    await ask('trace_named_process', { process_name: 'globalThis.account' });
    await ask('trace_module', { module_name: './test/fixtures/bank/payments.js' });
    for (const cmd of ['inc 1', 'inc 2', 'inc 3', 'login ada hunter2', 'checkout 50', 'checkout 500', 'withdraw 30']) app.send(cmd);
    await app.line(/^balance 70/);
    app.send('crash-accounts');
    await app.line(/^accounts exited 1/);
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    process.stderr.write(`the six questions: ${spent.text} tokens of text, ${spent.structured} structured (o200k)\n`);
  });

  it('1. "Show me the state changes of the counter over the last 5 minutes"', async () => {
    const r = await ask('get_state_timeline', { pid_string: `${main}/o1`, since: '-5m' });
    const lines = text(r).split('\n');
    expect(lines[0]).toMatch(new RegExp(`^States of ${main}/o1 "counter" \\(Counter\\) since .*: 4$`));
    // The first state whole, then only what changed.
    expect(lines.slice(1, 8).map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'after tracking began: Counter {count: 0}',
      `after Counter#increment(1) [${main}:c1]:`,
      '  count: 0 → 1',
      `after Counter#increment(2) [${main}:c2]:`,
      '  count: 1 → 3',
      `after Counter#increment(3) [${main}:c3]:`,
      '  count: 3 → 6',
    ]);
  });

  it('2. "What messages were exchanged between the main thread and the auth worker?"', async () => {
    const r = await ask('get_message_flow', { from_pid: main, to_pid: 'auth' });
    const lines = text(r).split('\n');
    expect(lines[0]).toBe(`Messages between ${main} "app.cjs" and ${main}/w1 "auth": 2`);
    expect(lines[1]).toMatch(new RegExp(`^\\S+ ${main} → ${main}/w1 \\[worker\\] \\{user: "ada", password: "\\[redacted\\]"\\} · received after [\\d.]+ ms`));
    expect(lines[2]).toMatch(new RegExp(`^\\S+ ${main}/w1 → ${main} \\[worker\\] \\{user: "ada", ok: true, token: "\\[redacted\\]"\\} · received after [\\d.]+ ms`));
    expect(text(r)).not.toMatch(/hunter2|tok-123/);
  });

  it('3. "When did the accounts thread crash, and what was the account\'s state before?"', async () => {
    const tree = text(await ask('get_supervision_tree'));
    const crash = new RegExp(`${main}/w2 worker "accounts" — crashed \\(code 1\\) at (\\S+)`).exec(tree);
    expect(crash).not.toBeNull();
    const states = text(await ask('get_state_timeline', { pid_string: 'globalThis.account' })).split('\n');
    // The last snapshot, as what changed from the one before.
    const last = states.findIndex((l) => l.includes('after Account#withdraw(30)'));
    expect(states[last]).toMatch(new RegExp(`after Account#withdraw\\(30\\) \\[${main}/w2:c1\\]:$`));
    expect(states.slice(last + 1, -1)).toEqual(['  balance: 100 → 70', '  + history[0]: -30']);
    expect(states.at(-1)).toMatch(/^showing 1–\d+ of \d+$/);
    expect(Date.parse(states[last]!.split(' ')[0]!)).toBeLessThanOrEqual(Date.parse(crash![1]!));
  });

  it('4. "Which calls to the payments module happened during the failed transaction?"', async () => {
    const r = await ask('get_function_calls', { module_name: 'payments.js' });
    const lines = text(r).split('\n').slice(1, 6).map((l) => l.replace(/^\S+ /, '').replace(/\([\d.]+ ms/, '(… ms'));
    expect(lines).toEqual([
      `${main} fee(50) → 1.5 (… ms) [${main}:c4]`,
      `${main} charge({owner: "ada", limit: 100}, 51.5) → {id: "tx1", amount: 51.5} (… ms, async) [${main}:c5]`,
      `${main} Ledger#record({id: "tx1", amount: 51.5}) → 1 (… ms) [${main}:c6]`,
      `${main} fee(500) → 15 (… ms) [${main}:c7]`,
      // Where it was thrown: the first frame of its stack (source-mapped when the file has a map).
      `${main} charge({owner: "ada", limit: 100}, 515) ✗ Error: card declined: 515 over limit 100 (at ${join(import.meta.dirname, '..', 'fixtures', 'bank', 'payments.js')}:6:37) (… ms, async) [${main}:c8]`,
    ]);
  });

  it('5. "Show me the supervision tree for this application"', async () => {
    const lines = text(await ask('get_supervision_tree')).split('\n');
    expect(lines.map((l) => l.replace(/ (since|at) \S+$/, ''))).toEqual([
      `${main} process "app.cjs" — running`,
      `├─ ${main}/w1 worker "auth" — running`,
      `├─ ${main}/w2 worker "accounts" — crashed (code 1)`,
      `│  └─ ${main}/w2/o1 object "globalThis.account" (Account) — gone (no exit code)`,
      `└─ ${main}/o1 object "counter" (Counter) — running`,
      'Traced modules:',
      `- test/fixtures/bank/payments.js in ${main} by wrappers: charge, fee, Ledger#record`,
    ]);
    const mermaid = text(await ask('get_supervision_tree', { format: 'mermaid' })).split('\n');
    expect(mermaid[0]).toBe('graph TD');
    expect(mermaid).toContain(`  a${main}_w2["${main}/w2 worker accounts<br/>crashed (code 1)"]`);
    expect(mermaid).toContain(`  a${main} --> a${main}_w2`);
  });

  it('6. "Analyze the state changes of the process named counter"', async () => {
    // get_state_timeline answers it in the default tool list: the first state whole, then what changed.
    const lines = text(await ask('get_state_timeline', { pid_string: 'counter' })).split('\n');
    expect(lines.filter((l) => l.startsWith('  '))).toEqual(['  count: 0 → 1', '  count: 1 → 3', '  count: 3 → 6']);
    expect(lines[1]).toMatch(/after tracking began: Counter \{count: 0\}$/);
  });

  it('every id any answer printed is accepted by every tool that takes an id', async () => {
    const tree = await ask('get_supervision_tree');
    const ids: string[] = [];
    const walk = (n: any) => (ids.push(n.id), n.children.forEach(walk));
    (tree.structuredContent as any).tree.forEach(walk);
    expect(ids).toHaveLength(5);
    const byId = ['trace_process', 'get_execution_path', 'get_state_timeline', 'analyze_state_changes', 'process_relationships', 'get_logs'];
    const tools = (await client.listTools()).tools.map((t) => t.name);
    for (const id of ids) {
      for (const tool of byId.filter((t) => tools.includes(t))) {
        const r = await client.callTool({ name: tool, arguments: { pid_string: id } });
        // Accepted: either an answer, or an error about the actor's data — never "no actor".
        expect(text(r), `${tool}(${id})`).not.toMatch(/no actor|unknown actor|not found/i);
      }
      const flow = await client.callTool({ name: 'get_message_flow', arguments: { from_pid: id, to_pid: main } });
      expect(text(flow), `get_message_flow(${id})`).not.toMatch(/no actor/i);
    }
  });
});
