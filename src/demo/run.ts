// `nodescope demo`: launches the bundled shop app under tracing and prints a scripted sequence of tool calls
// with their answers, so a newcomer sees what the tools say about a real program.
import { join } from 'node:path';
import type { Config } from '../config.js';
import { callTool } from '../server.js';
import { Session } from '../session.js';
import { TOOLS } from '../tools/registry.js';
import { demoDir } from '../trace/paths.js';

async function show(session: Session, name: string, args: Record<string, unknown> = {}): Promise<void> {
  const tool = TOOLS.find((t) => t.name === name)!;
  process.stdout.write(`\n> ${name}(${Object.keys(args).length ? JSON.stringify(args) : ''})\n`);
  const result = await callTool(tool, args, session);
  for (const c of result.content) if (c.type === 'text') process.stdout.write(`${c.text}\n`);
}

export async function runDemo(config: Config): Promise<number> {
  const session = new Session({ config });
  const app = join(demoDir(), 'shop.cjs');
  try {
    process.stdout.write(`nodescope demo: tracing ${app} (a cart in the main thread, a "pricing" worker, a forked mailer)\n`);
    await show(session, 'launch', { command: `node ${JSON.stringify(app)}` });
    await new Promise((r) => setTimeout(r, 800));
    await show(session, 'get_supervision_tree');
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && session.supervisionTree().some((n) => n.status === 'running')) {
      await new Promise((r) => setTimeout(r, 100));
    }
    process.stdout.write('\n(the app has finished)\n');
    await show(session, 'get_supervision_tree');
    return 0;
  } finally {
    await session.dispose();
  }
}
