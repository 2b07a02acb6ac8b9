// Where trace_module finds a loaded CommonJS module's exported functions to instrument them in place: by each
// function's own text in the scripts of the module and of what it required (never Runtime.getProperties, see
// src/trace/esm.ts exportedIn). A re-exported function is found in the file it comes from, a method in the
// module's own; two functions of the same text cannot be told apart, so those get wrappers, and the answer says
// that calls through earlier references to them are missed.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { trace_module } from '../../src/tools/trace_module.js';
import { events, startFixture } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

const text = (r: { content: unknown }) => (r.content as { text: string }[]).map((c) => c.text).join('\n');

describe.each(['20', '24'])('exported functions located by their text, Node %s', (major) => {
  it('a re-exported function and a method are instrumented in place; same-text functions are wrapped', async () => {
    const node = major === process.versions.node.split('.')[0] ? process.execPath : nodeTarget(major).bin;
    const app = startFixture('located/app.cjs', [], { node });
    await app.line(/^ready/);
    session = new Session({ config: resolveConfig({}, {}) });
    await session.attach(String(app.pid));
    const traced = text(await callTool(trace_module, { module_name: './test/fixtures/located/index.cjs' }, session));
    expect(traced).toContain(`- ${app.pid}: price, total instrumented in place`);
    expect(traced).toContain('one, uno wrapped on the exports');
    expect(traced).toContain('calls through references taken before tracing are missed');
    for (const n of [1, 2]) {
      app.send(`run ${n}`);
      expect(await app.nextLine(/^done /)).toBe(`done ${n} ${n * 2} 2 1`);
    }
    await session.sync();
    const results = events(session.store, "type = 'call' AND subtype = 'return'").map((e) => [e.payload.fn, e.payload.result]);
    expect(results).toEqual([
      ['price', 2],
      ['total', 2],
      ['price', 4],
      ['total', 2],
    ]);
  });
});
