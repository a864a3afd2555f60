import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { QueryConfig, TierConfig } from '../../../src/config/types.js';
import {
  runQuery,
  type QueryRunOptions,
  type QueryRunResult,
  type TimeRange,
} from '../../../src/pipeline/run-query.js';
import { extractionFor, tierRunsForRange, type TierRun } from '../../../src/pipeline/tier-runs.js';
import { lastGridPoint } from '../../../src/core/step-grid.js';
import { Redactor } from '../../../src/core/redact.js';
import { openPipeline, tierSinkName } from '../../../src/pipeline/pipeline.js';
import { parse, yamlWith } from '../config/helpers.js';
import { FakePrometheusClient } from '../../support/fake-prometheus-client.js';
import { RecordingSink } from '../../support/recording-sink.js';
import {
  HOUR,
  T0,
  reference,
  seriesArb,
  parseRollupLines,
  type Point,
} from '../transform/rollup-helpers.js';
import type { MetricKind } from '../../../src/core/metric-kind.js';
import { plainTransform } from '../../support/transform-config.js';

const STEP = 60_000;
const MINUTE = 60_000;
const silent = pino({ level: 'silent' });
/** The data: from an hour before T0 to five hours after it. */
const DATA_FROM = T0 - HOUR;
const DATA_POINTS = (6 * HOUR) / STEP;
/** Run "now": the retention cutoffs below fall inside the range. */
const NOW = T0 + 10 * HOUR;

const transform = plainTransform();

/** hot keeps points from T0 + 1h30, warm windows from T0 + 40m (cutoff = now - retention + 1h). */
const TIERS: TierConfig[] = [
  { name: 'hot', bucket: 'm/hot', retentionMs: NOW + HOUR - (T0 + 90 * MINUTE) },
  {
    name: 'warm',
    bucket: 'm/warm',
    retentionMs: NOW + HOUR - (T0 + 40 * MINUTE),
    resolutionMs: 300_000,
  },
  { name: 'cold', bucket: 'm/cold', retentionMs: 0, resolutionMs: 3_600_000 },
];

function queryOf(kind: MetricKind): QueryConfig {
  return { name: 'q', expr: kind === 'counter' ? 'c_total' : 'g', stepMs: STEP, tags: {} };
}

function fakeClient(series: Point[][], kind: MetricKind): FakePrometheusClient {
  return new FakePrometheusClient(
    series.map((points, i) => {
      const at = new Map(points.map((p) => [p.t, p.v]));
      return { labels: { __name__: queryOf(kind).expr, i: String(i) }, valueAt: (t) => at.get(t) };
    }),
  );
}

interface TierLines {
  lines: Map<string, string[]>;
  results: QueryRunResult[];
}

/** One runQuery over `runs`, a sink per tier; lines and results appended to `out`. */
async function run(
  client: FakePrometheusClient,
  query: QueryConfig,
  runs: TierRun[],
  out: TierLines,
  maxSamplesPerRequest: number,
  onTierAck?: (tier: string, ms: number) => void,
): Promise<QueryRunResult> {
  const sinks = runs.map((r) => new RecordingSink(`influxdb:${r.tier.name}`));
  const range = extractionFor(runs, STEP) ?? { startMs: T0, endMs: T0 - 1 };
  const result = await runQuery(client, [], {
    query,
    range,
    tiers: runs.map((r, i) => ({ run: r, sinks: [sinks[i]!] })),
    extract: { concurrency: 2, maxPointsPerSeries: 11_000, maxSamplesPerRequest },
    transform,
    batchSize: 37,
    maxWritesInFlight: 2,
    logger: silent,
    now: () => NOW,
    onTierAck,
  });
  expect(result.error).toBeUndefined();
  runs.forEach((r, i) => {
    const lines = out.lines.get(r.tier.name) ?? [];
    lines.push(...sinks[i]!.lines);
    out.lines.set(r.tier.name, lines);
  });
  out.results.push(result);
  return result;
}

/** Two gauge series and the runs of two tiers over `[T0, T0 + 4h)`. */
function gaugePair(seed: number, tiers: TierConfig[]): { series: Point[][]; runs: TierRun[] } {
  const series = fc.sample(seriesArb('gauge', false, DATA_POINTS, STEP, DATA_FROM), {
    numRuns: 2,
    seed,
  });
  const range = { startMs: T0, endMs: T0 + 4 * HOUR - STEP };
  return { series, runs: tierRunsForRange(queryOf('gauge'), tiers, range) };
}

/** A gauge run of two tiers, each to its own sink, one write at a time. */
function runPair(
  series: Point[][],
  runs: TierRun[],
  sinks: [RecordingSink, RecordingSink],
  maxSamplesPerRequest: number,
  batchSize: number,
  over: Partial<QueryRunOptions> = {},
): Promise<QueryRunResult> {
  return runQuery(fakeClient(series, 'gauge'), [], {
    query: queryOf('gauge'),
    range: extractionFor(runs, STEP)!,
    tiers: runs.map((run, i) => ({ run, sinks: [sinks[i]!] })),
    extract: { concurrency: 1, maxPointsPerSeries: 11_000, maxSamplesPerRequest },
    transform,
    batchSize,
    maxWritesInFlight: 1,
    logger: silent,
    now: () => NOW,
    ...over,
  });
}

