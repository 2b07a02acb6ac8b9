// The tests' polling helper: an async probe is awaited and polled until it resolves to something truthy, not
// taken as an answer the moment it returns a (truthy) promise.
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers.js';

describe('eventually', () => {
  it('polls an async probe until it resolves truthy, and answers that value', async () => {
    let calls = 0;
    const value = await eventually(async () => (++calls >= 3 ? 'ready' : false), 'the third call');
    expect([value, calls]).toEqual(['ready', 3]);
  });

  it('fails when an async probe never resolves truthy', async () => {
    await expect(eventually(async () => false, 'nothing', 100)).rejects.toThrow('timed out waiting for nothing');
  });

  it('polls a plain probe as before', async () => {
    let calls = 0;
    expect(await eventually(() => ++calls >= 2 && calls, 'the second call')).toBe(2);
  });
});
