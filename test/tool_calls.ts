// Tools called by name on a session, as a client calls them (kept apart from helpers.ts, which most test
// files import: this one loads every tool).
import { expect } from 'vitest';
import { callTool } from '../src/server.js';
import type { Session } from '../src/session.js';
import { TOOLS } from '../src/tools/registry.js';

/** A tool's text and structured answer; an error answer fails the test. */
export async function callByName(session: Session, name: string, args: Record<string, unknown> = {}): Promise<{ text: string; data: any }> {
  const r = await callTool(TOOLS.find((t) => t.name === name)!, args, session);
  const text = (r.content as { text: string }[]).map((c) => c.text).join('\n');
  expect(r.isError, `${name}: ${text}`).toBeFalsy();
  return { text, data: r.structuredContent as any };
}
