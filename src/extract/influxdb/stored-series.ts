import type { QueryConfig, TierConfig, TransformConfig } from '../../config/types.js';
import { rollupFieldNames, type MetricKind } from '../../core/metric-kind.js';
import type { Labels } from '../../core/series.js';

/**
 * What to read back of one query from one tier: the points promflux stored in `measurement`
 * with the tag `metric_type` (and any other `where` tag), the named fields, in `[fromMs, toMs)`.
 */
export interface StoredSeriesQuery {
  /** The tier's `bucket`: 1.x `database` or `database/retention_policy`; 2.x a bucket name. */
  bucket: string;
  measurement: string;
  /** Tags every series read carries, e.g. `{ metric_type: 'availability' }`. */
  where: Readonly<Record<string, string>>;
  /** The fields read, in column order: `['value']`, or a rollup tier's `value_count`, .... */
  fields: readonly string[];
  /** Half-open: `fromMs` inclusive, `toMs` exclusive. */
  fromMs: number;
  toMs: number;
  /** The spacing of the stored points (the query's step, or the tier's resolution): sizes chunks. */
  intervalMs: number;
}

/**
 * One series' points in one chunk, columnar: ascending timestamps (integer ms) and one column per
 * requested field, in the query's field order; NaN where a stored point lacks that field.
 */
export interface StoredSeries {
  /** The stored tags (every tag, `where` ones included), sorted by name; absent tags left out. */
  readonly tags: Labels;
  readonly timestampsMs: Float64Array;
  readonly fields: readonly Float64Array[];
}

/**
 * A time slice `[fromMs, toMs)` of the query's range and every series stored in it, sorted by
 * their tags. Chunks come in range order and together cover the range exactly once.
 */
export interface StoredChunk {
  readonly fromMs: number;
  readonly toMs: number;
  readonly series: readonly StoredSeries[];
}

/**
 * The query promflux's own writes answer for `query` in `tier`: its measurement, its `metric_type`
 * tag (the query name, or the static tag that replaces it), and the field `value` for a raw tier
 * or the `value_<aggregate>` fields of `kind` for a rollup tier (`kind` is required then).
 */
export function storedSeriesQuery(
  query: QueryConfig,
  transform: TransformConfig,
  tier: TierConfig,
  range: { fromMs: number; toMs: number },
  kind?: MetricKind,
): StoredSeriesQuery {
  const field = query.field ?? transform.field;
  if (tier.resolutionMs === undefined) {
    return { ...storedSeriesTarget(query, transform, tier, range), fields: [field] };
  }
  if (kind === undefined) {
    throw new RangeError(`Reading the rollup tier "${tier.name}" needs the query's kind.`);
  }
  return {
    ...storedSeriesTarget(query, transform, tier, range),
    fields: rollupFieldNames(kind, field),
  };
}

/** {@link storedSeriesQuery} but the fields: where the query's points are, whatever is read of them. */
export function storedSeriesTarget(
  query: QueryConfig,
  transform: TransformConfig,
  tier: TierConfig,
  range: { fromMs: number; toMs: number },
): Omit<StoredSeriesQuery, 'fields'> {
  // The static tags (global, then the query's) win over the query name, as in schema-map.ts.
  const metricType = query.tags.metric_type ?? transform.staticTags.metric_type ?? query.name;
  return {
    bucket: tier.bucket,
    measurement: query.measurement ?? transform.measurement,
    where: { metric_type: metricType },
    fromMs: range.fromMs,
    toMs: range.toMs,
    intervalMs: tier.resolutionMs ?? query.stepMs,
  };
}
