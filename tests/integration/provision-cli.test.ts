/**
 * `promflux provision` through the built CLI: against the real InfluxDB 1.6.7 (databases and
 * retention policies) and the 2.x fake (buckets, a write-only token). The generation comes from
 * `/ping`, as in production (`api: auto`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startInfluxV1, type InfluxV1Server } from '../../scripts/lib/servers.js';
import { InfluxDbV2Fake } from '../fakes/influxdb-v2-fake.js';
import { runChild } from '../support/child-process.js';

const CLI = resolve(import.meta.dirname, '../../bin/promflux.js');
const ADMIN = { username: 'promflux-admin', password: 'adm1n-pa55word' };
const WRITER = { username: 'writer', password: 'wr1ter-pa55' };
const DAY_S = 86_400;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'promflux-provision-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a config with `influxdb` lines and `tiers` lines under `load:`; returns its path. */
async function configFile(name: string, influxdb: string[], tiers: string[]): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  const yaml = [
    'extract:',
    '  prometheus_url: "http://127.0.0.1:1"',
    'load:',
    '  influxdb:',
    ...influxdb.map((l) => `    ${l}`),
    ...(tiers.length > 0 ? ['  tiers:', ...tiers.map((t) => `    - ${t}`)] : []),
    '',
  ].join('\n');
  await writeFile(path, yaml);
  return path;
}

function provision(config: string, ...flags: string[]) {
  return runChild(process.execPath, [CLI, 'provision', '-c', config, ...flags], {
    env: { ...process.env, PROMFLUX_CONFIG: '' },
  });
}

describe('promflux provision on a real InfluxDB 1.6.7', () => {
  let influx: InfluxV1Server;
  const TIERS = [
    '{name: hot, bucket: metrics/hot, retention: 7d}',
    '{name: warm, bucket: metrics/warm, retention: 90d, resolution: 5m}',
    '{name: cold, bucket: metrics/cold, retention: 730d, resolution: 1h}',
  ];
  const user = (u: typeof ADMIN): string[] => [
    `username: "${u.username}"`,
    `password: "${u.password}"`,
  ];

  beforeAll(async () => {
    influx = await startInfluxV1({ auth: ADMIN });
    await influx.query(`CREATE USER "${WRITER.username}" WITH PASSWORD '${WRITER.password}'`);
  });
  afterAll(async () => {
    await influx?.stop();
  });

  async function policies(db: string): Promise<Record<string, unknown>> {
    const res = await influx.query(`SHOW RETENTION POLICIES ON "${db}"`);
    return Object.fromEntries(
      (res.results[0]?.series?.[0]?.values ?? []).map((row) => [String(row[0]), row[1]]),
    );
  }

  async function databases(): Promise<string[]> {
    const res = await influx.query('SHOW DATABASES');
    return (res.results[0]?.series?.[0]?.values ?? []).map((row) => String(row[0]));
  }

  it('plans with --dry-run, creates, then finds everything as configured', async () => {
    const config = await configFile('v1', [`url: "${influx.url}"`, ...user(ADMIN)], TIERS);

    const plan = await provision(config, '--dry-run');
    expect(plan.stdout.split('\n').filter(Boolean)).toEqual([
      'tier "hot": retention policy "hot" on database "metrics": missing, would be created with retention 7d',
      'tier "warm": retention policy "warm" on database "metrics": missing, would be created with retention 90d',
      'tier "cold": retention policy "cold" on database "metrics": missing, would be created with retention 730d',
    ]);
    expect(plan.status).toBe(0);
    expect(await databases()).not.toContain('metrics');

    const created = await provision(config);
    expect(created.stdout).toContain(
      'tier "warm": retention policy "warm" on database "metrics": created, retention 90d\n',
    );
    expect(created.status).toBe(0);
    expect(await policies('metrics')).toMatchObject({
      hot: '168h0m0s',
      warm: '2160h0m0s',
      cold: '17520h0m0s',
    });

    const again = await provision(config, '--json');
    expect(again.status).toBe(0);
    const report = JSON.parse(again.stdout) as {
      generation: string;
      results: { tier: string; outcome: string }[];
    };
    expect(report.generation).toBe('v1');
    expect(report.results.map((r) => [r.tier, r.outcome])).toEqual([
      ['hot', 'exists'],
      ['warm', 'exists'],
      ['cold', 'exists'],
    ]);
  });

  it('exits 4 on a differing retention, and 0 once --apply-retention changed it', async () => {
    const config = await configFile('v1-differs', [`url: "${influx.url}"`, ...user(ADMIN)], TIERS);
    await provision(config);
    await influx.query('ALTER RETENTION POLICY "hot" ON "metrics" DURATION 14d');

    const reported = await provision(config);
    expect(reported.stdout).toContain(
      'tier "hot": retention policy "hot" on database "metrics": exists, retention 14d differs from the configured 7d (run `promflux provision --apply-retention` to change it)',
    );
    expect(reported.status).toBe(4);
    expect((await policies('metrics')).hot).toBe('336h0m0s');

    const changed = await provision(config, '--apply-retention');
    expect(changed.stdout).toContain(
      'tier "hot": retention policy "hot" on database "metrics": retention changed from 14d to 7d',
    );
    expect(changed.status).toBe(0);
    expect((await policies('metrics')).hot).toBe('168h0m0s');
  });

  it('exits 4 for a user without the privilege, naming it and the fix, no password shown', async () => {
    const config = await configFile(
      'v1-writer',
      [`url: "${influx.url}"`, ...user(WRITER)],
      ['{name: hot, bucket: fresh/hot, retention: 7d}'],
    );
    const run = await provision(config);
    expect(run.stdout).toMatch(
      /^tier "hot": retention policy "hot" on database "fresh": not checked or changed: the user may not create database "fresh": it needs admin privilege \(user "writer"\).*; run `promflux provision` with an admin user\n$/,
    );
    expect(run.status).toBe(4);
    expect(run.stdout + run.stderr).not.toContain(WRITER.password);
    expect(await databases()).not.toContain('fresh');
  });

  it('leaves the retention of a single load.influxdb.bucket alone, DEFAULT policy included', async () => {
    await influx.query('CREATE DATABASE "legacy"');
    await influx.query('ALTER RETENTION POLICY "autogen" ON "legacy" DURATION 30d');
    const config = await configFile(
      'v1-legacy',
      [`url: "${influx.url}"`, ...user(ADMIN), 'bucket: "legacy/autogen"'],
      [],
    );
    const run = await provision(config, '--apply-retention');
    expect(run.stdout).toBe(
      'tier "raw": retention policy "autogen" on database "legacy": exists, retention 30d (not configured: load.tiers sets one)\n',
    );
    expect(run.status).toBe(0);
    expect((await policies('legacy')).autogen).toBe('720h0m0s');
  });

  it('refuses a finite retention through a DEFAULT policy once /ping says 1.x (exit 2)', async () => {
    const config = await configFile(
      'v1-bare',
      [`url: "${influx.url}"`, ...user(ADMIN)],
      ['{name: hot, bucket: bare, retention: 7d}'],
    );
    const run = await provision(config);
    expect(run.stderr).toContain(
      'load.tiers[0].bucket: tier "hot" has a finite retention, so it must name "database/retention_policy"',
    );
    expect(run.status).toBe(2);
    expect(await databases()).not.toContain('bare');
  });
});

