import { describe, expect, it } from 'vitest';

import { ConfigError } from '../../../../src/core/errors.js';
import {
  decide,
  formatTierResult,
  generationFromPing,
  influxDuration,
  tierResult,
  validateTiers,
  type ProvisionOptions,
  type TierState,
} from '../../../../src/load/provision/plan.js';
import { provision } from '../../../../src/load/provision/provision.js';

const DAY_MS = 86_400_000;
const tier = { name: 'hot', bucket: 'm/hot', retentionMs: 7 * DAY_MS };
const target = 'retention policy "hot" on database "m"';
const PLAN: ProvisionOptions = { dryRun: true, applyRetention: false };
const APPLY: ProvisionOptions = { dryRun: false, applyRetention: false };
const PLAN_RETENTION: ProvisionOptions = { dryRun: true, applyRetention: true };
const APPLY_RETENTION: ProvisionOptions = { dryRun: false, applyRetention: true };

const missing: TierState = { tier, target, kind: 'missing' };
const same: TierState = { tier, target, kind: 'exists', retentionMs: 7 * DAY_MS };
const unknown: TierState = { tier, target, kind: 'exists', retentionMs: undefined };
const longer: TierState = { tier, target, kind: 'exists', retentionMs: 30 * DAY_MS };
const kept: TierState = { ...longer, keep: 'it is the DEFAULT policy' };
const denied: TierState = {
  tier,
  target,
  kind: 'denied',
  denial: { action: 'create database "m"', permission: 'admin privilege', credential: 'user' },
};
const failed: TierState = { tier, target, kind: 'failed', message: 'boom' };

describe('decide', () => {
  it.each([
    [missing, PLAN, 'none', 'would-create'],
    [missing, APPLY, 'create', 'created'],
    [same, APPLY_RETENTION, 'none', 'exists'],
    [unknown, APPLY_RETENTION, 'none', 'exists'],
    [longer, APPLY, 'none', 'differs'],
    [longer, PLAN, 'none', 'differs'],
    [longer, PLAN_RETENTION, 'none', 'would-change-retention'],
    [longer, APPLY_RETENTION, 'change-retention', 'retention-changed'],
    [kept, APPLY_RETENTION, 'none', 'differs'],
    [denied, APPLY_RETENTION, 'none', 'not-permitted'],
    [failed, APPLY_RETENTION, 'none', 'failed'],
  ] as const)('%o with %o → %s / %s', (state, options, action, outcome) => {
    expect(decide(state, options)).toEqual({ action, outcome });
  });
});

describe('formatTierResult', () => {
  const line = (state: TierState, options: ProvisionOptions): string =>
    formatTierResult(tierResult(state, decide(state, options).outcome));

  it('says one line per outcome', () => {
    const head = `tier "hot": ${target}`;
    expect(line(missing, PLAN)).toBe(`${head}: missing, would be created with retention 7d`);
    expect(line(same, APPLY)).toBe(`${head}: exists, retention 7d as configured`);
    expect(line(longer, PLAN_RETENTION)).toBe(`${head}: retention 30d would be changed to 7d`);
    expect(line(longer, APPLY_RETENTION)).toBe(`${head}: retention changed from 30d to 7d`);
    expect(line(kept, APPLY_RETENTION)).toBe(
      `${head}: exists, retention 30d differs from the configured 7d; it is the DEFAULT policy`,
    );
    expect(line(denied, APPLY)).toBe(
      `${head}: not checked or changed: the user may not create database "m": it needs admin privilege; run \`promflux provision\` with an admin user`,
    );
    expect(line(failed, APPLY)).toBe(`${head}: failed: boom`);
  });
});

