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
  /**
   * Native-histogram samples (`histograms` arrays) seen and skipped: a histogram cannot be one
   * float field. The decoders always set it.
   */
  histogramSamples?: number;
  /**
   * Returns the columns' memory for reuse by later responses (decoders given a SlabPool). Call it
   * once nothing reads the series any more; it may be left uncalled (the memory is then collected).
   */
  release?: () => void;
}

/** A decoded `/api/v1/query_range` response body: a matrix, or Prometheus' error object. */
export type DecodedResponse =
  | { status: 'success'; result: MatrixResult }
  | { status: 'error'; errorType: string; error: string; warnings: string[] };

/** An inclusive span of grid points `[startMs, endMs]`, both multiples of the step. */
export interface Chunk {
  startMs: number;
  endMs: number;
}
