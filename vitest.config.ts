import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/support/fast-check-seed.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Integration files start real servers (Prometheus, InfluxDB, VictoriaMetrics, Chromium), so
    // the number of test files running at once is what must be bounded: that is the number of
    // worker processes. (`maxConcurrency` only bounds `.concurrent` tests within one file, which
    // this suite does not use.) Vitest's default is one worker per core but one, unbounded on a
    // big machine; at most two, and one on a two-core machine, where servers and the daemon
    // under test need the other core.
    maxWorkers: Math.min(2, Math.max(1, availableParallelism() - 1)),
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
