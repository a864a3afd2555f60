import { describe, expect, it } from 'vitest';
import { formatQuerySummary, summaryRecord } from '../../../src/cli/summary.js';
import { queryRun } from '../../support/query-run.js';

const tiered = {
  ...queryRun('cpu', 160),
  sinks: {
    'influxdb:hot': {
      written: 120,
      rejected: 2,
      skippedBeyondRetention: 0,
      requests: 2,
      retries: 0,
    },
    'influxdb:warm': {
      written: 24,
      rejected: 0,
      skippedBeyondRetention: 3,
      requests: 1,
      retries: 0,
    },
  },
  tiers: {
    hot: { written: 120, rejected: 2, skippedBeyondRetention: 40, watermarkMs: 60_000 },
    warm: { written: 24, rejected: 0, skippedBeyondRetention: 3, watermarkMs: 300_000 },
  },
};

describe('query summaries with tiers', () => {
  it('say per tier what was written, skipped beyond retention and rejected', () => {
    const line = formatQuerySummary(tiered, { deadLetterPath: '/var/dl.jsonl' });
    expect(line).toContain(
      '; tiers: hot 120 written (40 skipped beyond retention, 2 rejected, saved to the ' +
        'dead-letter file /var/dl.jsonl), warm 24 written (3 skipped beyond retention); dropped',
    );
  });

  it('keep the line of one raw tier as it was', () => {
    const line = formatQuerySummary(queryRun('up', 8));
    expect(line).toMatch(
      /^ok {5}up: 8 samples, 1 series → 8 points; 8 written to influxdb; dropped 0;/,
    );
  });

  it('give each tier in JSON', () => {
    expect(summaryRecord(tiered).tiers).toEqual({
      hot: {
        written: 120,
        skipped_beyond_retention: 40,
        rejected: 2,
        watermark: '1970-01-01T00:01:00.000Z',
      },
      warm: {
        written: 24,
        skipped_beyond_retention: 3,
        rejected: 0,
        watermark: '1970-01-01T00:05:00.000Z',
      },
    });
  });
  it('counts points beyond the retention policy apart from rejected ones, and stays ok', () => {
    const run = queryRun('hot', 40);
    run.tiers = {
      raw: { written: 40, rejected: 2, skippedBeyondRetention: 20, watermarkMs: 60_000 },
    };
    run.sinks.influxdb = { ...run.sinks.influxdb!, skippedBeyondRetention: 20, rejected: 2 };
    expect(formatQuerySummary(run, { deadLetterPath: '/var/dl.jsonl' })).toMatch(
      /^ok\*\s+hot: .*; 40 written to influxdb \(2 rejected, saved to the dead-letter file \/var\/dl\.jsonl\); tiers: raw 40 written \(20 skipped beyond retention, 2 rejected, saved to the dead-letter file \/var\/dl\.jsonl\);/,
    );
    run.sinks.influxdb.rejected = 0;
    run.tiers.raw!.rejected = 0;
    expect(formatQuerySummary(run)).toMatch(
      /^ok\s+hot: .*; 40 written to influxdb; tiers: raw 40 written \(20 skipped beyond retention\); dropped 0;/,
    );
  });
});
