// Test runners launched as a person runs them, with the code under test traced from the start: node's own
// runner (`node --test`, each test file in a child process of its own; the runner has no inspector) and
// mocha (installed in test/targets), serially in one process and with --parallel in workerpool's forked
// workers. The tree holds each process with the exit code the OS reported; the calls of cart.cjs, required
// by one test file and imported by an ES module in another, are each in the process that made them.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import { callTool } from '../../src/server.js';
import { Session } from '../../src/session.js';
import { get_function_calls } from '../../src/tools/get_function_calls.js';
import { get_supervision_tree } from '../../src/tools/get_supervision_tree.js';
import { launch } from '../../src/tools/launch.js';
import { eventually, FIXTURES } from '../helpers.js';
import { nodeTarget } from '../targets/index.js';

const MOCHA_SHOP = join(import.meta.dirname, '..', 'targets', 'programs', 'mocha_shop');
const MOCHA = join(import.meta.dirname, '..', 'targets', 'node_modules', 'mocha', 'bin', 'mocha.js');

let session: Session | undefined;
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

type Node = { id: string; name: string; status: string; exit_code?: number | null; children?: Node[] };
type Call = { actor: string; fn: string; args: string[]; outcome: string; result?: string; error?: string };

/** Launches `command` in `cwd` with cart.cjs traced from the start; its answer's text. */
async function launched(command: string, cwd: string): Promise<string> {
  session = new Session({ config: resolveConfig({}, {}) });
  const r = await callTool(launch, { command, cwd, trace_modules: 'cart.cjs' }, session);
  const text = (r.content as { text: string }[]).map((c) => c.text).join('\n');
  expect(r.isError, text).toBeFalsy();
  return text;
}

/** The tree's processes as [name, status, exit code, children], once `n` of them have ended. */
async function ended(n: number): Promise<unknown[]> {
  const flat = (nodes: Node[]): Node[] => nodes.flatMap((x) => [x, ...flat(x.children ?? [])]);
  const shape = (x: Node): unknown[] => [x.name, x.status, x.exit_code, (x.children ?? []).map(shape)];
  let tree: Node[] = [];
  await eventually(async () => {
    const r = await callTool(get_supervision_tree, {}, session!);
    tree = (r.structuredContent as { tree: Node[] }).tree;
    return flat(tree).filter((x) => x.status === 'exited').length >= n;
  }, () => `${n} processes ended: ${JSON.stringify(tree)}`);
  return tree.map(shape);
}

/** get_function_calls of cart.cjs: [actor, fn, args, outcome, result or error]. */
async function cartCalls(): Promise<unknown[][]> {
  const r = await callTool(get_function_calls, { module_name: 'cart.cjs' }, session!);
  return ((r.structuredContent as { calls?: Call[] }).calls ?? []).map((c) => [c.actor, c.fn, c.args, c.outcome, c.result ?? c.error]);
}

const unknownCode = (file: string) => `Error: unknown code FREE (at ${file}:8:19)`;

describe('node --test on Node 22, two test files', () => {
  it('traces cart.cjs in each test file\'s process, each ended with its own exit code', async () => {
    const dir = join(FIXTURES, 'node_test_shop');
    // One file at a time, in name order (by default as many at once as the CPUs less one).
    const text = await launched(`${nodeTarget('22').bin} --test --test-concurrency=1`, dir);
    expect(text.split('\n').at(-1)).toMatch(/^Warnings: pid \d+ \(node --test --test-concurrency=1\) is not traced: Node started it without an inspector; the processes it starts are$/);
    const tree = await ended(2);
    expect(tree).toEqual([
      ['cart.test.cjs', 'exited', 0, []],
      ['discount.test.mjs', 'exited', 1, []],
    ]);
    const r = await callTool(get_supervision_tree, {}, session!);
    const [first, second] = (r.structuredContent as { tree: Node[] }).tree.map((x) => x.id);
    expect(await cartCalls()).toEqual([
      [first, 'total', ['[{price: 2, qty: 3}, {price: 5, qty: 1}]'], 'returned', '11'],
      [second, 'discount', ['40', '"HALF"'], 'returned', '20'],
      [second, 'discount', ['40', '"FREE"'], 'threw', unknownCode(join(dir, 'cart.cjs'))],
    ]);
  });
});

describe('mocha on Node 26', () => {
  const calls = (actor: string) => [
    [actor, 'discount', ['40', '"HALF"'], 'returned', '20'],
    [actor, 'discount', ['40', '"FREE"'], 'threw', unknownCode(join(MOCHA_SHOP, 'cart.cjs'))],
  ];
  const total = (actor: string) => [actor, 'total', ['[{price: 2, qty: 3}, {price: 5, qty: 1}]'], 'returned', '11'];

  it('serially: traces cart.cjs in mocha\'s process, which the tree shows ended with exit code 1 for the failed spec', async () => {
    await launched(`${nodeTarget('26').bin} ${MOCHA} test/*.spec.*`, MOCHA_SHOP);
    expect(await ended(1)).toEqual([['mocha.js test/*.spec.*', 'exited', 1, []]]);
    const r = await callTool(get_supervision_tree, {}, session!);
    const main = (r.structuredContent as { tree: Node[] }).tree[0]!.id;
    // mocha loads every spec file before it runs any, and runs them in name order.
    expect(await cartCalls()).toEqual([...calls(main), total(main)]);
  });

  it('with --parallel: traces cart.cjs in each of workerpool\'s forked workers, a spec file in each', async () => {
    await launched(`${nodeTarget('26').bin} ${MOCHA} --parallel --jobs 2 test/*.spec.*`, MOCHA_SHOP);
    // Both files are handed out at once: the second goes to a second worker. workerpool ends its workers
    // with a message once the specs are run.
    const worker = ['worker.cjs', 'exited', 0, []];
    expect(await ended(3)).toEqual([['mocha.js --parallel --jobs 2 test/*.spec.*', 'exited', 1, [worker, worker]]]);
    const r = await callTool(get_supervision_tree, {}, session!);
    const workers = (r.structuredContent as { tree: Node[] }).tree[0]!.children!.map((w) => w.id);
    const listed = await cartCalls();
    const byDiscount = listed.find((c) => c[1] === 'discount')![0] as string;
    expect(workers).toContain(byDiscount);
    const other = workers.find((w) => w !== byDiscount)!;
    expect(listed.filter((c) => c[0] === byDiscount)).toEqual(calls(byDiscount));
    expect(listed.filter((c) => c[0] !== byDiscount)).toEqual([total(other)]);
  });
});
