import type { PromfluxConfig, QueryConfig, TierConfig } from '../config/types.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { MetricKind } from '../core/metric-kind.js';
import { retentionCutoffMs } from '../core/retention.js';
import type { SeriesBlock } from '../core/series.js';
import { firstGridPoint, lastGridPoint } from '../core/step-grid.js';
import type { PrometheusClient } from '../extract/prometheus.js';
import { runQuery, type SeriesSink, type TimeRange } from './run-query.js';
import { tierRunsForRange } from './tier-runs.js';
import {
  compareTables,
  rawExpectation,
  rollupExpectation,
  type Comparison,
  type ExpectationSink,
  type WindowTable,
} from './verify-windows.js';
import type { HalfOpenRange } from './windows.js';

/** The raw tier is compared per hour: counts and sums of a window that size stay readable. */
export const RAW_WINDOW_MS = 3_600_000;

/** One tier of one query to verify, over what the tier should hold. */
export type VerifyCheck =
  | { query: QueryConfig; tier: TierConfig; kind: 'raw'; points: TimeRange; windowMs: number }
  | {
      query: QueryConfig;
      tier: TierConfig;
      kind: MetricKind;
      windows: HalfOpenRange;
      windowMs: number;
    };

/** A tier of a query with nothing to compare in the range, and why. */
export interface SkippedCheck {
  query: QueryConfig;
  tier: TierConfig;
  reason: string;
}

export interface PlanInput {
  queries: readonly QueryConfig[];
  tiers: readonly TierConfig[];
  /** `[--from, --to)`. */
  range: HalfOpenRange;
  nowMs: number;
  delayMs: number;
  latenessMs: number;
  /** Each query's kind, for its rollup tiers. */
  kindOf: (query: QueryConfig) => MetricKind;
}

/**
 * Which tiers of which queries to compare, each over what it should hold of `[from, to)`: the raw
 * tier its grid points, a rollup tier its whole windows (as a backfill over the range writes
 * them); both without what is beyond the tier's retention (never sent, or expired) and without
 * what a run cannot have written yet (after `now - delay`, and `lateness` for windows).
 */
export function planChecks(input: PlanInput): { checks: VerifyCheck[]; skipped: SkippedCheck[] } {
  const checks: VerifyCheck[] = [];
  const skipped: SkippedCheck[] = [];
  const newestMs = input.nowMs - input.delayMs;
  for (const query of input.queries) {
    const runs = tierRunsForRange(query, input.tiers, {
      startMs: input.range.fromMs,
      endMs: input.range.toMs - 1,
    });
    for (const { tier, range } of runs) {
      const cutoffMs = retentionCutoffMs(tier, input.nowMs) ?? Number.MIN_SAFE_INTEGER;
      if (range.kind === 'raw') {
        const points = {
          startMs: firstGridPoint(Math.max(range.points.startMs, cutoffMs), query.stepMs),
          endMs: lastGridPoint(Math.min(range.points.endMs, newestMs), query.stepMs),
        };
        if (points.endMs < points.startMs) {
          skipped.push({ query, tier, reason: noneLeft(range.points.startMs, cutoffMs) });
        } else {
          checks.push({ query, tier, kind: 'raw', points, windowMs: RAW_WINDOW_MS });
        }
        continue;
      }
      const r = tier.resolutionMs!;
      const windows = {
        fromMs: Math.max(range.windows.fromMs, firstGridPoint(cutoffMs, r)),
        toMs: Math.min(range.windows.toMs, lastGridPoint(newestMs - input.latenessMs, r)),
      };
      if (windows.toMs <= windows.fromMs) {
        const reason =
          range.windows.toMs <= range.windows.fromMs
            ? `no whole ${r / 60_000}m window in the range`
            : noneLeft(range.windows.fromMs, cutoffMs);
        skipped.push({ query, tier, reason });
      } else {
        checks.push({ query, tier, kind: input.kindOf(query), windows, windowMs: r });
      }
    }
  }
  return { checks, skipped };
}

function noneLeft(fromMs: number, cutoffMs: number): string {
  return fromMs < cutoffMs
    ? "the range is beyond the tier's retention, or too recent"
    : 'the range is too recent (after now - delay)';
}

