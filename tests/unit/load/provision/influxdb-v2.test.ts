import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  formatTierResult,
  needsAttention,
  type ProvisionConnection,
  type TierSpec,
} from '../../../../src/load/provision/plan.js';
import { provision } from '../../../../src/load/provision/provision.js';
import { InfluxDbV2Fake } from '../../../fakes/influxdb-v2-fake.js';

const DAY_MS = 86_400_000;
const TIERS: TierSpec[] = [
  { name: 'hot', bucket: 'metrics_hot', retentionMs: 7 * DAY_MS },
  { name: 'warm', bucket: 'metrics_warm', retentionMs: 90 * DAY_MS },
  { name: 'cold', bucket: 'metrics_cold', retentionMs: 0 },
];
const APPLY = { dryRun: false, applyRetention: false };
const APPLY_RETENTION = { dryRun: false, applyRetention: true };

describe('provisioning InfluxDB 2.x buckets (against the fake)', () => {
  let fake: InfluxDbV2Fake;
  beforeEach(async () => {
    fake = await InfluxDbV2Fake.start({ writeOnlyToken: 'write-only' });
  });
  afterEach(async () => {
    await fake.stop();
  });

  function connection(token = fake.token, org = fake.org): ProvisionConnection {
    return {
      endpoint: {
        url: fake.url,
        timeoutMs: 5000,
        headers: { 'X-Custom': 'kept' },
        auth: { type: 'none' },
        tls: {},
      },
      token,
      org,
    };
  }

  const mutations = (): string[] =>
    fake.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);

  it('creates missing buckets with one expire rule, then changes nothing on a rerun', async () => {
    fake.createBucket(fake.org, 'metrics_hot', 7 * 86400);
    const plan = await provision('v2', connection(), TIERS, { ...APPLY, dryRun: true });
    expect(plan.results.map((r) => r.outcome)).toEqual(['exists', 'would-create', 'would-create']);
    expect(mutations()).toEqual([]);

    const report = await provision('v2', connection(), TIERS, APPLY);
    expect(report.results.map((r) => [r.tier, r.outcome])).toEqual([
      ['hot', 'exists'],
      ['warm', 'created'],
      ['cold', 'created'],
    ]);
    expect(fake.findBucket('metrics_warm')!.retentionSeconds).toBe(90 * 86400);
    expect(fake.findBucket('metrics_cold')!.retentionSeconds).toBe(0);
    expect(report.results.map(formatTierResult)).toEqual([
      'tier "hot": bucket "metrics_hot" in org "promflux": exists, retention 7d as configured',
      'tier "warm": bucket "metrics_warm" in org "promflux": created, retention 90d',
      'tier "cold": bucket "metrics_cold" in org "promflux": created, retention forever',
    ]);
    expect(fake.requests.every((r) => r.headers['x-custom'] === 'kept')).toBe(true);

    const before = mutations().length;
    const rerun = await provision('v2', connection(), TIERS, APPLY_RETENTION);
    expect(rerun.results.map((r) => r.outcome)).toEqual(['exists', 'exists', 'exists']);
    expect(mutations()).toHaveLength(before);
  });

  it('reports a differing retention and patches it only with apply-retention', async () => {
    for (const t of TIERS) fake.createBucket(fake.org, t.bucket, 30 * 86400);
    const reported = await provision('v2', connection(), TIERS, APPLY);
    expect(reported.results.map((r) => r.outcome)).toEqual(['differs', 'differs', 'differs']);
    expect(formatTierResult(reported.results[0]!)).toBe(
      'tier "hot": bucket "metrics_hot" in org "promflux": exists, retention 30d differs from the configured 7d (run `promflux provision --apply-retention` to change it)',
    );
    expect(mutations()).toEqual([]);

    const planned = await provision('v2', connection(), TIERS, {
      ...APPLY_RETENTION,
      dryRun: true,
    });
    expect(planned.results.map((r) => r.outcome)).toEqual(Array(3).fill('would-change-retention'));
    expect(mutations()).toEqual([]);

    const changed = await provision('v2', connection(), TIERS, APPLY_RETENTION);
    expect(changed.results.map((r) => [r.outcome, r.actualRetentionMs])).toEqual(
      Array(3).fill(['retention-changed', 30 * DAY_MS]),
    );
    expect(TIERS.map((t) => fake.findBucket(t.bucket)!.retentionSeconds)).toEqual([
      7 * 86400,
      90 * 86400,
      0,
    ]);
    expect(mutations().every((m) => m.startsWith('PATCH /api/v2/buckets/'))).toBe(true);
  });

  it('a write-only token is a per-tier warning naming the permission and the fix', async () => {
    const report = await provision('v2', connection('write-only'), TIERS, APPLY);
    expect(report.results.map((r) => r.outcome)).toEqual(Array(3).fill('not-permitted'));
    expect(report.results.every(needsAttention)).toBe(true);
    expect(formatTierResult(report.results[1]!)).toBe(
      'tier "warm": bucket "metrics_warm" in org "promflux": not checked or changed: the token may not look up organization "promflux": it needs read:orgs; run `promflux provision` with an admin token',
    );
    expect(mutations()).toEqual([]);
  });

  it('a token that may read but not create names write:orgs/<id>/buckets', async () => {
    await fake.stop();
    fake = await InfluxDbV2Fake.start({ readOnlyToken: 'reader' });
    const orgID = fake.findBucket(fake.bucket)!.orgID;
    const report = await provision('v2', connection('reader'), TIERS.slice(0, 1), APPLY);
    expect(report.results[0]!.outcome).toBe('not-permitted');
    expect(report.results[0]!.detail).toBe(
      `the token may not create bucket "metrics_hot": it needs write:orgs/${orgID}/buckets (server: write:orgs/${orgID}/buckets is unauthorized); run \`promflux provision\` with an admin token`,
    );
    expect(fake.findBucket('metrics_hot')).toBeUndefined();
  });

  it('a wrong token or a missing org fails every tier with a specific message', async () => {
    const badToken = await provision('v2', connection('wrong-secret'), TIERS, APPLY);
    expect(badToken.results.map((r) => r.outcome)).toEqual(Array(3).fill('failed'));
    expect(badToken.results[0]!.detail).toBe(
      'InfluxDB rejected the token (401 unauthorized access)',
    );
    expect(JSON.stringify(badToken)).not.toContain('wrong-secret');

    const noOrg = await provision('v2', connection(fake.token, 'nope'), TIERS, APPLY);
    expect(noOrg.results.map((r) => r.detail)).toEqual(
      Array(3).fill('organization "nope" not found'),
    );
  });

  it('refuses a retention under 1h before any request', async () => {
    const tiers = [{ name: 'hot', bucket: 'metrics_hot', retentionMs: 1_800_000 }];
    await expect(provision('v2', connection(), tiers, APPLY)).rejects.toThrow(
      'load.tiers[0].retention: tier "hot": retention 30m is under 1h, which InfluxDB 2.x refuses',
    );
    expect(fake.requests).toEqual([]);
  });
});
