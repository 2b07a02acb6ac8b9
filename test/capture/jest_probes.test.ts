// trace_line on a jest 29 run (installed from the registry into test/targets): jest runs each test file's
// modules in a vm context of its own, whose global is not the one the agent is on, so a probe's breakpoint
// condition found no agent there and recorded nothing. Contexts created once nodescope is in carry the agent
// too: launched under nodescope, the probe's hits are recorded with their locals. Attached while a test file
// runs, its context predates the agent: trace_line says so rather than waiting for hits that cannot come.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PROBE_LIMITS } from '../../src/trace/probes.js';
import type { Tracer } from '../../src/trace/tracer.js';
import { eventually, events, newTracer, startFixture, tempDir } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

const TARGETS = join(import.meta.dirname, '..', 'targets');
const SHOP = join(TARGETS, 'programs', 'jest_shop');
const PRICE = join(SHOP, 'price.js');

let tracer: Tracer | undefined;
afterEach(async () => {
  await tracer?.close();
  tracer = undefined;
});

describe.each(['20', '26'])('jest 29 on Node %s', (major) => {
  it('records the hits of a probe in a module a test file runs, launched under nodescope', async () => {
    const stop = join(tempDir(), 'stop');
    const t = newTracer();
    tracer = t.tracer;
    // The spec quotes every 50 ms until this file exists (cart.spec.js); the env is read as the run starts.
    process.env.SHOP_STOP = stop;
    const link = await t.tracer.launch([nodeTarget(major).bin, join(TARGETS, 'node_modules', 'jest', 'bin', 'jest.js'), '--rootDir', SHOP, '--ci']);
    delete process.env.SHOP_STOP;
    const probe = await t.tracer.traceLine({ file: PRICE, line: 3, limits: DEFAULT_PROBE_LIMITS });
    expect(probe).toMatchObject({ file: PRICE, line: 3, state: 'active', rejected: [] });
    const hits = await eventually(() => {
      t.tracer.ingest.flush();
      const h = events(t.store, "type = 'probe' AND subtype = 'hit'");
      return h.length >= 2 && h;
    }, 'two hits', 30_000);
    expect(hits[0]!.payload).toMatchObject({ probe: probe.id, file: PRICE, line: 3, locals: { line: { price: 4, qty: 2 }, total: 8 } });
    expect(hits[1]!.payload).toMatchObject({ locals: { line: { price: 1, qty: 3 }, total: 3 } });
    expect(hits[0]!.payload.stack[0]).toMatch(`lineTotal (${PRICE}:3:`);
    writeFileSync(stop, '');
    const ended = await eventually(() => {
      t.tracer.ingest.flush();
      const actor = t.store.actor(String(link.pid));
      return actor?.ended_ms != null && actor;
    }, 'jest to end', 30_000);
    expect(ended).toMatchObject({ status: 'exited', exit_code: 0 });
  }, 60_000);

  it('says why a probe in a test file already running when nodescope attached records nothing', async () => {
    const stop = join(tempDir(), 'stop');
    process.env.SHOP_STOP = stop;
    const app = startFixture(join('..', 'targets', 'node_modules', 'jest', 'bin', 'jest.js'), ['--rootDir', SHOP, '--ci'], { node: nodeTarget(major).bin });
    delete process.env.SHOP_STOP;
    await app.line(/quoting/, 30_000);
    const t = newTracer();
    tracer = t.tracer;
    await t.tracer.attach(String(app.pid));
    const probe = await t.tracer.traceLine({ file: PRICE, line: 3, limits: DEFAULT_PROBE_LIMITS });
    expect(probe.sites).toMatchObject([{ actor: String(app.pid), url: `file://${PRICE}`, line: 3, state: 'armed', stopped: expect.stringContaining('a vm context made before nodescope came') }]);
    await t.tracer.close();
    tracer = undefined;
    writeFileSync(stop, '');
    expect(await app.exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});
