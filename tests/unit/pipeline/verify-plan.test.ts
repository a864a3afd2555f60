import { describe, expect, it } from 'vitest';
import type { QueryConfig, TierConfig } from '../../../src/config/types.js';
import { planChecks } from '../../../src/pipeline/verify.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = 1_700_000_000_000 - (1_700_000_000_000 % HOUR) + 1_234;
const query = (name: string, tiers?: string[]): QueryConfig => ({
  name,
  expr: 'up',
  stepMs: 15_000,
  tags: {},
  ...(tiers && { tiers }),
});
const TIERS: TierConfig[] = [
  { name: 'hot', bucket: 'm/hot', retentionMs: 7 * DAY },
  { name: 'warm', bucket: 'm/warm', retentionMs: 90 * DAY, resolutionMs: 300_000 },
  { name: 'cold', bucket: 'm/cold', retentionMs: 0, resolutionMs: HOUR },
];
const plan = (queries: QueryConfig[], fromMs: number, toMs: number) =>
  planChecks({
    queries,
    tiers: TIERS,
    range: { fromMs, toMs },
    nowMs: NOW,
    delayMs: 60_000,
    latenessMs: 0,
    kindOf: () => 'counter',
  });

describe('planChecks', () => {
  it('checks raw grid points and whole rollup windows of [from, to), by the tiers a query feeds', () => {
    const from = NOW - 2 * DAY + 7_000;
    const to = NOW - DAY - 7_000;
    const { checks, skipped } = plan([query('a'), query('b', ['warm'])], from, to);
    expect(skipped).toEqual([]);
    expect(
      checks.map((c) => ({
        q: c.query.name,
        t: c.tier.name,
        kind: c.kind,
        range: c.kind === 'raw' ? c.points : c.windows,
      })),
    ).toEqual([
      // The raw tier: the grid points from the first at or after --from to the last before --to.
      {
        q: 'a',
        t: 'hot',
        kind: 'raw',
        range: { startMs: NOW - 2 * DAY + 15_000 - 1_234, endMs: NOW - DAY - 15_000 - 1_234 },
      },
      // Rollups: only windows whose grid points the range holds, all of them (the last window's
      // last point, 15s before its end, is before --to).
      {
        q: 'a',
        t: 'warm',
        kind: 'counter',
        range: { fromMs: NOW - 2 * DAY - 1_234 + 300_000, toMs: NOW - DAY - 1_234 },
      },
      {
        q: 'a',
        t: 'cold',
        kind: 'counter',
        range: { fromMs: NOW - 2 * DAY - 1_234 + HOUR, toMs: NOW - DAY - 1_234 },
      },
      {
        q: 'b',
        t: 'warm',
        kind: 'counter',
        range: { fromMs: NOW - 2 * DAY - 1_234 + 300_000, toMs: NOW - DAY - 1_234 },
      },
    ]);
  });

  it("leaves out what is beyond a tier's retention (with its margin) and what is not due yet", () => {
    const { checks, skipped } = plan([query('a')], NOW - 10 * DAY, NOW);
    const ranges = Object.fromEntries(
      checks.map((c) => [c.tier.name, c.kind === 'raw' ? c.points : c.windows]),
    );
    const cutoff = NOW - 7 * DAY + HOUR;
    expect(ranges).toEqual({
      hot: {
        startMs: cutoff + 15_000 - (cutoff % 15_000),
        endMs: NOW - 60_000 - ((NOW - 60_000) % 15_000),
      },
      warm: { fromMs: NOW - 10 * DAY - 1_234 + 300_000, toMs: NOW - 1_234 - 300_000 },
      cold: { fromMs: NOW - 10 * DAY - 1_234 + HOUR, toMs: NOW - 1_234 - HOUR },
    });
    expect(skipped).toEqual([]);

    const old = plan([query('a')], NOW - 30 * DAY, NOW - 29 * DAY);
    expect(old.checks.map((c) => c.tier.name)).toEqual(['warm', 'cold']);
    expect(old.skipped.map((s) => [s.tier.name, s.reason])).toEqual([
      ['hot', "the range is beyond the tier's retention, or too recent"],
    ]);

    const recent = plan([query('a')], NOW - 30_000, NOW);
    expect(recent.checks).toEqual([]);
    expect(recent.skipped.map((s) => [s.tier.name, s.reason])).toEqual([
      ['hot', 'the range is too recent (after now - delay)'],
      ['warm', 'no whole 5m window in the range'],
      ['cold', 'no whole 60m window in the range'],
    ]);
  });
});