function skippedOf(results: QueryRunResult[], tier: string): number {
  return results.reduce((n, r) => n + (r.tiers[tier]?.skippedBeyondRetention ?? 0), 0);
}

describe('runQuery with tiers', () => {
  for (const kind of ['gauge', 'counter'] as const) {
    it(`${kind}: any cut of a range writes every tier exactly as one run over it`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(seriesArb(kind, false, DATA_POINTS, STEP, DATA_FROM), {
            minLength: 1,
            maxLength: 3,
          }),
          fc.integer({ min: 0, max: 60 }),
          fc.integer({ min: 120, max: 240 }),
          fc.uniqueArray(fc.integer({ min: 1, max: 239 }), { maxLength: 6 }),
          fc.integer({ min: 7, max: 400 }),
          async (series, startMinute, minutes, cutMinutes, maxSamplesPerRequest) => {
            const query = queryOf(kind);
            const client = fakeClient(series, kind);
            const range = {
              startMs: T0 + startMinute * MINUTE,
              endMs: T0 + (startMinute + minutes) * MINUTE,
            };
            const whole: TierLines = { lines: new Map(), results: [] };
            await run(client, query, tierRunsForRange(query, TIERS, range), whole, 10_000);

            // The same range in pieces, each planned from the tiers' watermarks as a daemon
            // would: the raw tier takes the piece's points, a rollup tier the windows the
            // piece completes after its watermark.
            const cuts = cutMinutes
              .filter((m) => m < minutes)
              .sort((a, b) => a - b)
              .map((m) => range.startMs + m * MINUTE);
            const planned = tierRunsForRange(query, TIERS, range);
            const watermarks = new Map<string, number>();
            for (const r of planned) {
              if (r.range.kind === 'rollup') watermarks.set(r.tier.name, r.range.windows.fromMs);
            }
            const pieces: TierLines = { lines: new Map(), results: [] };
            let from = range.startMs;
            for (const cut of [...cuts, range.endMs + STEP]) {
              const piece: TimeRange = { startMs: from, endMs: cut - STEP };
              const runs = planned.map((r): TierRun => {
                if (r.range.kind === 'raw')
                  return { tier: r.tier, range: { kind: 'raw', points: piece } };
                const resolution = r.tier.resolutionMs!;
                const fromMs = watermarks.get(r.tier.name)!;
                const toMs = Math.max(
                  fromMs,
                  Math.min(r.range.windows.toMs, lastGridPoint(piece.endMs + STEP, resolution)),
                );
                return { tier: r.tier, range: { kind: 'rollup', windows: { fromMs, toMs } } };
              });
              await run(client, query, runs, pieces, maxSamplesPerRequest, (tier, ms) => {
                if (watermarks.has(tier)) watermarks.set(tier, ms);
              });
              from = cut;
            }

            for (const tier of TIERS) {
              const expected = [...(whole.lines.get(tier.name) ?? [])].sort();
              expect([...(pieces.lines.get(tier.name) ?? [])].sort()).toEqual(expected);
              expect(skippedOf(pieces.results, tier.name)).toBe(
                skippedOf(whole.results, tier.name),
              );
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it('rolls the same extraction up into every window, as the definition says', async () => {
    for (const kind of ['gauge', 'counter'] as const) {
      const series = fc.sample(seriesArb(kind, false, DATA_POINTS, STEP, DATA_FROM), {
        numRuns: 3,
        seed: 13,
      });
      const query = queryOf(kind);
      const client = fakeClient(series, kind);
      const range = { startMs: T0, endMs: T0 + 4 * HOUR - STEP };
      const out: TierLines = { lines: new Map(), results: [] };
      const runs = tierRunsForRange(query, TIERS, range);
      const result = await run(client, query, runs, out, 500);
      // One extraction for the three tiers: the cold and warm windows need the step before T0.
      expect(client.requests[0]!.startMs).toBe(T0 - STEP);
      expect(result.range).toEqual({ startMs: T0 - STEP, endMs: range.endMs });

      for (const tier of TIERS.filter((t) => t.resolutionMs !== undefined)) {
        const cutoff = tier.retentionMs === 0 ? -Infinity : NOW - tier.retentionMs + HOUR;
        const all = reference(kind, STEP, tier.resolutionMs!, T0, T0 + 4 * HOUR, series);
        const kept = all.filter((w) => w.startMs >= cutoff);
        // Line protocol has no negative zero.
        const unsigned = kept.map((w) =>
          Object.fromEntries(Object.entries(w).map(([k, v]) => [k, v === 0 ? 0 : v])),
        );
        expect(parseRollupLines(kind, out.lines.get(tier.name)!, seriesOfTag)).toEqual(unsigned);
        expect(result.tiers[tier.name]).toEqual({
          written: kept.length,
          rejected: 0,
          skippedBeyondRetention: all.length - kept.length,
          watermarkMs: T0 + 4 * HOUR,
        });
      }
      // The raw tier: the range's points from its cutoff on, the older ones counted.
      const points = series.flatMap((s) =>
        s.filter((p) => p.t >= range.startMs && p.t <= range.endMs && !Number.isNaN(p.v)),
      );
      const hotCutoff = T0 + 90 * MINUTE;
      const sent = points.filter((p) => p.t >= hotCutoff);
      expect(out.lines.get('hot')).toHaveLength(sent.length);
      expect(result.tiers['hot']).toEqual({
        written: sent.length,
        rejected: 0,
        skippedBeyondRetention: points.length - sent.length,
        watermarkMs: range.endMs,
      });
      expect(result.ackedThroughMs).toBe(range.endMs);
    }
  });

  it('keeps each tier to its own acknowledgement when one tier cannot write', async () => {
    const { series, runs } = gaugePair(7, [TIERS[0]!, { ...TIERS[2]!, resolutionMs: 900_000 }]);
    const hot = new RecordingSink('influxdb:hot');
    const cold = new RecordingSink('influxdb:cold');
    cold.failWrite = (n) => n >= 2;
    const acks: number[] = [];
    const tierAcks: [string, number][] = [];
    const result = await runPair(series, runs, [hot, cold], 40, 4, {
      onAck: (ms) => acks.push(ms),
      onTierAck: (tier, ms) => tierAcks.push([tier, ms]),
    });
    expect(result.error).toBeDefined();
    const coldAcks = tierAcks.filter(([t]) => t === 'cold').map(([, ms]) => ms);
    expect(coldAcks.length).toBeGreaterThan(0);
    expect(coldAcks.every((ms) => ms % 900_000 === 0)).toBe(true);
    expect(coldAcks).toEqual([...coldAcks].sort((a, b) => a - b));
    const coldMark = result.tiers['cold']!.watermarkMs!;
    expect(coldMark).toBe(coldAcks.at(-1));
    expect(coldMark).toBeLessThan(T0 + 4 * HOUR);
    // The run as a whole is acknowledged only as far as its slowest tier.
    expect(acks.at(-1)).toBe(coldMark - 2 * STEP);
    expect(result.ackedThroughMs).toBe(coldMark - 2 * STEP);
    // Every cold window before its watermark was written.
    const stamps = new Set(cold.lines.map((l) => Number(l.split(' ')[2]) * 1000));
    for (let w = T0; w < coldMark; w += 900_000) expect(stamps.has(w)).toBe(true);
  });

  it('moves no tier past a chunk whose lines it did not all write when another tier failed', async () => {
    const { series, runs } = gaugePair(11, [
      { ...TIERS[0]!, retentionMs: 0 },
      { ...TIERS[1]!, retentionMs: 0 },
    ]);
    const hot = new RecordingSink('influxdb:hot');
    const warm = new RecordingSink('influxdb:warm');
    // The raw tier fails on its first write, in the middle of the first chunk's series.
    hot.failWrite = () => true;
    const result = await runPair(series, runs, [hot, warm], 100, 1);
    expect(result.error).toBeDefined();
    // Whatever warm acknowledged, every window before it was written.
    const mark = result.tiers['warm']!.watermarkMs ?? T0;
    const stamps = new Set(warm.lines.map((l) => Number(l.split(' ')[2]) * 1000));
    const due = reference('gauge', STEP, 300_000, T0, mark, series).map((w) => w.startMs);
    expect(due.filter((s) => !stamps.has(s))).toEqual([]);
  });

  it('shares one stdout between the tiers in a dry run', async () => {
    const { config } = await parse(
      yamlWith({
        load: {
          influxdb: { bucket: undefined },
          tiers: [
            { name: 'hot', bucket: 'm/hot', retention: '7d' },
            { name: 'warm', bucket: 'm/warm', retention: '90d', resolution: '5m' },
          ],
        },
      }),
    );
    const out = new PassThrough();
    const pipeline = await openPipeline(config, silent, {
      dryRun: 'print',
      stdout: out,
      redactor: Redactor.none(),
    });
    try {
      expect(pipeline.sinks).toHaveLength(1);
      expect([...pipeline.tierSinks.keys()]).toEqual(['hot', 'warm']);
      expect(new Set(pipeline.tierSinks.values()).size).toBe(1);
    } finally {
      await pipeline.close();
    }
    expect(tierSinkName(config.load.tiers[1]!, config.load.tiers)).toBe('influxdb:warm');
    const legacy = (await parse(yamlWith({}))).config.load.tiers;
    expect(tierSinkName(legacy[0]!, legacy)).toBe('influxdb');
  });
});

/** The series index a rollup line's key names in its tag `i`. */
const seriesOfTag = (key: string): number => Number(/,i=(\d+)/.exec(key)![1]);
