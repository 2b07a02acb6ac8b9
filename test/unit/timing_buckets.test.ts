// The duration buckets of timing-only traces: every duration falls in the bucket whose range holds it.
import { describe, expect, it } from 'vitest';
import { TIMING_BUCKETS, timingBucket, timingBucketRange } from '../../src/shared/protocol.js';

describe('timing buckets', () => {
  it('put each duration in the bucket whose [low, high) range holds it, four per power of two', () => {
    const samples = [0, 0.5, 1, 1.3, 2, 3.9, 4, 5, 7, 8, 100, 1000, 1023, 1024, 1279, 1280, 123_456, 2 ** 31 - 1, 2 ** 31, 5e9, 3.7e12];
    for (const ns of samples) {
      const b = timingBucket(ns);
      const [lo, hi] = timingBucketRange(b);
      expect([ns, lo <= ns && ns < hi, b < TIMING_BUCKETS]).toEqual([ns, true, true]);
    }
    expect([1000, 1023, 1024, 1280].map(timingBucket)).toEqual([1 + 4 * 9 + 3, 1 + 4 * 9 + 3, 1 + 4 * 10, 1 + 4 * 10 + 1]);
    // Past the top, the last bucket.
    expect(timingBucket(1e18)).toBe(TIMING_BUCKETS - 1);
  });
});
