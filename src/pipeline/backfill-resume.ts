import { join } from 'node:path';
import type { PromfluxConfig, QueryConfig, TierConfig } from '../config/types.js';
import { redactUrl } from '../core/redact.js';
import { toRfc3339 } from '../core/time.js';
import { queryFingerprint, WatermarkStore } from '../state/watermark-store.js';
import type { TimeRange } from './run-query.js';
import { isEmptyTierRange, queryTiers, tierRunsForRange, type TierRun } from './tier-runs.js';

/** What is left of a backfill after an earlier run, and how its progress is saved. */
export interface BackfillResume {
  /** The queries with something left to write. */
  queries: QueryConfig[];
  /** The range left of a query: after what an earlier run acknowledged in every tier. */
  rangeFor: (q: QueryConfig) => TimeRange;
  /** What each tier of the query writes over that range. */
  tierRunsFor: (q: QueryConfig) => TierRun[];
  /** Every tier of `q` has every grid point up to `ackedThroughMs`: remembered for the next run. */
  onAck: (q: QueryConfig, ackedThroughMs: number) => void;
  /** After the run, written or not: saves the progress. */
  finish: () => Promise<void>;
}

/**
 * Backfill progress, per query and range, in `state_dir/backfill.json`: an interrupted backfill
 * run again with the same --from/--to resumes after what every tier acknowledged (the smallest
 * progress: a tier further on rewrites a little, which is harmless). `tiers` are the tiers this
 * backfill writes (`--tier`); a query feeding none of them is left out.
 */
export async function resumeBackfill(
  config: PromfluxConfig,
  queries: QueryConfig[],
  tiers: readonly TierConfig[],
  range: TimeRange,
  fresh: boolean,
  report: (line: string) => void,
): Promise<BackfillResume> {
  const store = await WatermarkStore.open(join(config.pipeline.stateDir, 'backfill.json'));
  // The sink and every tier's bucket are part of the key: the same range backfilled into another
  // InfluxDB, or into other tiers, is another job.
  const url = redactUrl(config.load.influxdb.endpoint.url);
  const keyOf = (q: QueryConfig): string =>
    `${q.name} ${toRfc3339(range.startMs)}..${toRfc3339(range.endMs)} -> ${url} ` +
    queryTiers(q, tiers)
      .map((t) => t.bucket)
      .join(' ');
  const ranges = new Map<string, TimeRange>();
  for (const q of queries) {
    if (queryTiers(q, tiers).length === 0) {
      report(`skip   ${q.name}: feeds none of the tiers backfilled`);
      continue;
    }
    const saved = fresh ? undefined : store.get(keyOf(q));
    if (saved && saved.fingerprint === queryFingerprint(q)) {
      const left = { startMs: saved.watermarkMs + q.stepMs, endMs: range.endMs };
      if (left.startMs > range.endMs || nothingToWrite(q, tiers, left)) {
        report(`done   ${q.name}: already backfilled over this range (state_dir/backfill.json)`);
        continue;
      }
      report(`resume ${q.name}: from ${toRfc3339(left.startMs)}, after what an earlier run wrote`);
      ranges.set(q.name, left);
    } else {
      ranges.set(q.name, range);
    }
  }
  return {
    queries: queries.filter((q) => ranges.has(q.name)),
    rangeFor: (q) => ranges.get(q.name)!,
    tierRunsFor: (q) => tierRunsForRange(q, tiers, ranges.get(q.name)!),
    onAck: (q, ackedThroughMs) =>
      store.set(keyOf(q), { watermarkMs: ackedThroughMs, fingerprint: queryFingerprint(q) }),
    finish: () => store.flush(),
  };
}

function nothingToWrite(q: QueryConfig, tiers: readonly TierConfig[], left: TimeRange): boolean {
  return tierRunsForRange(q, tiers, left).every((run) => isEmptyTierRange(run.range));
}
