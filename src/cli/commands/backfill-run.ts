import type { TierConfig } from '../../config/types.js';
import { UsageError } from '../../core/errors.js';
import { parseDurationMs, parseTimeMs, toRfc3339 } from '../../core/time.js';
import {
  describeSeriesLimits,
  plannedSeriesPerDatabase,
  readSeriesLimits,
} from '../../load/series-limits.js';
import { planBackfill } from '../../pipeline/backfill-plan.js';
import { BackfillProgress } from '../../pipeline/backfill-progress.js';
import { resumeBackfill } from '../../pipeline/backfill-resume.js';
import { createPrometheusClient } from '../../pipeline/pipeline.js';
import type { TimeRange } from '../../pipeline/run-query.js';
import { tierRunsForRange } from '../../pipeline/tier-runs.js';
import type { CommonOptions } from '../common-options.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { loadConfig } from '../load-config.js';
import { runPipeline, type RunPlan } from '../run-pipeline.js';
import { selectQueries, selectTiers } from '../select-queries.js';
import type { BackfillOptions } from './backfill.js';

/** The action of `promflux backfill` (./backfill.ts), loaded only when a backfill runs. */
export async function runBackfill(io: CliIo, opts: BackfillOptions): Promise<number> {
  const now = io.now();
  const range: TimeRange = {
    startMs: parseTimeMs(opts.from, now),
    endMs: parseTimeMs(opts.to, now),
  };
  if (range.endMs < range.startMs) {
    throw new UsageError(
      `--to (${toRfc3339(range.endMs)}) is before --from (${toRfc3339(range.startMs)}).`,
    );
  }
  if (opts.plan) return printBackfillPlan(io, opts, range);
  const logIntervalMs = parseDurationMs(opts.progressInterval);
  if (logIntervalMs === undefined || logIntervalMs <= 0) {
    throw new UsageError(
      `--progress-interval "${opts.progressInterval}" is not a positive duration (e.g. 10s, 1m).`,
    );
  }
  return runPipeline(io, opts, async (config) => {
    const queries = selectQueries(config, opts.query);
    const tiers = selectTiers(config, opts.tier);
    if (opts.dryRun)
      return {
        queries,
        rangeFor: () => range,
        tierRunsFor: (q) => tierRunsForRange(q, tiers, range),
        failureHint: () => 'nothing was written',
      };
    const resume = await resumeBackfill(
      config,
      queries,
      tiers,
      range,
      opts.fresh === true,
      (line) => io.stderr.write(`${line}\n`),
    );
    const plan: RunPlan = {
      ...resume,
      failureHint: (_q, r) =>
        `run the same backfill again to resume from ${toRfc3339(r.startMs)}, after what was acknowledged`,
    };
    if (!opts.progress) return plan;
    const progress = new BackfillProgress(
      plan.queries.map((q) => ({ name: q.name, range: plan.rangeFor(q), stepMs: q.stepMs })),
      io.now(),
    );
    return {
      ...plan,
      onAck: (q, ackedThroughMs) => {
        plan.onAck?.(q, ackedThroughMs);
        progress.ack(q.name, ackedThroughMs);
      },
      progress: { tracker: progress, logIntervalMs },
    };
  });
}

async function printBackfillPlan(
  io: CliIo,
  opts: CommonOptions & { query: string[] },
  range: TimeRange,
): Promise<number> {
  const { config } = await loadConfig(io, opts.config);
  const queries = selectQueries(config, opts.query);
  const client = createPrometheusClient(config.extract);
  try {
    io.stdout.write(
      `Backfill plan ${toRfc3339(range.startMs)} .. ${toRfc3339(range.endMs)} (nothing is run):\n`,
    );
    const seriesOf: { series: number | undefined; buckets: string[] }[] = [];
    for (const query of queries) {
      const series = await client.countSeries(query.expr, range.endMs);
      seriesOf.push({ series, buckets: tierBuckets(config.load.tiers, query.tiers) });
      const plan = planBackfill(range, query.stepMs, series, config.extract);
      io.stdout.write(
        `  ${query.name}: ${plan.points} points a series, ` +
          `${series === undefined ? 'unknown number of' : series} series` +
          ` → ${plan.samples === undefined ? '?' : plan.samples} samples in ${plan.chunks.length} ` +
          `request${plan.chunks.length === 1 ? '' : 's'}\n`,
      );
      for (const chunk of plan.chunks.slice(0, 3)) {
        io.stdout.write(`      ${toRfc3339(chunk.startMs)} .. ${toRfc3339(chunk.endMs)}\n`);
      }
      if (plan.chunks.length > 3) io.stdout.write(`      ... ${plan.chunks.length - 3} more\n`);
    }
    const planned = plannedSeriesPerDatabase(seriesOf);
    const limits = await readSeriesLimits(config.load.influxdb, [...planned.keys()]);
    io.stdout.write('InfluxDB series limits (as the server shows them):\n');
    for (const line of describeSeriesLimits(limits, planned)) io.stdout.write(`  ${line}\n`);
    return EXIT.OK;
  } finally {
    client.close();
  }
}

/** The buckets of the tiers a query feeds (every tier when it names none). */
function tierBuckets(tiers: readonly TierConfig[], names: readonly string[] | undefined): string[] {
  return tiers.filter((t) => names === undefined || names.includes(t.name)).map((t) => t.bucket);
}
