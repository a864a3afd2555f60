/**
 * The benchmark data set: `series` gauge series of `bench_metric`, `points` samples each on the
 * 15 s grid from a fixed start (deterministic bytes), backfilled into a real Prometheus with
 * promtool. Runs use prefixes of the range, so one fixture serves both sizes of a mode.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_MAX_SAMPLES_PER_REQUEST } from '../../src/config/schema.js';
import { writeLoadFixture } from '../lib/openmetrics-fixture.js';
import { startPrometheus, type StartedServer } from '../lib/servers.js';

export const BENCH_METRIC = 'bench_metric';
export const STEP_MS = 15_000;
/** 2025-01-01T00:00:00Z: on a 24 h block boundary, so promtool cuts as few blocks as possible. */
export const FIXTURE_START_MS = Date.UTC(2025, 0, 1);
export const MAX_POINTS_PER_SERIES = 11_000;

export interface FixtureShape {
  series: number;
  /** Samples per series. */
  points: number;
}

/** An inclusive range on the grid covering the first `points` samples of every series. */
export interface BenchRange {
  startMs: number;
  endMs: number;
  points: number;
  /** series × points: what Prometheus returns and every sink must end up holding. */
  samples: number;
}

export function rangeOfPoints(shape: FixtureShape, points: number): BenchRange {
  if (points < 1 || points > shape.points) throw new RangeError(`points out of range: ${points}`);
  return {
    startMs: FIXTURE_START_MS,
    endMs: FIXTURE_START_MS + (points - 1) * STEP_MS,
    points,
    samples: shape.series * points,
  };
}

/** Points per series per request in promflux's steady state (after its first response). */
export function chunkPointsFor(series: number): number {
  return Math.max(
    1,
    Math.min(
      MAX_POINTS_PER_SERIES,
      Math.floor(DEFAULT_MAX_SAMPLES_PER_REQUEST / Math.max(1, series)),
    ),
  );
}

export interface FixtureReport {
  series: number;
  points_per_series: number;
  samples: number;
  openmetrics_bytes: number;
  write_seconds: number;
  /** promtool tsdb create-blocks-from openmetrics plus Prometheus start until ready. */
  promtool_and_start_seconds: number;
}

/** Writes the fixture under `dir`, backfills and starts Prometheus, removes the fixture file. */
export async function startFixturePrometheus(
  shape: FixtureShape,
  dir: string,
): Promise<{ prometheus: StartedServer; report: FixtureReport }> {
  const path = join(dir, 'fixture.om');
  const t0 = performance.now();
  const written = await writeLoadFixture(path, {
    series: shape.series,
    startMs: FIXTURE_START_MS,
    endMs: FIXTURE_START_MS + (shape.points - 1) * STEP_MS,
    intervalMs: STEP_MS,
  });
  const t1 = performance.now();
  try {
    const prometheus = await startPrometheus({ openMetricsFile: path });
    const t2 = performance.now();
    return {
      prometheus,
      report: {
        series: shape.series,
        points_per_series: shape.points,
        samples: written.samples,
        openmetrics_bytes: written.bytes,
        write_seconds: (t1 - t0) / 1000,
        promtool_and_start_seconds: (t2 - t1) / 1000,
      },
    };
  } finally {
    await rm(path, { force: true });
  }
}
