// The rule that gives a stack back as the program would have had it untraced, shared by the host (stacks it
// records) and the agent (errors the program catches from a traced function).
import { AGENT_SOURCE_URL } from './protocol.js';

/**
 * The variable an instrumented function's body is assigned to, as an arrow (src/trace/instrument.ts): it
 * names the body's frame in stacks, and trace_line reads the arrow's scope as the function's own.
 */
export const BODY_NAME = '__ns$f';

/**
 * A stack as the program would have had it untraced: the agent's frames (its script, nodescope-agent.js)
 * left out, and a function instrumented in place shown as itself — its body runs as `__ns$f` inside it, so
 * that frame (the right place) takes the name of the function's own frame (the place of the hook's call).
 */
export function withoutTracerFrames(stack: string): string {
  if (!stack.includes(AGENT_SOURCE_URL) && !stack.includes(BODY_NAME)) return stack;
  const lines = stack.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.includes(AGENT_SOURCE_URL)) continue;
    const body = /^(\s+at (?:async )?)__ns\$f (\(.*\))$/.exec(line);
    if (body) {
      let j = i + 1;
      while (j < lines.length && lines[j]!.includes(AGENT_SOURCE_URL)) j++;
      const own = j < lines.length ? /^\s+at (?:async )?(\S+) \(/.exec(lines[j]!) : null;
      if (own) {
        out.push(`${body[1]}${own[1]} ${body[2]}`);
        i = j;
        continue;
      }
    }
    out.push(line);
  }
  return out.join('\n');
}