/** Reads what a tier holds for a check: the same windows and fields as its expectation. */
export interface TierContents {
  read(check: VerifyCheck, signal?: AbortSignal): Promise<WindowTable>;
}

export interface VerifyResult {
  check: VerifyCheck;
  comparison?: Comparison;
  /** Set when the check could not be made (Prometheus or InfluxDB failed). */
  error?: string;
}

export interface VerifyDeps {
  client: Pick<PrometheusClient, 'queryRange'>;
  contents: TierContents;
  config: PromfluxConfig;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * Makes the checks of one query after another: one extraction per query (the union of what its
 * checks need) feeds every check's expectation, then each tier is read and compared.
 */
export async function verifyChecks(
  checks: readonly VerifyCheck[],
  deps: VerifyDeps,
): Promise<VerifyResult[]> {
  const results: VerifyResult[] = [];
  const byQuery = new Map<QueryConfig, VerifyCheck[]>();
  for (const c of checks) byQuery.set(c.query, [...(byQuery.get(c.query) ?? []), c]);
  for (const [query, own] of byQuery) {
    if (deps.signal?.aborted) break;
    const field = query.field ?? deps.config.transform.field;
    const expectations = own.map((c) => ({ check: c, sink: expectationOf(c, field) }));
    const run = await runQuery(deps.client, [], {
      query,
      range: extractionOf(own),
      extract: deps.config.extract,
      transform: deps.config.transform,
      batchSize: deps.config.load.influxdb.batchSize,
      maxWritesInFlight: 2,
      signal: deps.signal,
      logger: deps.logger,
      failureHint: () => 'its tiers are not compared',
      seriesSink: fanOut(expectations.map((e) => ({ sink: e.sink, range: needed(e.check) }))),
    });
    for (const { check, sink } of expectations) {
      if (run.error !== undefined) {
        results.push({ check, error: `Prometheus: ${describeError(run.error)}` });
        continue;
      }
      try {
        const found = await deps.contents.read(check, deps.signal);
        results.push({ check, comparison: compareTables(sink.finish(), found) });
      } catch (err) {
        results.push({ check, error: describeError(err) });
      }
    }
  }
  return results;
}

function expectationOf(check: VerifyCheck, field: string): ExpectationSink {
  if (check.kind === 'raw') return rawExpectation(check.windowMs);
  return rollupExpectation({
    kind: check.kind,
    field,
    stepMs: check.query.stepMs,
    resolutionMs: check.windowMs,
    windows: check.windows,
  });
}

/** The inclusive grid range a check's expectation is computed from. */
function needed(check: VerifyCheck): TimeRange {
  if (check.kind === 'raw') return check.points;
  const step = check.query.stepMs;
  return { startMs: check.windows.fromMs - step, endMs: check.windows.toMs - step };
}

function extractionOf(checks: readonly VerifyCheck[]): TimeRange {
  const ranges = checks.map(needed);
  return {
    startMs: Math.min(...ranges.map((r) => r.startMs)),
    endMs: Math.max(...ranges.map((r) => r.endMs)),
  };
}

/** One SeriesSink feeding several, each only the points of its own inclusive range. */
function fanOut(targets: readonly { sink: SeriesSink; range: TimeRange }[]): SeriesSink {
  return {
    async add(tags, block) {
      for (const { sink, range } of targets) {
        const part = clip(block, range);
        if (part) await sink.add(tags, part);
      }
    },
    async endChunk(endMs) {
      for (const { sink, range } of targets) {
        if (endMs >= range.startMs) await sink.endChunk(Math.min(endMs, range.endMs));
      }
    },
  };
}

/** The block's points inside the inclusive range (a view on the same columns), if any. */
function clip(block: SeriesBlock, range: TimeRange): SeriesBlock | undefined {
  const ts = block.columns.timestampsMs;
  let from = block.offset;
  let to = block.offset + block.length;
  while (from < to && ts[from]! < range.startMs) from++;
  while (to > from && ts[to - 1]! > range.endMs) to--;
  if (from === to) return undefined;
  return from === block.offset && to === block.offset + block.length
    ? block
    : { ...block, offset: from, length: to - from };
}
