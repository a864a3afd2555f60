/**
 * README's first quick-start command ends in `scripts/quickstart.ts`: demo app → real Prometheus →
 * `promflux --once` → real InfluxDB 1.x, then it prints what landed. Run here as the operator would
 * (the wrapper's package installs and build are what this suite's own setup does).
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChild } from '../support/child-process.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

describe('quick start', () => {
  it('moves the demo app metrics through Prometheus and promflux --once into InfluxDB', async () => {
    const run = await runChild(process.execPath, ['--import', 'tsx', 'scripts/quickstart.ts'], {
      cwd: REPO_ROOT,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('promflux exited with code 0');
    const landed = /Done: (\d+) points written/.exec(run.stdout);
    expect(landed).not.toBeNull();
    expect(Number(landed![1])).toBeGreaterThan(0);
    // Every query of the demo config lands with its tags.
    for (const type of ['availability', 'error_rate', 'latency_p95', 'request_rate']) {
      expect(run.stdout).toContain(`newest rows, metric_type=${type}:`);
    }
    expect(run.stdout).toMatch(/\btest-app\b/);
  }, 240_000);
});
