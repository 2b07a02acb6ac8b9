import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that measure latency under a load they make themselves (a flood, and tools asked during it): run
 * after the others, with the machine to themselves, as the bench runs its scenarios.
 */
const ALONE = ['test/capture/flood.test.ts'];

export default defineConfig({
  test: {
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', ['json', { outputFile: '.vitest/results.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          // better-sqlite3 is a native addon: forks isolate it better than worker threads.
          pool: 'forks',
          // Two at a time on the CI's 2 cores: most tests wait on the processes they start.
          maxWorkers: 2,
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...ALONE],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'alone',
          pool: 'forks',
          include: ALONE,
          testTimeout: 30_000,
          hookTimeout: 30_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
