import { describe, expect, it } from 'vitest';
import { DaemonMetrics } from '../../../src/observe/metrics.js';
import { renderStatusPage } from '../../../src/observe/status-page.js';
import { DaemonStatus } from '../../../src/observe/status.js';
import { TierBook, tierLagMs, type TierView } from '../../../src/observe/tier-book.js';

const T0 = 1_700_000_100_000; // a multiple of 5 minutes
const HOT: TierView = { name: 'hot', resolutionMs: undefined, stepMs: 15_000, holdBackMs: 60_000 };
const WARM: TierView = { name: 'warm', resolutionMs: 300_000, stepMs: 15_000, holdBackMs: 120_000 };

describe('tierLagMs', () => {
  it('is 0 when caught up and counts whole steps or windows due and not acknowledged', () => {
    // Raw: the last grid point due by now - delay is the watermark.
    expect(tierLagMs(HOT, T0, T0 + 60_000 + 14_999)).toBe(0);
    expect(tierLagMs(HOT, T0, T0 + 60_000 + 15_000)).toBe(15_000);
    // Rollup: the watermark is the end of the last window; the next one is due once it ends
    // delay + lateness before now.
    expect(tierLagMs(WARM, T0, T0 + 120_000 + 299_999)).toBe(0);
    expect(tierLagMs(WARM, T0, T0 + 120_000 + 300_000)).toBe(300_000);
    expect(tierLagMs(WARM, T0, T0 + 120_000 + 3 * 300_000 + 1)).toBe(900_000);
    // Never negative, e.g. right after a clock step back.
    expect(tierLagMs(WARM, T0, T0 - 3_600_000)).toBe(0);
  });
});

describe('per-tier metrics and status', () => {
  function setUp(nowMs: number) {
    const book = new TierBook();
    const metrics = new DaemonMetrics(() => nowMs, book);
    const status = new DaemonStatus(['q', 'gone'], () => nowMs, book);
    book.describe('q', [
      { view: HOT, watermarkMs: T0 },
      { view: WARM, watermarkMs: undefined },
    ]);
    book.describe('gone', [{ view: HOT, watermarkMs: T0 }]);
    return { book, metrics, status };
  }

  it('exposes each tier watermark, lag, resolution and points by outcome', async () => {
    const nowMs = T0 + 60_000 + 30_000;
    const { book, metrics } = setUp(nowMs);
    book.recordWatermark('q', 'warm', T0 - 600_000);
    book.retain(['q']);
    metrics.recordTierTotals('q', {
      hot: { written: 10, rejected: 1, skippedBeyondRetention: 0 },
      warm: { written: 4, rejected: 0, skippedBeyondRetention: 2 },
    });
    metrics.recordTierTotals('q', {
      hot: { written: 5, rejected: 0, skippedBeyondRetention: 0 },
    });
    const text = await metrics.registry.metrics();
    const series = (name: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`))
        .sort();
    expect(series('promflux_tier_watermark_seconds')).toEqual([
      `promflux_tier_watermark_seconds{query="q",tier="hot"} ${T0 / 1000}`,
      `promflux_tier_watermark_seconds{query="q",tier="warm"} ${(T0 - 600_000) / 1000}`,
    ]);
    expect(series('promflux_tier_lag_seconds')).toEqual([
      'promflux_tier_lag_seconds{query="q",tier="hot"} 30',
      // now - delay - lateness = T0 - 30s: windows up to T0 - 300s are due, one not acknowledged.
      'promflux_tier_lag_seconds{query="q",tier="warm"} 300',
    ]);
    expect(series('promflux_tier_resolution_seconds')).toEqual([
      'promflux_tier_resolution_seconds{query="q",tier="warm"} 300',
    ]);
    expect(series('promflux_tier_points_total')).toEqual([
      'promflux_tier_points_total{query="q",tier="hot",outcome="rejected"} 1',
      'promflux_tier_points_total{query="q",tier="hot",outcome="skipped_beyond_retention"} 0',
      'promflux_tier_points_total{query="q",tier="hot",outcome="written"} 15',
      'promflux_tier_points_total{query="q",tier="warm",outcome="rejected"} 0',
      'promflux_tier_points_total{query="q",tier="warm",outcome="skipped_beyond_retention"} 2',
      'promflux_tier_points_total{query="q",tier="warm",outcome="written"} 4',
    ]);
  });

  it('shows each query its tiers in /status and on the page; a dropped tier disappears', () => {
    const { book, status } = setUp(T0 + 60_000 + 30_000);
    expect(status.snapshot().queries.find((q) => q.query === 'q')!.tiers).toEqual([
      {
        name: 'hot',
        resolutionSeconds: null,
        watermark: '2023-11-14T22:15:00.000Z',
        lagSeconds: 30,
      },
      { name: 'warm', resolutionSeconds: 300, watermark: null, lagSeconds: null },
    ]);
    const page = renderStatusPage(status.snapshot());
    expect(page).toContain('<div>hot (raw): 2023-11-14T22:15:00.000Z, lag 30 s</div>');
    expect(page).toContain('<div>warm (5m): —, lag —</div>');
    book.describe('q', [{ view: WARM, watermarkMs: T0 }]);
    expect(
      status
        .snapshot()
        .queries.find((q) => q.query === 'q')!
        .tiers.map((t) => t.name),
    ).toEqual(['warm']);
  });
});