describe('promflux provision on InfluxDB 2.x (the fake)', () => {
  let fake: InfluxDbV2Fake;
  beforeAll(async () => {
    fake = await InfluxDbV2Fake.start({ writeOnlyToken: 'write-only-t0ken' });
  });
  afterAll(async () => {
    await fake?.stop();
  });

  const TIERS = [
    '{name: hot, bucket: metrics_hot, retention: 7d}',
    '{name: cold, bucket: metrics_cold, retention: 0, resolution: 1h}',
  ];
  const influxdb = (token: string): string[] => [
    `url: "${fake.url}"`,
    `token: "${token}"`,
    `org: "${fake.org}"`,
  ];

  it('creates the buckets with their retention, and a rerun finds them', async () => {
    const config = await configFile('v2', influxdb(fake.token), TIERS);
    const run = await provision(config);
    expect(run.stdout.split('\n').filter(Boolean)).toEqual([
      `tier "hot": bucket "metrics_hot" in org "${fake.org}": created, retention 7d`,
      `tier "cold": bucket "metrics_cold" in org "${fake.org}": created, retention forever`,
    ]);
    expect(run.status).toBe(0);
    expect(fake.findBucket('metrics_hot')!.retentionSeconds).toBe(7 * DAY_S);
    expect(fake.findBucket('metrics_cold')!.retentionSeconds).toBe(0);

    const again = await provision(config);
    expect(again.stdout).toContain('exists, retention 7d as configured');
    expect(again.status).toBe(0);
  });

  it('exits 4 for a write-only token, naming the permission and the fix', async () => {
    const config = await configFile('v2-write-only', influxdb('write-only-t0ken'), [
      '{name: warm, bucket: metrics_warm, retention: 90d}',
    ]);
    const run = await provision(config);
    expect(run.stdout).toMatch(
      /^tier "warm": .*not checked or changed: the token may not .*read:orgs/,
    );
    expect(run.stdout).toContain('run `promflux provision` with an admin token');
    expect(run.status).toBe(4);
    expect(run.stdout + run.stderr).not.toContain('write-only-t0ken');
    expect(fake.findBucket('metrics_warm')).toBeUndefined();
  });
});