describe('a tier that configures no retention (the one tier of load.influxdb.bucket)', () => {
  const legacy = { name: 'raw', bucket: 'm', retentionMs: 0, retentionUnmanaged: true };
  const found: TierState = { tier: legacy, target, kind: 'exists', retentionMs: 30 * DAY_MS };

  it('is never compared with the server retention, nor changed', () => {
    expect(decide(found, APPLY)).toEqual({ action: 'none', outcome: 'exists' });
    expect(decide(found, APPLY_RETENTION)).toEqual({ action: 'none', outcome: 'exists' });
    expect(formatTierResult(tierResult(found, 'exists'))).toBe(
      `tier "raw": ${target}: exists, retention 30d (not configured: load.tiers sets one)`,
    );
  });

  it('is created kept forever when missing', () => {
    const state: TierState = { tier: legacy, target, kind: 'missing' };
    expect(decide(state, APPLY)).toEqual({ action: 'create', outcome: 'created' });
    expect(formatTierResult(tierResult(state, 'created'))).toBe(
      `tier "raw": ${target}: created, retention forever`,
    );
  });
});

describe('validateTiers', () => {
  it('accepts what each generation accepts', () => {
    const tiers = [
      { name: 'hot', bucket: 'metrics/hot', retentionMs: 3_600_000 },
      { name: 'raw', bucket: 'metrics', retentionMs: 0 },
    ];
    expect(validateTiers(tiers, 'v1')).toEqual([]);
    expect(validateTiers([{ name: 'x', bucket: 'x', retentionMs: 60_000 }], 'v3')).toEqual([]);
  });

  it('names every problem at once, located by tier', () => {
    const tiers = [
      { name: 'hot', bucket: 'metrics/hot', retentionMs: 1_800_000 },
      { name: 'warm', bucket: 'metrics', retentionMs: 90 * DAY_MS },
      { name: 'cold', bucket: 'metrics/', retentionMs: 0 },
      { name: 'odd', bucket: 'metrics/odd', retentionMs: 3_600_500 },
    ];
    expect(validateTiers(tiers, 'v1')).toEqual([
      {
        path: 'load.tiers[0].retention',
        message:
          'tier "hot": retention 30m is under 1h, which InfluxDB 1.x refuses (use 0 for forever, or at least 1h).',
      },
      {
        path: 'load.tiers[1].bucket',
        message:
          'tier "warm" has a finite retention, so it must name "database/retention_policy" (e.g. "metrics/warm"): promflux never changes a database\'s DEFAULT policy, which other writers share.',
      },
      {
        path: 'load.tiers[2].bucket',
        message:
          '"metrics/" is not a valid InfluxDB 1.x target: use "database" or "database/retention_policy".',
      },
      {
        path: 'load.tiers[3].retention',
        message: 'tier "odd": retention must be 0 (forever) or a whole number of seconds.',
      },
    ]);
  });

  it('makes provision() throw a ConfigError before any connection is made', async () => {
    const closed: string[] = [];
    const never = (): Promise<never> => Promise.reject(new Error('no I/O expected'));
    const provisioner = {
      inspect: never,
      create: never,
      changeRetention: never,
      close: () => closed.push('closed'),
    };
    const connection = {
      endpoint: {
        url: 'http://127.0.0.1:9',
        timeoutMs: 1,
        headers: {},
        auth: { type: 'none' } as const,
        tls: {},
      },
    };
    const err = await provision(
      'v1',
      connection,
      [{ name: 'hot', bucket: 'metrics/hot', retentionMs: 1_800_000 }],
      APPLY,
      provisioner,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('InfluxDB 1.x refuses');
    expect(closed).toEqual(['closed']);
  });
});

describe('influxDuration', () => {
  it.each([
    [7 * DAY_MS, '7d'],
    [36 * 3_600_000, '36h'],
    [90 * 60_000, '90m'],
    [3_601_000, '3601s'],
    [1500, '1500ms'],
  ])('%i ms → %s', (ms, text) => {
    expect(influxDuration(ms)).toBe(text);
  });
});

describe('generationFromPing', () => {
  it.each([
    [{ version: '1.6.7~rc0', build: 'OSS' }, 'v1'],
    [{ version: 'v2.7.12', build: 'OSS' }, 'v2'],
    [{ version: '2.0.0', build: 'cloud2' }, 'v2'],
    [{ build: 'cloud2' }, 'v2'],
    [{ version: '3.0.1', build: 'Core' }, 'v3'],
    [{}, undefined],
  ])('%o → %s', (ping, generation) => {
    expect(generationFromPing(ping)).toBe(generation);
  });
});
