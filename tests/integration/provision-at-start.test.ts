/**
 * `load.provision: true` through the built CLI: `backfill`, `--once` and `run` create the tiers'
 * buckets before writing, and a write-only token is a warning naming the tier, the permission and
 * the fix, never a failed run. Real Prometheus 2.42, the InfluxDB 2.x fake.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import { startPrometheus, type StartedServer } from '../../scripts/lib/servers.js';
import { InfluxDbV2Fake } from '../fakes/influxdb-v2-fake.js';
import { runChild, type ChildRun } from '../support/child-process.js';

const BIN = resolve(import.meta.dirname, '../../bin/promflux.js');
const STEP_MS = 15_000;
const NOW = Math.floor(Date.now() / STEP_MS) * STEP_MS;
const FIXTURE = { startMs: NOW - 30 * 60_000, endMs: NOW - 2 * 60_000 };
const WRITE_ONLY = 'write-only-t0ken';
const rfc3339 = (ms: number): string => new Date(ms).toISOString();

describe('load.provision at start', () => {
  let prometheus: StartedServer;
  let fake: InfluxDbV2Fake;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-provision-start-'));
    [prometheus, fake] = await Promise.all([
      startPrometheus({
        openMetrics: generateHealthFixture({ ...FIXTURE, intervalMs: STEP_MS, instances: 1 }),
      }),
      InfluxDbV2Fake.start({ writeOnlyToken: WRITE_ONLY }),
    ]);
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), fake?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function config(
    name: string,
    bucket: string,
    o: { token?: string; provision?: boolean; moreTiers?: string[] } = {},
  ) {
    const path = join(dir, `${name}.yaml`);
    await writeFile(
      path,
      `extract:
  prometheus_url: "${prometheus.url}"
  queries:
    - { name: availability, query: up }
load:
  influxdb: { url: "${fake.url}", token: "${o.token ?? fake.token}", org: "${fake.org}" }
  tiers:
    - { name: hot, bucket: ${bucket}, retention: 0 }
${(o.moreTiers ?? []).map((t) => `    - ${t}\n`).join('')}  provision: ${String(o.provision ?? true)}
pipeline:
  state_dir: "${join(dir, `${name}-state`)}"
  log_level: info
  delay: 0s
  interval_seconds: 600
server:
  listen: false
`,
    );
    return path;
  }

  const cli = (...args: string[]): Promise<ChildRun> =>
    runChild(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, PROMFLUX_CONFIG: '' },
    });
  const range = ['--from', rfc3339(FIXTURE.startMs), '--to', rfc3339(FIXTURE.endMs)];

  it('backfill creates the missing bucket, then writes into it', async () => {
    const path = await config('backfill', 'metrics_backfill');
    const run = await cli('backfill', '-c', path, ...range, '--no-progress');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      `load.provision: tier \\"hot\\": bucket \\"metrics_backfill\\" in org \\"${fake.org}\\": created, retention forever`,
    );
    expect(fake.findBucket('metrics_backfill')!.retentionSeconds).toBe(0);
    expect(fake.points('metrics_backfill').length).toBeGreaterThan(0);
  });

  it('without load.provision, nothing is created', async () => {
    const path = await config('off', 'metrics_off', { provision: false });
    const run = await cli('backfill', '-c', path, ...range, '--no-progress');
    expect(run.stderr).not.toContain('load.provision');
    expect(fake.findBucket('metrics_off')).toBeUndefined();
  });

  it('a write-only token is a warning naming the tier, the permission and the fix', async () => {
    const path = await config('write-only', fake.bucket, { token: WRITE_ONLY });
    const run = await cli('backfill', '-c', path, ...range, '--no-progress');
    expect(run.status, run.stderr).toBe(0);
    const warning = run.stderr
      .split('\n')
      .filter((l) => l.includes('load.provision'))
      .map((l) => JSON.parse(l) as { level: string; tier: string; msg: string });
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatchObject({ level: 'warn', tier: 'hot' });
    expect(warning[0]!.msg).toMatch(/not checked or changed: the token may not .*read:orgs/);
    expect(warning[0]!.msg).toContain('run `promflux provision` with an admin token');
    expect(run.stderr).not.toContain(WRITE_ONLY);
    expect(fake.points(fake.bucket).length).toBeGreaterThan(0);
  });

  it('--once provisions before its cycle', async () => {
    const path = await config('once', 'metrics_once');
    const run = await cli('--once', '-c', path);
    expect(run.status, run.stderr).toBe(0);
    expect(fake.findBucket('metrics_once')).toBeDefined();
  });

  it('run provisions before its first cycle', async () => {
    const path = await config('daemon', 'metrics_daemon');
    const child = spawn(process.execPath, [BIN, 'run', '-c', path], {
      cwd: dir,
      env: { ...process.env, PROMFLUX_CONFIG: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const running = new Promise<void>((done) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (stderr.includes('Cycles run')) done();
      });
    });
    const exited = once(child, 'exit');
    try {
      await Promise.race([running, exited]);
      const provisioned = stderr.indexOf('\\"metrics_daemon\\" in org');
      expect(provisioned).toBeGreaterThan(-1);
      expect(provisioned).toBeLessThan(stderr.indexOf('Cycles run'));
      expect(fake.findBucket('metrics_daemon')).toBeDefined();
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  });

  it('check reports every tier: a missing one fails, then all are ok once provisioned', async () => {
    fake.createBucket(fake.org, 'metrics_checked', 0);
    const path = await config('check', 'metrics_checked', {
      provision: false,
      moreTiers: ['{ name: cold, bucket: metrics_check_cold, retention: 730d, resolution: 1h }'],
    });
    const before = await cli('check', '-c', path);
    expect(before.stdout).toContain(
      `ok   tier "hot": bucket "metrics_checked" in org "${fake.org}": exists, retention forever as configured\n`,
    );
    expect(before.stdout).toContain(
      `FAIL tier "cold": bucket "metrics_check_cold" in org "${fake.org}": missing, would be created with retention 730d; run \`promflux provision\`\n`,
    );
    expect(before.status).toBe(1);
    expect(fake.findBucket('metrics_check_cold')).toBeUndefined();

    expect((await cli('provision', '-c', path)).status).toBe(0);
    const after = await cli('check', '-c', path);
    expect(after.stdout).toContain(
      `ok   tier "cold": bucket "metrics_check_cold" in org "${fake.org}": exists, retention 730d as configured\n`,
    );
    expect(after.status, after.stdout).toBe(0);
  });
});
