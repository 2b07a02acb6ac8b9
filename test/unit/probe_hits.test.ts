// get_probe_hits' counts: from the store's counts when only threads are asked for (exact, nothing read),
// else counted up to 1,000 past the page and then "more than", while the pages go on in order past it.
import { describe, expect, it } from 'vitest';
import { callTool } from '../../src/server.js';
import { get_probe_hits } from '../../src/tools/get_probe_hits.js';
import { ev, EVENTS, setup } from '../query_fixture.js';

const hit = (i: number, probe: string, actor: string) => ev(40_000 + i * 10, 'probe', 'hit', actor, { probe, file: '/app/src/payments.js', line: 42, locals: { i }, values: {}, stack: [] });

async function ask(args: Record<string, unknown>) {
  const hits = [...Array.from({ length: 1_100 }, (_, i) => hit(i, 'p1', '4242')), ...Array.from({ length: 5 }, (_, i) => hit(1_100 + i, 'p2', '4242/w1'))];
  const { ctx } = setup([...EVENTS, ...hits]);
  ctx.probes = () => [];
  const r = await callTool(get_probe_hits, args, ctx);
  expect(r.isError ?? false).toBe(false);
  const data = r.structuredContent as { total: number; more?: boolean; hits: { locals: { i: string } }[] };
  return { head: (r.content as { text: string }[])[0]!.text.split('\n').find((l) => l.startsWith('Hits'))!, data };
}

describe('get_probe_hits counts', () => {
  it('every hit, or a thread\'s: the exact count', async () => {
    expect((await ask({})).head).toBe('Hits: 1105');
    const w1 = await ask({ pid_string: '4242/w1' });
    expect([w1.head, w1.data.total, w1.data.more]).toEqual(['Hits in 4242/w1: 5', 5, undefined]);
  });

  it('one probe\'s: up to 1,000 past the page, then "more than"; its pages in order past the bound', async () => {
    const p1 = await ask({ probe: 'p1', limit: 20 });
    expect([p1.head, p1.data.total, p1.data.more]).toEqual(['Hits of p1: more than 1020', 1020, true]);
    const late = await ask({ probe: 'p1', limit: 20, page: 55 });
    expect(late.data.hits.map((h) => h.locals.i)).toEqual(Array.from({ length: 20 }, (_, k) => String(1_080 + k)));
    expect([late.data.total, late.data.more]).toEqual([1_100, undefined]);
    expect((await ask({ probe: 'p2' })).head).toBe('Hits of p2: 5');
  });
});
