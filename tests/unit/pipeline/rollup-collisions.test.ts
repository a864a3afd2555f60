/**
 * Two Prometheus series whose labels map to one InfluxDB series (`labels.drop` removes the only
 * label telling them apart): the raw tier keeps the first point per timestamp (the others count
 * as `label_collision`), and every rollup window must equal the rollup of exactly those points,
 * however the blocks of the two label sets interleave or overlap in time and in chunks.
 */
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { QueryConfig, TierConfig, TransformConfig } from '../../../src/config/types.js';
import type { MetricKind } from '../../../src/core/metric-kind.js';
import { runQuery } from '../../../src/pipeline/run-query.js';
import { extractionFor, tierRunsForRange } from '../../../src/pipeline/tier-runs.js';
import { FakePrometheusClient } from '../../support/fake-prometheus-client.js';
import { RecordingSink } from '../../support/recording-sink.js';
import { HOUR, T0, parseRollupLines, reference, type Point } from '../transform/rollup-helpers.js';

const STEP = 60_000;
const WINDOWS = 6;
const TIERS: TierConfig[] = [
  { name: 'hot', bucket: 'm/hot', retentionMs: 0 },
  { name: 'warm', bucket: 'm/warm', retentionMs: 0, resolutionMs: 5 * STEP },
  { name: 'cold', bucket: 'm/cold', retentionMs: 0, resolutionMs: 15 * STEP },
];
const RANGE = { startMs: T0, endMs: T0 + WINDOWS * 15 * STEP - STEP };

const transform: TransformConfig = {
  validMetrics: [],
  measurement: 'm',
  field: 'value',
  labels: { drop: ['src'], keep: [], rename: {} },
  staticTags: {},
  maxFutureSkewMs: 600_000,
};

const queryOf = (kind: MetricKind): QueryConfig => ({
  name: 'q',
  expr: kind === 'counter' ? 'c_total' : 'g',
  stepMs: STEP,
  tags: {},
});

/**
 * Per grid point from a step before the range: which label set has a point (a, b, both, none)
 * and its values. A counter's values climb with resets, each label set its own.
 */
function labelSetsArb(kind: MetricKind) {
  const points = (RANGE.endMs - RANGE.startMs) / STEP + 2;
  return fc
    .array(
      fc.tuple(
        fc.constantFrom('a', 'b', 'both', 'both', 'none'),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
      ),
      { minLength: points, maxLength: points },
    )
    .map((steps) => {
      const a: Point[] = [];
      const b: Point[] = [];
      let [ca, cb] = [100, 5_000];
      steps.forEach(([has, x, y], i) => {
        const t = RANGE.startMs - STEP + i * STEP;
        if (kind === 'counter') {
          ca = x === 0 ? 3 : ca + x;
          cb = y === 0 ? 1 : cb + y;
        }
        const [va, vb] = kind === 'counter' ? [ca, cb] : [x - 25, y * 1.5];
        if (has === 'a' || has === 'both') a.push({ t, v: va });
        if (has === 'b' || has === 'both') b.push({ t, v: vb });
      });
      return [a, b] as const;
    });
}

/** Raw lines as points of the one InfluxDB series (each timestamp once). */
function rawPoints(lines: readonly string[]): Point[] {
  const byTime = new Map<number, number>();
  for (const line of lines) {
    const [key, field, ts] = line.split(' ') as [string, string, string];
    expect(key).toMatch(/^m,metric_name=(g|c_total),metric_type=q$/);
    const t = Number(ts) * 1000;
    expect(byTime.has(t), `raw point at ${t} twice`).toBe(false);
    byTime.set(t, Number(field.slice('value='.length)));
  }
  return [...byTime].map(([t, v]) => ({ t, v })).sort((x, y) => x.t - y.t);
}

describe('rollup tiers with colliding label sets', () => {
  for (const kind of ['gauge', 'counter'] as const) {
    it(`${kind}: each window is the rollup of the raw tier's points (first label set wins)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          labelSetsArb(kind),
          fc.constantFrom(7, 50, 400),
          async ([a, b], maxSamplesPerRequest) => {
            const query = queryOf(kind);
            const client = new FakePrometheusClient(
              [a, b].map((points, i) => {
                const at = new Map(points.map((p) => [p.t, p.v]));
                return {
                  labels: { __name__: query.expr, src: i === 0 ? 'a' : 'b' },
                  valueAt: (t: number) => at.get(t),
                };
              }),
            );
            const runs = tierRunsForRange(query, TIERS, RANGE);
            const sinks = runs.map((r) => new RecordingSink(`influxdb:${r.tier.name}`));
            const result = await runQuery(client, [], {
              query,
              range: extractionFor(runs, STEP)!,
              tiers: runs.map((run, i) => ({ run, sinks: [sinks[i]!] })),
              kind,
              extract: { concurrency: 1, maxPointsPerSeries: 11_000, maxSamplesPerRequest },
              transform,
              batchSize: 13,
              maxWritesInFlight: 2,
              logger: pino({ level: 'silent' }),
              now: () => T0 + 100 * HOUR,
            });
            expect(result.error).toBeUndefined();
            // The raw tier: a's point where it has one, else b's (the first label set wins).
            const aTimes = new Set(a.map((p) => p.t));
            const deduped = [...a, ...b.filter((p) => !aTimes.has(p.t))].sort((x, y) => x.t - y.t);
            const raw = rawPoints(sinks[0]!.lines);
            expect(raw).toEqual(deduped.filter((p) => p.t >= RANGE.startMs));
            expect(result.drops.label_collision).toBe(b.filter((p) => aTimes.has(p.t)).length);
            // Each rollup window: the reference rollup of the raw tier's points (with the deduped
            // point a step before the range, a counter's predecessor, which the raw tier lacks).
            const before = deduped.filter((p) => p.t === RANGE.startMs - STEP);
            TIERS.slice(1).forEach((tier, i) => {
              const expected = reference(kind, STEP, tier.resolutionMs!, T0, RANGE.endMs + STEP, [
                [...before, ...raw],
              ]);
              expect(
                parseRollupLines(kind, sinks[i + 1]!.lines, () => 0),
                tier.name,
              ).toEqual(expected);
            });
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});
