// Web apps under test (Express, Koa, Hono): requests sent one by one, each checked against the status it
// should be answered with, and what get_http_requests lists once every one is answered.
import { expect } from 'vitest';
import { callTool } from '../../src/server.js';
import type { Session } from '../../src/session.js';
import { get_http_requests } from '../../src/tools/get_http_requests.js';
import { eventually } from '../helpers.js';

/** [method, path, the status the app answers it with]. */
export type Sent = [string, string, number][];
export type Listed = { method: string; url: string; status: number; route: string | null; pending: boolean };

/** Sends each request in turn (redirects not followed) and checks the status it was answered with. */
export async function sendAll(port: number, sent: Sent): Promise<void> {
  for (const [method, path, status] of sent) {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, redirect: 'manual' });
    await r.arrayBuffer();
    expect([method, path, r.status]).toEqual([method, path, status]);
  }
}

/** get_http_requests once it lists `n` requests, all answered: their rows and the answer's text. */
export async function answered(session: Session, n: number): Promise<{ requests: Listed[]; text: string }> {
  return eventually(async () => {
    const r = await callTool(get_http_requests, {}, session);
    const data = r.structuredContent as { total: number; requests: Listed[] };
    return !r.isError && data.total === n && data.requests.every((q) => !q.pending) && { requests: data.requests, text: (r.content as { text: string }[])[0]!.text };
  }, `${n} answered requests`);
}
