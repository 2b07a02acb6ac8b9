// `nodescope demo`: launches the bundled shop app under tracing and prints a scripted sequence of tool calls
// with their answers, so a newcomer sees what the tools say about a real program.
import { join } from 'node:path';
import type { Config } from '../config.js';
import { callTool } from '../server.js';
import { Session } from '../session.js';
import { TOOLS } from '../tools/registry.js';
import { demoDir } from '../trace/paths.js';

async function show(session: Session, question: string, name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const tool = TOOLS.find((t) => t.name === name)!;
  process.stdout.write(`\n# ${question}\n> ${name}(${Object.keys(args).length ? JSON.stringify(args) : ''})\n`);
  const result = await callTool(tool, args, session);
  for (const c of result.content) if (c.type === 'text') process.stdout.write(`${c.text}\n`);
  return (result.structuredContent ?? {}) as Record<string, unknown>;
}

export async function runDemo(config: Config): Promise<number> {
  const session = new Session({ config });
  const dir = demoDir();
  try {
    process.stdout.write(`nodescope demo: tracing ${join(dir, 'shop.cjs')} — a cart in the main thread, a "pricing" worker, a forked mailer\n`);
    const launched = await show(session, 'Start the shop under tracing, tracing its pricing module from the first line', 'launch', {
      command: `node shop.cjs`,
      cwd: dir,
      trace_modules: './pricing.cjs',
    });
    const main = String(launched.actor);
    await show(session, 'Follow the cart object', 'trace_named_process', { process_name: 'globalThis.cart' });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && session.supervisionTree().some((n) => n.status === 'running')) await new Promise((r) => setTimeout(r, 100));
    process.stdout.write('\n(the shop has finished)\n');
    await show(session, 'What did the process family look like?', 'get_supervision_tree');
    await show(session, 'Which messages did the main thread and the pricing worker exchange?', 'get_message_flow', { from_pid: main, to_pid: 'pricing' });
    await show(session, 'Which calls did the pricing module get, and which failed?', 'get_function_calls', { module_name: 'pricing.cjs' });
    await show(session, 'How did the cart\'s state change, and why?', 'analyze_state_changes', { pid_string: 'globalThis.cart' });
    await show(session, 'What did the mailer do?', 'get_execution_path', { pid_string: 'shop.cjs mailer' });
    return 0;
  } finally {
    await session.dispose();
  }
}
