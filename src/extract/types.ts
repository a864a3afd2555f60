import type { SeriesBlock } from '../core/series.js';

/** One `/api/v1/query_range` request: an inclusive range of evaluation times on the step grid. */
export interface RangeRequest {
  /** The query's config name, for errors and logs. */
  name: string;
  expr: string;
  startMs: number;
  endMs: number;
  stepMs: number;
}

/** A decoded successful matrix response. */
export interface MatrixResult {
  series: SeriesBlock[];
  warnings: string[];
  infos: string[];
  /** Samples stored across all series (NaN/Inf included, nulls excluded). */
  samples: number;
}

/** An inclusive span of grid points `[startMs, endMs]`, both multiples of the step. */
export interface Chunk {
  startMs: number;
  endMs: number;
}
