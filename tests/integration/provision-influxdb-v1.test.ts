import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startInfluxV1, type InfluxV1Server } from '../../scripts/lib/servers.js';
import {
  formatTierResult,
  type ProvisionConnection,
  type ProvisionOptions,
  type TierSpec,
} from '../../src/load/provision/plan.js';
import { provision } from '../../src/load/provision/provision.js';

const ADMIN = { username: 'promflux-admin', password: 'adm1n-pa55word' };
const WRITER = { username: 'writer', password: 'wr1ter-pa55' };
const DAY_MS = 86_400_000;

const TIERS: TierSpec[] = [
  { name: 'hot', bucket: 'metrics/hot', retentionMs: 7 * DAY_MS },
  { name: 'warm', bucket: 'metrics/warm', retentionMs: 90 * DAY_MS },
  { name: 'cold', bucket: 'metrics/cold', retentionMs: 730 * DAY_MS },
  { name: 'archive', bucket: 'archive', retentionMs: 0 },
];

const PLAN: ProvisionOptions = { dryRun: true, applyRetention: false };
const APPLY: ProvisionOptions = { dryRun: false, applyRetention: false };
const APPLY_RETENTION: ProvisionOptions = { dryRun: false, applyRetention: true };

describe('provisioning on a real InfluxDB 1.6.7', () => {
  let influx: InfluxV1Server;

  beforeAll(async () => {
    influx = await startInfluxV1({ auth: ADMIN });
    await influx.query(`CREATE USER "${WRITER.username}" WITH PASSWORD '${WRITER.password}'`);
  });
  afterAll(async () => {
    await influx?.stop();
  });

  function connection(user = ADMIN): ProvisionConnection {
    return {
      endpoint: {
        url: influx.url,
        timeoutMs: 10_000,
        headers: {},
        auth: { type: 'none' },
        tls: {},
      },
      username: user.username,
      password: user.password,
    };
  }

  async function databases(): Promise<string[]> {
    const res = await influx.query('SHOW DATABASES');
    return (res.results[0]?.series?.[0]?.values ?? []).map((row) => String(row[0]));
  }

  /** name → [duration, shardGroupDuration, replicaN, default], as SHOW RETENTION POLICIES says. */
  async function policies(db: string): Promise<Record<string, unknown[]>> {
    const res = await influx.query(`SHOW RETENTION POLICIES ON "${db}"`);
    return Object.fromEntries(
      (res.results[0]?.series?.[0]?.values ?? []).map((row) => [String(row[0]), row.slice(1)]),
    );
  }

  it('plans in dry-run without creating anything', async () => {
    const report = await provision('v1', connection(), TIERS, PLAN);
    expect(report.results.map((r) => [r.tier, r.outcome])).toEqual([
      ['hot', 'would-create'],
      ['warm', 'would-create'],
      ['cold', 'would-create'],
      ['archive', 'would-create'],
    ]);
    expect(await databases()).not.toContain('metrics');
    expect(await databases()).not.toContain('archive');
  });

  it('creates databases and non-default policies with the configured durations', async () => {
    const report = await provision('v1', connection(), TIERS, APPLY);
    expect(report.results.map((r) => [r.tier, r.outcome])).toEqual([
      ['hot', 'created'],
      ['warm', 'created'],
      ['cold', 'created'],
      ['archive', 'created'],
    ]);
    expect(formatTierResult(report.results[0]!)).toBe(
      'tier "hot": retention policy "hot" on database "metrics": created, retention 7d',
    );
    expect(await policies('metrics')).toEqual({
      autogen: ['0s', '168h0m0s', 1, true],
      hot: ['168h0m0s', '24h0m0s', 1, false],
      warm: ['2160h0m0s', '24h0m0s', 1, false],
      cold: ['17520h0m0s', '168h0m0s', 1, false],
    });
    expect(await policies('archive')).toEqual({ autogen: ['0s', '168h0m0s', 1, true] });
  });

  it('changes nothing on a second run', async () => {
    const before = await policies('metrics');
    const report = await provision('v1', connection(), TIERS, APPLY_RETENTION);
    expect(report.results.map((r) => r.outcome)).toEqual(['exists', 'exists', 'exists', 'exists']);
    expect(report.results.map((r) => r.actualRetentionMs)).toEqual(TIERS.map((t) => t.retentionMs));
    expect(formatTierResult(report.results[1]!)).toBe(
      'tier "warm": retention policy "warm" on database "metrics": exists, retention 90d as configured',
    );
    expect(await policies('metrics')).toEqual(before);
  });

  it('reports a differing retention and changes it only with apply-retention', async () => {
    await influx.query('ALTER RETENTION POLICY "hot" ON "metrics" DURATION 14d');

    const reported = await provision('v1', connection(), TIERS, APPLY);
    expect(reported.results[0]).toMatchObject({
      outcome: 'differs',
      actualRetentionMs: 14 * DAY_MS,
      configuredRetentionMs: 7 * DAY_MS,
    });
    expect(formatTierResult(reported.results[0]!)).toContain(
      'retention 14d differs from the configured 7d (run `promflux provision --apply-retention`',
    );
    expect((await policies('metrics')).hot![0]).toBe('336h0m0s');

    const planned = await provision('v1', connection(), TIERS, {
      ...APPLY_RETENTION,
      dryRun: true,
    });
    expect(planned.results[0]!.outcome).toBe('would-change-retention');
    expect((await policies('metrics')).hot![0]).toBe('336h0m0s');

    const changed = await provision('v1', connection(), TIERS, APPLY_RETENTION);
    expect(changed.results.map((r) => r.outcome)).toEqual([
      'retention-changed',
      'exists',
      'exists',
      'exists',
    ]);
    expect((await policies('metrics')).hot![0]).toBe('168h0m0s');
  });

  it('shortens a retention below the shard group duration by shrinking the shard groups too', async () => {
    await influx.query('CREATE RETENTION POLICY "long" ON "metrics" DURATION 200d REPLICATION 1');
    expect((await policies('metrics')).long!.slice(0, 2)).toEqual(['4800h0m0s', '168h0m0s']);
    const tiers = [{ name: 'short', bucket: 'metrics/long', retentionMs: 2 * DAY_MS }];
    const report = await provision('v1', connection(), tiers, APPLY_RETENTION);
    expect(report.results[0]!.outcome).toBe('retention-changed');
    expect((await policies('metrics')).long!.slice(0, 2)).toEqual(['48h0m0s', '24h0m0s']);
  });

  it('never uses or alters a DEFAULT policy for a tier', async () => {
    const tiers = [
      { name: 'hot', bucket: 'metrics/autogen', retentionMs: 7 * DAY_MS },
      { name: 'raw', bucket: 'metrics', retentionMs: 0 },
    ];
    await influx.query('ALTER RETENTION POLICY "autogen" ON "metrics" DURATION 30d');
    const report = await provision('v1', connection(), tiers, APPLY_RETENTION);
    expect(report.results[0]!.outcome).toBe('failed');
    expect(report.results[0]!.detail).toContain('it is the DEFAULT policy of "metrics"');
    expect(report.results[1]).toMatchObject({ outcome: 'differs', actualRetentionMs: 30 * DAY_MS });
    expect(formatTierResult(report.results[1]!)).toContain(
      'it is the DEFAULT policy "autogen" of "metrics", which promflux never changes',
    );
    expect((await policies('metrics')).autogen).toEqual(['720h0m0s', '168h0m0s', 1, true]);
  });

  it('tells a non-admin user which privilege is missing and how to fix it', async () => {
    await influx.query(`GRANT WRITE ON "metrics" TO "${WRITER.username}"`);
    const tiers = [
      { name: 'hot', bucket: 'metrics/hot', retentionMs: 7 * DAY_MS },
      { name: 'fresh', bucket: 'fresh/hot', retentionMs: 7 * DAY_MS },
    ];
    const report = await provision('v1', connection(WRITER), tiers, APPLY);
    expect(report.results.map((r) => r.outcome)).toEqual(['not-permitted', 'not-permitted']);
    expect(report.results[0]!.detail).toMatch(
      /^the user may not read the retention policies of "metrics": it needs READ on metrics \(user "writer"\)/,
    );
    expect(report.results[1]!.detail).toMatch(
      /^the user may not create database "fresh": it needs admin privilege \(user "writer"\)/,
    );
    for (const result of report.results) {
      expect(result.detail).toContain('; run `promflux provision` with an admin user');
    }
    expect(formatTierResult(report.results[1]!)).toMatch(
      /^tier "fresh": retention policy "hot" on database "fresh": not checked or changed: the user may not create database "fresh"/,
    );
    expect(JSON.stringify(report)).not.toContain(WRITER.password);
    expect(await databases()).not.toContain('fresh');
  });
});
