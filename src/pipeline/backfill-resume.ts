import { join } from 'node:path';
import type { PromfluxConfig, QueryConfig } from '../config/types.js';
import { redactUrl } from '../core/redact.js';
import { toRfc3339 } from '../core/time.js';
import { queryFingerprint, WatermarkStore } from '../state/watermark-store.js';
import type { TimeRange } from './run-query.js';

/** What is left of a backfill after an earlier run, and how its progress is saved. */
export interface BackfillResume {
  /** The queries with something left to write. */
  queries: QueryConfig[];
  /** The range left of a query: after what an earlier run acknowledged. */
  rangeFor: (q: QueryConfig) => TimeRange;
  /** Every grid point of `q` up to `ackedThroughMs` is written: remembered for the next run. */
  onAck: (q: QueryConfig, ackedThroughMs: number) => void;
  /** After the run, written or not: saves the progress. */
  finish: () => Promise<void>;
}

/**
 * Backfill progress, per query and range, in `state_dir/backfill.json`: an interrupted backfill
 * run again with the same --from/--to resumes after what was acknowledged.
 */
export async function resumeBackfill(
  config: PromfluxConfig,
  queries: QueryConfig[],
  range: TimeRange,
  fresh: boolean,
  report: (line: string) => void,
): Promise<BackfillResume> {
  const store = await WatermarkStore.open(join(config.pipeline.stateDir, 'backfill.json'));
  // The sink is part of the key: the same range backfilled into another InfluxDB is another job.
  const sink = `${redactUrl(config.load.influxdb.endpoint.url)} ${config.load.influxdb.bucket}`;
  const keyOf = (q: QueryConfig): string =>
    `${q.name} ${toRfc3339(range.startMs)}..${toRfc3339(range.endMs)} -> ${sink}`;
  const ranges = new Map<string, TimeRange>();
  for (const q of queries) {
    const saved = fresh ? undefined : store.get(keyOf(q));
    if (saved && saved.fingerprint === queryFingerprint(q)) {
      const startMs = saved.watermarkMs + q.stepMs;
      if (startMs > range.endMs) {
        report(`done   ${q.name}: already backfilled over this range (state_dir/backfill.json)`);
        continue;
      }
      report(`resume ${q.name}: from ${toRfc3339(startMs)}, after what an earlier run wrote`);
      ranges.set(q.name, { startMs, endMs: range.endMs });
    } else {
      ranges.set(q.name, range);
    }
  }
  return {
    queries: queries.filter((q) => ranges.has(q.name)),
    rangeFor: (q) => ranges.get(q.name)!,
    onAck: (q, ackedThroughMs) =>
      store.set(keyOf(q), { watermarkMs: ackedThroughMs, fingerprint: queryFingerprint(q) }),
    finish: () => store.flush(),
  };
}
