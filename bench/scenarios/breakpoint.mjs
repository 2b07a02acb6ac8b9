// Breakpoint / logpoint cost, for contrast with wrapper-based function tracing: a small function called in a
// loop, untraced vs. with a logpoint (Debugger.setBreakpointByUrl with a condition that logs and returns
// false — what debugger-based MCP servers and DevTools logpoints do), driven over the inspector directly.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { fixture, fmtInt, fmtNum, interleave, median, row, startFixture, verdict } from '../lib/common.mjs';

export const name = 'breakpoint';

function connect(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let id = 0;
    const pending = new Map();
    const events = { console: 0 };
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error) p?.reject(new Error(`${p.method}: ${m.error.message}`));
        else p?.resolve(m.result);
      } else if (m.method === 'Runtime.consoleAPICalled') events.console++;
    });
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        events,
        send(method, params = {}) {
          return new Promise((res, rej) => {
            pending.set(++id, { resolve: res, reject: rej, method });
            ws.send(JSON.stringify({ id, method, params }));
          });
        },
        close: () => ws.close(),
      }),
    );
  });
}

export async function run({ smoke, rounds }) {
  const n = rounds ?? (smoke ? 1 : 3);
  const plainCalls = smoke ? 2_000_000 : 20_000_000;
  const bpCalls = smoke ? 500 : 5_000;
  const file = fixture('bp_target.cjs');
  const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('LOGPOINT LINE'));
  let url;
  const target = await startFixture(file, {
    nodeArgs: ['--inspect=127.0.0.1:0'],
    onStderr: (chunk) => (url ??= /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(chunk)?.[0]),
  });
  let session;
  try {
    if (!url) throw new Error('the breakpoint fixture printed no inspector URL');
    session = await connect(url);
    await session.send('Runtime.enable'); // logpoint output reaches the client, as in a debugger
    const bench = async (calls) => {
      const { result, exceptionDetails } = await session.send('Runtime.evaluate', { expression: `__bench(${calls})`, returnByValue: true });
      if (exceptionDetails) throw new Error(`bench failed: ${exceptionDetails.text}`);
      return result.value;
    };
    await bench(plainCalls / 10); // warm up: the untraced loop is optimized before it is measured
    const res = await interleave(n, ['plain', 'logpoint'], async (v) => {
      if (v === 'plain') return bench(plainCalls);
      await session.send('Debugger.enable');
      const { breakpointId } = await session.send('Debugger.setBreakpointByUrl', {
        lineNumber: line,
        urlRegex: 'bp_target\\.cjs$',
        condition: `console.log('add', a, b), false`,
      });
      try {
        return await bench(bpCalls);
      } finally {
        await session.send('Debugger.removeBreakpoint', { breakpointId });
        await session.send('Debugger.disable');
      }
    });
    const plain = median(res.plain);
    const lp = median(res.logpoint);
    const expected = n * bpCalls;
    return [
      row(name, 'logpoint on a small function: added ns/call', {
        baseline: `${fmtNum(plain, 1)} ns/call`, traced: `${fmtInt(lp)} ns/call`, figure: `+${fmtInt(lp - plain)} ns (×${fmtInt(lp / plain)})`,
        bar: 'contrast only', result: 'info',
        note: `${fmtInt(bpCalls)} hits per round, ${n} round(s); ${fmtInt(session.events.console)} of ${fmtInt(expected)} console messages reached the client by the end`,
        data: res,
      }),
    ];
  } finally {
    session?.close();
    await target.stop();
  }
}
