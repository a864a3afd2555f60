import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CarryBook } from '../../../src/daemon/carry-book.js';
import { describeTiers, planCycle, queryWatermark } from '../../../src/daemon/cycle-plan.js';
import { DaemonMetrics } from '../../../src/observe/metrics.js';
import { TierBook } from '../../../src/observe/tier-book.js';
import { exportStateKey } from '../../../src/pipeline/continuous-export.js';
import { tierStateKey } from '../../../src/pipeline/windows.js';
import { queryFingerprint, WatermarkStore } from '../../../src/state/watermark-store.js';
import { parse, yamlWith } from '../config/helpers.js';

const T0 = 1_700_000_100_000; // a multiple of 5 minutes
const key = (tier: string, resolutionMs: number) =>
  tierStateKey({ query: 'q', tier, stepMs: 15_000, resolutionMs });

async function config(tiers: string[]) {
  const all = {
    hot: { name: 'hot', bucket: 'metrics/hot', retention: '7d' },
    warm: { name: 'warm', bucket: 'metrics/warm', retention: '90d', resolution: '5m' },
  } as Record<string, unknown>;
  const { config } = await parse(
    yamlWith({
      extract: { queries: [{ name: 'q', query: 'up', step: '15s' }] },
      load: {
        influxdb: { url: 'http://localhost:8086', api: 'v1', bucket: undefined },
        tiers: tiers.map((t) => all[t]),
      },
      pipeline: { delay: '1m', initial_lookback: '1h', max_catchup: '2h' },
    }),
  );
  return config;
}

describe('planCycle', () => {
  let dir: string;
  let store: WatermarkStore;
  const logs: Array<{ level: number; msg: string; tier?: string }> = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => logs.push(JSON.parse(l)) });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-cycle-'));
    store = await WatermarkStore.open(join(dir, 'watermarks.json'));
    logs.length = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('moves a watermark from before tiers to the first raw tier, durably', async () => {
    const cfg = await config(['hot', 'warm']);
    const fingerprint = queryFingerprint(cfg.extract.queries[0]!);
    store.set('q', { watermarkMs: T0, fingerprint });
    const book = new TierBook();
    const plans = planCycle(cfg, store, T0 + 120_000, {
      logger,
      metrics: new DaemonMetrics(),
      tiers: book,
    });
    await store.flush();
    const saved = await WatermarkStore.open(join(dir, 'watermarks.json'));
    expect(Object.fromEntries([...saved.entries()].map(([k, s]) => [k, s.watermarkMs]))).toEqual({
      [key('hot', 15_000)]: T0,
    });
    expect(plans.get('q')!.runs.map((r) => r.range)).toEqual([
      { kind: 'raw', points: { startMs: T0 + 15_000, endMs: T0 + 60_000 } },
      { kind: 'rollup', windows: { fromMs: T0 - 3_600_000, toMs: T0 } },
    ]);
    expect(book.tiersOf('q').map((t) => [t.view.name, t.watermarkMs])).toEqual([
      ['hot', T0],
      ['warm', undefined],
    ]);
    expect(logs.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('forgets a removed tier, counts and logs a gap per tier', async () => {
    const cfg = await config(['hot']);
    const fingerprint = queryFingerprint(cfg.extract.queries[0]!);
    store.set(key('hot', 15_000), { watermarkMs: T0 - 3 * 3_600_000, fingerprint });
    store.set(key('warm', 300_000), { watermarkMs: T0, fingerprint });
    // The continuous export keeps its state in the same store: not a tier to forget.
    const exportKey = exportStateKey(cfg.extract.queries[0]!);
    store.set(exportKey, { watermarkMs: T0, fingerprint });
    const metrics = new DaemonMetrics();
    planCycle(cfg, store, T0 + 60_000, { logger, metrics, tiers: new TierBook() });
    expect([...store.entries().keys()]).toEqual([key('hot', 15_000), exportKey]);
    expect(logs.map((l) => [l.level, l.msg])).toEqual([
      [
        30,
        'Query "q" no longer feeds tier "warm": its watermark is forgotten; the data it wrote stays.',
      ],
      [50, expect.stringMatching(/^Backlog older than max_catchup is skipped/)],
    ]);
    expect(logs[1]!.tier).toBe('hot');
    const text = await metrics.registry.metrics();
    // Three hours behind with a two-hour max_catchup: the hour after the watermark's point is a gap.
    expect(text).toContain('promflux_gap_seconds_total{query="q",tier="hot"} 3585');
  });

  it('a query stands where its least advanced tier does', async () => {
    const cfg = await config(['hot', 'warm']);
    const fingerprint = queryFingerprint(cfg.extract.queries[0]!);
    store.set(key('hot', 15_000), { watermarkMs: T0 + 45_000, fingerprint });
    const [before] = describeTiers(cfg, store, T0 + 120_000, new TierBook());
    expect(queryWatermark(before!)).toBeUndefined();
    store.set(key('warm', 300_000), { watermarkMs: T0, fingerprint });
    const [after] = describeTiers(cfg, store, T0 + 120_000, new TierBook());
    // warm has every point of its windows up to T0 - step.
    expect(queryWatermark(after!)).toBe(T0 - 15_000);
  });

  it('continues a kept carry, counts the cycles that re-read and why', async () => {
    const cfg = await config(['hot', 'warm']);
    const fingerprint = queryFingerprint(cfg.extract.queries[0]!);
    store.set(key('hot', 15_000), { watermarkMs: T0 - 75_000, fingerprint });
    store.set(key('warm', 300_000), { watermarkMs: T0 - 300_000, fingerprint });
    const metrics = new DaemonMetrics();
    const carries = new CarryBook(cfg.transform);
    const ctx = { logger, metrics, tiers: new TierBook(), carries };
    // Nothing kept: warm re-reads its due window [T0 - 5m, T0) and feeds on to now - delay.
    const first = planCycle(cfg, store, T0 + 60_000, ctx).get('q')!;
    const warm = first.tiers.find((t) => t.tier.name === 'warm')!;
    expect(warm.carry).toBe('no_carry');
    expect(warm.run!.range).toEqual({
      kind: 'rollup',
      windows: { fromMs: T0 - 300_000, toMs: T0 },
      feed: { fromMs: T0 - 315_000, toMs: T0 + 15_000 },
    });
    expect(first.extraction).toEqual({ startMs: T0 - 315_000, endMs: T0 });
    const q = cfg.extract.queries[0]!;
    carries
      .take(warm.key, q, warm.tier, false)
      .keep({ series: new Map(), watermarkMs: T0, coveredToMs: T0 + 15_000 });
    store.set(key('hot', 15_000), { watermarkMs: T0, fingerprint });
    store.set(key('warm', 300_000), { watermarkMs: T0, fingerprint });
    // Kept and contiguous: only the new grid points, those the raw tier reads anyway.
    const second = planCycle(cfg, store, T0 + 120_000, ctx).get('q')!;
    expect(second.tiers.find((t) => t.tier.name === 'warm')!.carry).toBe('carried');
    expect(second.extraction).toEqual({ startMs: T0 + 15_000, endMs: T0 + 60_000 });
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'promflux_tier_carry_fallbacks_total{query="q",tier="warm",reason="no_carry"} 1',
    );
    expect(text).not.toContain('tier="hot",reason');
  });
});
