// A debugger client already connected to the target's inspector (Chrome DevTools or VS Code over --inspect;
// here a plain CDP client that enabled Debugger and Runtime and set a breakpoint on a line not run yet):
// nodescope attaches beside it (also while it holds the program paused) and records, never pauses on its
// breakpoint, and after detach leaves its inspector port open and its session working — it evaluates, and
// its breakpoint pauses the program. A program launched with an inspector of its own keeps it after detach.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AGENT_REF } from '../../src/shared/protocol.js';
import { inspectorUrl, listeningPorts } from '../../src/trace/discovery.js';
import { eventually, FIXTURES, newTracer, startFixture } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';
import { traceWork, workRecorded } from './coexist_work.js';

/** A minimal CDP client, as a debugger front end is: requests by id, events kept in order. */
class DebuggerClient {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (r: any) => void; reject: (e: Error) => void }>();
  readonly events: { method: string; params: any }[] = [];
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.id === undefined) return void this.events.push(m);
      const w = this.waiting.get(m.id)!;
      this.waiting.delete(m.id);
      if (m.error) w.reject(new Error(m.error.message));
      else w.resolve(m.result);
    });
  }
  static async connect(url: string): Promise<DebuggerClient> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new DebuggerClient(ws);
  }
  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
  send(method: string, params: object = {}): Promise<any> {
    const id = this.next++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }
  async evaluate(expression: string): Promise<unknown> {
    return (await this.send('Runtime.evaluate', { expression, returnByValue: true })).result.value;
  }
  close(): void {
    this.ws.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The line (0-based, as CDP counts) the other client's breakpoint is on. */
const BREAKPOINT_LINE = readFileSync(join(FIXTURES, 'coexist', 'inspected.cjs'), 'utf8').split('\n').findIndex((l) => l.includes('// BREAKPOINT'));

const clients: DebuggerClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe.each(['20', '24'])('another debugger client connected, Node %s target', (major) => {
  it.each(['pid', 'address'] as const)('attach by %s records beside it, and after detach its session and breakpoint still work', async (how) => {
    // A port of its own on the command line, as a debugger's launch configuration gives: attach by pid probes
    // only the ports a process's flags name (a random one, --inspect=127.0.0.1:0, needs attach by address).
    const port = await freePort();
    const app = startFixture('coexist/inspected.cjs', [], { node: nodeTarget(major).bin, execArgv: [`--inspect=127.0.0.1:${port}`] });
    await app.line(/^ready/);
    expect(listeningPorts(app.pid)).toEqual([port]);
    const client = await DebuggerClient.connect(await inspectorUrl('127.0.0.1', port));
    clients.push(client);
    await client.send('Runtime.enable');
    await client.send('Debugger.enable');
    const bp = await client.send('Debugger.setBreakpointByUrl', { lineNumber: BREAKPOINT_LINE, urlRegex: 'coexist/inspected\\.cjs$' });
    expect(bp.locations.map((l: { lineNumber: number }) => l.lineNumber)).toEqual([BREAKPOINT_LINE]);

    const t = newTracer();
    try {
      const link = await t.tracer.attach(how === 'pid' ? app.pid : `127.0.0.1:${port}`);
      expect(link.pid).toBe(app.pid);
      expect(link.openedByUs).toBe(false);
      await traceWork(t.tracer);
      await workRecorded(t, app);
      await t.tracer.detach();
    } finally {
      await t.tracer.close();
    }

    expect(listeningPorts(app.pid)).toEqual([port]);
    expect(client.open).toBe(true);
    expect(await client.evaluate(`[process.pid, ${AGENT_REF} === undefined]`)).toEqual([app.pid, true]);
    expect(client.events.filter((e) => e.method === 'Debugger.paused')).toEqual([]);
    app.send('work');
    await app.nextLine(/^total 6$/);

    const paused = eventually(() => client.events.find((e) => e.method === 'Debugger.paused'), 'the breakpoint to pause the program');
    app.send('hit');
    const at = (await paused).params;
    expect([at.hitBreakpoints, at.callFrames[0].functionName, at.callFrames[0].location.lineNumber]).toEqual([[bp.breakpointId], 'rarely', BREAKPOINT_LINE]);
    expect(app.lines().filter((l) => l.startsWith('rarely'))).toEqual([]);
    await client.send('Debugger.resume');
    await app.line(/^rarely 42$/);
    expect(app.stdout()).toBe('ready\ntotal 6\ntotal 6\nrarely 42\n');
  });
  it('launched with an inspector of its own (--inspect) and a debugger on it: detach leaves that port and session open', async () => {
    const port = await freePort();
    const t = newTracer();
    let pid = 0;
    try {
      const link = await t.tracer.launch([nodeTarget(major).bin, `--inspect=127.0.0.1:${port}`, '-e', 'setInterval(() => {}, 1000)']);
      pid = link.pid;
      expect(link.openedByUs).toBe(false);
      const client = await DebuggerClient.connect(await inspectorUrl('127.0.0.1', port));
      clients.push(client);
      await client.send('Runtime.enable');
      await t.tracer.detach();
      await new Promise((r) => setTimeout(r, 500)); // a port nodescope opened closes 100 ms after detach
      expect(listeningPorts(pid)).toEqual([port]);
      expect(client.open).toBe(true);
      expect(await client.evaluate(`[process.pid, ${AGENT_REF} === undefined]`)).toEqual([pid, true]);
    } finally {
      await t.tracer.close();
    }
  });
  it('attaches while the other debugger holds the program paused at its breakpoint, and records once it resumes', async () => {
    const port = await freePort();
    const app = startFixture('coexist/inspected.cjs', [], { node: nodeTarget(major).bin, execArgv: [`--inspect=127.0.0.1:${port}`] });
    await app.line(/^ready/);
    const client = await DebuggerClient.connect(await inspectorUrl('127.0.0.1', port));
    clients.push(client);
    await client.send('Debugger.enable');
    await client.send('Debugger.setBreakpointByUrl', { lineNumber: BREAKPOINT_LINE, urlRegex: 'coexist/inspected\\.cjs$' });
    app.send('hit');
    await eventually(() => client.events.some((e) => e.method === 'Debugger.paused'), 'the program paused');
    const t = newTracer();
    try {
      await t.tracer.attach(`127.0.0.1:${port}`);
      await traceWork(t.tracer);
      expect(app.lines()).toEqual(['ready']);
      await client.send('Debugger.resume');
      await app.line(/^rarely 42$/);
      await workRecorded(t, app);
      await t.tracer.detach();
    } finally {
      await t.tracer.close();
    }
    expect(listeningPorts(app.pid)).toEqual([port]);
    expect(await client.evaluate('process.pid')).toBe(app.pid);
  });
});

// Not version-specific, and 15 s of waiting for an announcement that cannot come: on the machine's Node only.
it('launched with --inspect-brk, which holds it before the preload runs: the launch says so and where it waits', async () => {
  const port = await freePort();
  const t = newTracer();
  try {
    await expect(t.tracer.launch([process.execPath, `--inspect-brk=127.0.0.1:${port}`, '-e', 'process.exit(4)'])).rejects.toThrow(
      `failed: it waits for a debugger before running anything (--inspect-brk), nodescope's preload included, at 127.0.0.1:${port}: let it go from your debugger, or launch without that flag`,
    );
  } finally {
    await t.tracer.close();
  }
}, 30_000);
