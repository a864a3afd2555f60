import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  formatTierResult,
  type ProvisionConnection,
  type TierSpec,
} from '../../../../src/load/provision/plan.js';
import { provision } from '../../../../src/load/provision/provision.js';
import { InfluxDbV2Fake } from '../../../fakes/influxdb-v2-fake.js';

const DAY_MS = 86_400_000;
const TIERS: TierSpec[] = [
  { name: 'hot', bucket: 'metrics_hot', retentionMs: 7 * DAY_MS },
  { name: 'warm', bucket: 'metrics_warm', retentionMs: 36 * 3_600_000 },
  { name: 'cold', bucket: 'metrics_cold', retentionMs: 0 },
];

describe('provisioning InfluxDB 3 databases (against the fake in v3 mode)', () => {
  let fake: InfluxDbV2Fake;
  beforeEach(async () => {
    fake = await InfluxDbV2Fake.start({ generation: 'v3', readOnlyToken: 'reader' });
  });
  afterEach(async () => {
    await fake.stop();
  });

  const connection = (token = fake.token): ProvisionConnection => ({
    endpoint: { url: fake.url, timeoutMs: 5000, headers: {}, auth: { type: 'none' }, tls: {} },
    token,
  });

  it('creates missing databases with retention_period, and a rerun creates nothing', async () => {
    const plan = await provision('v3', connection(), TIERS, {
      dryRun: true,
      applyRetention: false,
    });
    expect(plan.results.map((r) => r.outcome)).toEqual(Array(3).fill('would-create'));
    expect(fake.requests.filter((r) => r.method === 'POST')).toEqual([]);

    const report = await provision('v3', connection(), TIERS, {
      dryRun: false,
      applyRetention: false,
    });
    expect(report.results.map((r) => r.outcome)).toEqual(Array(3).fill('created'));
    expect(TIERS.map((t) => fake.findBucket(t.bucket)!.retentionSeconds)).toEqual([
      7 * 86400,
      36 * 3600,
      0,
    ]);

    const posts = fake.requests.filter((r) => r.method === 'POST').length;
    const rerun = await provision('v3', connection(), TIERS, {
      dryRun: false,
      applyRetention: true,
    });
    expect(rerun.results.map((r) => r.outcome)).toEqual(Array(3).fill('exists'));
    expect(formatTierResult(rerun.results[0]!)).toBe(
      'tier "hot": database "metrics_hot": exists (the server does not report its retention; configured 7d)',
    );
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(posts);
  });

  it('a token that may not manage databases is a warning naming the tier and the fix', async () => {
    const report = await provision('v3', connection('reader'), TIERS.slice(0, 1), {
      dryRun: false,
      applyRetention: false,
    });
    expect(formatTierResult(report.results[0]!)).toBe(
      'tier "hot": database "metrics_hot": not checked or changed: the token may not list databases: it needs an admin token (server: forbidden: the token may not manage databases); run `promflux provision` with an admin token',
    );
  });
});
