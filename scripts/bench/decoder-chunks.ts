type SeriesBlock = import('../../src/core/series.js').SeriesBlock;
type Labels = import('../../src/core/series.js').Labels;

export interface ChunkShape {
  total: number;
  series: number;
  /** Points per series per chunk. */
  chunkPoints: number;
  startMs: number;
  stepMs: number;
  labels: (series: number) => Labels;
  /** Series `s`'s value at point index `i` (from the range start), `k` within the chunk. */
  value: (s: number, i: number, k: number) => number;
}

/**
 * Step-grid points in decoder-shaped chunks: every series of a chunk shares one pair of
 * Float64Array columns, as the matrix decoder lays them out. Generated as consumed.
 */
export function* decoderChunks(
  shape: ChunkShape,
): Generator<{ blocks: SeriesBlock[]; endMs: number }> {
  const { series, chunkPoints, startMs, stepMs } = shape;
  const perSeries = Math.ceil(shape.total / series);
  const labels = Array.from({ length: series }, (_, s) => shape.labels(s));
  for (let from = 0; from < perSeries; from += chunkPoints) {
    const n = Math.min(chunkPoints, perSeries - from);
    const columns = {
      timestampsMs: new Float64Array(n * series),
      values: new Float64Array(n * series),
    };
    const blocks: SeriesBlock[] = [];
    for (let s = 0; s < series; s++) {
      const offset = s * n;
      for (let k = 0; k < n; k++) {
        columns.timestampsMs[offset + k] = startMs + (from + k) * stepMs;
        columns.values[offset + k] = shape.value(s, from + k, k);
      }
      blocks.push({ labels: labels[s]!, columns, offset, length: n, nullValues: 0 });
    }
    yield { blocks, endMs: startMs + (from + n) * stepMs };
  }
}
