/**
 * README's first quick-start command ends in `scripts/quickstart.ts`: demo app → real Prometheus →
 * `promflux --once` → real InfluxDB 1.x, then it prints what landed. Run here as the operator would
 * (the wrapper's package installs and build are what this suite's own setup does).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

function runQuickstart(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/quickstart.ts'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('quick start', () => {
  it('moves the demo app metrics through Prometheus and promflux --once into InfluxDB', async () => {
    const run = await runQuickstart();
    expect(run.code, run.stderr).toBe(0);
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
