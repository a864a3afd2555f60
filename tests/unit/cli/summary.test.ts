import { describe, expect, it } from 'vitest';

import { formatQuerySummary } from '../../../src/cli/summary.js';
import { queryRun } from '../../support/query-run.js';

describe('formatQuerySummary', () => {
  it('counts points beyond the retention policy apart from rejected ones, and stays ok', () => {
    const run = queryRun('hot', 40);
    run.sinks.influxdb = { ...run.sinks.influxdb!, skippedBeyondRetention: 20, rejected: 2 };
    const line = formatQuerySummary(run, { deadLetterPath: '/var/dl.jsonl' });
    expect(line).toMatch(
      /^ok\*\s+hot: .*; 40 written to influxdb \(20 beyond its retention, skipped\) \(2 rejected, saved to the dead-letter file \/var\/dl\.jsonl\);/,
    );
    run.sinks.influxdb.rejected = 0;
    expect(formatQuerySummary(run)).toMatch(
      /^ok\s+hot: .*; 40 written to influxdb \(20 beyond its retention, skipped\); dropped 0;/,
    );
  });
});
