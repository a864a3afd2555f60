import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { QueryConfig, TierConfig } from '../../../src/config/types.js';
import type { MetricKind } from '../../../src/core/metric-kind.js';
import { CarryBook } from '../../../src/daemon/carry-book.js';
import { planQueryTiers, type SavedWatermark } from '../../../src/daemon/plan-tiers.js';
import { runQuery } from '../../../src/pipeline/run-query.js';
import { tierRunsForRange, type TierRun } from '../../../src/pipeline/tier-runs.js';
import { tierStateKey } from '../../../src/pipeline/windows.js';
import { queryFingerprint } from '../../../src/state/watermark-store.js';
import { FakePrometheusClient } from '../../support/fake-prometheus-client.js';
import { RecordingSink } from '../../support/recording-sink.js';
import { HOUR, T0, seriesArb, type Point } from '../transform/rollup-helpers.js';
import { plainTransform } from '../../support/transform-config.js';

const STEP = 60_000;
const silent = pino({ level: 'silent' });
const DATA_FROM = T0 - HOUR;
const DATA_POINTS = (7 * HOUR) / STEP;
const TIERS: TierConfig[] = [
  { name: 'hot', bucket: 'm/hot', retentionMs: 0 },
  { name: 'warm', bucket: 'm/warm', retentionMs: 0, resolutionMs: 300_000 },
  { name: 'cold', bucket: 'm/cold', retentionMs: 0, resolutionMs: HOUR },
];
const transform = plainTransform();

function queryOf(kind: MetricKind): QueryConfig {
  return { name: 'q', expr: kind === 'counter' ? 'c_total' : 'g', stepMs: STEP, tags: {}, kind };
}

function fakeClient(series: Point[][], query: QueryConfig): FakePrometheusClient {
  return new FakePrometheusClient(
    series.map((points, i) => {
      const at = new Map(points.map((p) => [p.t, p.v]));
      return { labels: { __name__: query.expr, i: String(i) }, valueAt: (t) => at.get(t) };
    }),
  );
}

/** What goes wrong in a cycle: nothing, a write of a tier, a Prometheus request, or a restart. */
type Mishap =
  | { kind: 'none' }
  | { kind: 'write'; tier: number; at: number }
  | { kind: 'extract'; at: number }
  | { kind: 'restart' };

const mishapArb: fc.Arbitrary<Mishap> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      tier: fc.integer({ min: 0, max: 2 }),
      at: fc.integer({ min: 1, max: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('extract' as const),
      at: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

const cycleArb = fc.record({
  advanceMs: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(60_000, 60_000, 45_000, 75_000) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 2_700_000 }) },
  ),
  mishap: mishapArb,
});

/** Every line a tier ever gets, by line: the same window or point always the same bytes. */
async function wholeRun(client: FakePrometheusClient, query: QueryConfig): Promise<Set<string>[]> {
  const range = { startMs: DATA_FROM, endMs: DATA_FROM + DATA_POINTS * STEP - STEP };
  const runs = tierRunsForRange(query, TIERS, range);
  const sinks = runs.map((r) => new RecordingSink(r.tier.name));
  const result = await runQuery(client, [], {
    query,
    range,
    tiers: runs.map((run, i) => ({ run, sinks: [sinks[i]!] })),
    kind: query.kind as MetricKind,
    extract: { concurrency: 1, maxPointsPerSeries: 11_000, maxSamplesPerRequest: 100_000 },
    transform,
    batchSize: 1000,
    maxWritesInFlight: 2,
    logger: silent,
    now: () => DATA_FROM + 10 * HOUR,
  });
  expect(result.error).toBeUndefined();
  return sinks.map((s) => new Set(s.lines));
}

const stampOf = (line: string): number => Number(line.split(' ').at(-1)) * 1000;

/**
 * The daemon's cycles with carries (planQueryTiers with a CarryBook, runQuery with the carry of
 * each rollup run, watermarks moved only on acknowledgement as the daemon does) against the
 * re-read path's output: whatever the cycle timing, lateness, rewriting, max_catchup cuts, failed
 * writes and extractions and restarts, every line a tier gets is byte for byte the line one whole
 * run gives for that window (or point), no window is written before it is due, and at the end every
 * window up to each tier's watermark is there.
 */
