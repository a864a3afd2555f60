import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Integration suites start real servers; two cores, so keep files from starving each other.
    maxConcurrency: 4,
    pool: 'forks',
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
