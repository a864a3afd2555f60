import type { ExtractConfig } from '../config/types.js';
import { chunkPoints, planChunks } from '../extract/chunk-plan.js';
import type { Chunk } from '../extract/types.js';
import type { TimeRange } from './run-query.js';

export interface BackfillPlan {
  /** Grid points per series over the whole range. */
  points: number;
  /** Estimated samples (points × series), when the series count is known. */
  samples: number | undefined;
  /** The requests a backfill would make, as the extract stage sizes them. */
  chunks: Chunk[];
}

/** What `backfill` would ask Prometheus for, sized by the same limits as the real run. */
export function planBackfill(
  range: TimeRange,
  stepMs: number,
  series: number | undefined,
  extract: Pick<ExtractConfig, 'maxPointsPerSeries' | 'maxSamplesPerRequest'>,
): BackfillPlan {
  const chunks = planChunks(
    { ...range, stepMs },
    {
      maxPointsPerSeries: extract.maxPointsPerSeries,
      maxSamplesPerRequest: extract.maxSamplesPerRequest,
      expectedSeries: Math.max(1, series ?? 1),
    },
  );
  const points = chunks.reduce((sum, c) => sum + chunkPoints(c, stepMs), 0);
  return { points, samples: series === undefined ? undefined : points * series, chunks };
}