describe('daemon cycles carrying rollup windows', () => {
  let carriedCycles = 0;
  let fallbackCycles = 0;
  for (const kind of ['gauge', 'counter'] as const) {
    it(`${kind}: every tier's lines are the re-read path's, each window once due`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(seriesArb(kind, false, DATA_POINTS, STEP, DATA_FROM), {
            minLength: 1,
            maxLength: 3,
          }),
          fc.array(cycleArb, { minLength: 1, maxLength: 40 }),
          fc.record({
            delayMs: fc.constantFrom(0, 30_000),
            latenessMs: fc.oneof(
              { weight: 4, arbitrary: fc.constant(0) },
              { weight: 1, arbitrary: fc.constant(120_000) },
            ),
            rewriteWindows: fc.oneof(
              { weight: 4, arbitrary: fc.constant(0) },
              { weight: 1, arbitrary: fc.constant(1) },
            ),
            maxCatchupMs: fc.constantFrom(6 * HOUR, 6 * HOUR, 40 * 60_000),
            maxSamplesPerRequest: fc.integer({ min: 5, max: 200 }),
            batchSize: fc.integer({ min: 1, max: 30 }),
          }),
          async (series, cycles, settings) => {
            const query = queryOf(kind);
            const client = fakeClient(series, query);
            const expected = await wholeRun(client, query);
            const sinks = TIERS.map((t) => new RecordingSink(t.name));
            const saved = new Map<string, SavedWatermark>();
            const keys = TIERS.map((t) =>
              tierStateKey({
                query: 'q',
                tier: t.name,
                stepMs: STEP,
                resolutionMs: t.resolutionMs ?? STEP,
              }),
            );
            const firstWindow = new Map<string, number>();
            const gaps: { tier: string; fromMs: number; toMs: number }[] = [];
            let book = new CarryBook(transform);
            let nowMs = T0 + 7_000;
            for (const { advanceMs, mishap } of cycles) {
              nowMs = Math.min(nowMs + advanceMs, DATA_FROM + DATA_POINTS * STEP);
              if (mishap.kind === 'restart') book = new CarryBook(transform);
              const plan = planQueryTiers(
                query,
                TIERS,
                'hot',
                saved,
                {
                  nowMs,
                  delayMs: settings.delayMs,
                  latenessMs: settings.latenessMs,
                  rewriteWindows: settings.rewriteWindows,
                  initialLookbackMs: HOUR,
                  maxCatchupMs: settings.maxCatchupMs,
                },
                () => false,
                book,
              );
              for (const t of plan.tiers) {
                if (t.gap) gaps.push({ tier: t.tier.name, ...t.gap });
                if (t.carry === 'carried') carriedCycles++;
                else if (t.carry !== undefined) fallbackCycles++;
              }
              if (!plan.extraction) continue;
              let writes = 0;
              sinks.forEach((sink, i) => {
                sink.failWrite =
                  mishap.kind === 'write' && mishap.tier === i
                    ? () => ++writes >= mishap.at
                    : undefined;
              });
              let requests = 0;
              client.failOn =
                mishap.kind === 'extract'
                  ? () => (++requests >= mishap.at ? new Error('injected') : undefined)
                  : undefined;
              const before = sinks.map((s) => s.lines.length);
              const windowsOf = new Map(
                plan.runs.flatMap((r) =>
                  r.range.kind === 'rollup' ? [[r.tier.name, r.range.windows]] : [],
                ),
              );
              await runQuery(client, [], {
                query,
                range: plan.extraction,
                tiers: plan.runs.map((run: TierRun) => {
                  const i = TIERS.findIndex((t) => t.name === run.tier.name);
                  const tierPlan = plan.tiers.find((t) => t.tier.name === run.tier.name)!;
                  const carry =
                    run.range.kind === 'rollup' && run.range.feed
                      ? book.take(tierPlan.key, query, run.tier, tierPlan.carry === 'carried')
                      : undefined;
                  return { run, sinks: [sinks[i]!], carry };
                }),
                kind,
                extract: {
                  concurrency: 2,
                  maxPointsPerSeries: 11_000,
                  maxSamplesPerRequest: settings.maxSamplesPerRequest,
                },
                transform,
                batchSize: settings.batchSize,
                maxWritesInFlight: 2,
                logger: silent,
                now: () => nowMs,
                onTierAck: (tier, ms) => {
                  const key = keys[TIERS.findIndex((t) => t.name === tier)]!;
                  const was = saved.get(key)?.watermarkMs;
                  if (was !== undefined && was >= ms) return;
                  saved.set(key, { watermarkMs: ms, fingerprint: queryFingerprint(query) });
                },
              });
              // A tier's windows are all there from the first run that moved its watermark.
              for (const [tier, windows] of windowsOf) {
                const key = keys[TIERS.findIndex((t) => t.name === tier)]!;
                if (!firstWindow.has(tier) && saved.has(key)) firstWindow.set(tier, windows.fromMs);
              }
              // Lines of this cycle: each is the re-read path's, and a window only once due.
              TIERS.forEach((tier, i) => {
                for (const line of sinks[i]!.lines.slice(before[i])) {
                  expect(expected[i]!.has(line), `${tier.name}: ${line}`).toBe(true);
                  const windows = windowsOf.get(tier.name);
                  if (!windows) continue;
                  const s = stampOf(line);
                  expect(s).toBeGreaterThanOrEqual(windows.fromMs);
                  expect(s + tier.resolutionMs!).toBeLessThanOrEqual(windows.toMs);
                }
              });
            }
            // Every window (or point) up to each tier's watermark is there, gaps aside.
            TIERS.forEach((tier, i) => {
              const watermarkMs = saved.get(keys[i]!)?.watermarkMs;
              const got = new Set(sinks[i]!.lines);
              const fromMs = firstWindow.get(tier.name);
              if (
                watermarkMs === undefined ||
                tier.resolutionMs === undefined ||
                fromMs === undefined
              )
                return;
              const inGap = (s: number) =>
                gaps.some((g) => g.tier === tier.name && s >= g.fromMs && s < g.toMs);
              for (const line of expected[i]!) {
                const s = stampOf(line);
                if (s >= fromMs && s < watermarkMs && !inGap(s)) {
                  expect(got.has(line), `${tier.name} misses ${line}`).toBe(true);
                }
              }
            });
          },
        ),
        { numRuns: 60 },
      );
      // The property covered both paths, many carried cycles.
      expect(carriedCycles).toBeGreaterThan(100);
      expect(fallbackCycles).toBeGreaterThan(0);
    }, 120_000);
  }
});
