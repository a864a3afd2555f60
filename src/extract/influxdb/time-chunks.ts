import { firstGridPoint } from '../../core/step-grid.js';

export interface ChunkSizing {
  /** Points (series × timestamps) one chunk may hold: bounds the memory of one chunk. */
  maxSamplesPerChunk: number;
  /** Timestamps per series one chunk may span. */
  maxPointsPerSeries: number;
}

export const DEFAULT_CHUNK_SIZING: ChunkSizing = {
  maxSamplesPerChunk: 1_000_000,
  maxPointsPerSeries: 10_000,
};

/** Series assumed before the first chunk told how many there are. */
const FIRST_CHUNK_SERIES = 1_000;

/**
 * The next time chunk `[fromMs, toMs)` of a half-open range, starting at `cursorMs`: as many
 * intervals as the sizing allows for the series the previous chunk held (1,000 before the first),
 * ending on a multiple of the interval so that a rerun cuts the range in the same places.
 * Undefined once the cursor reached the end.
 */
export function nextTimeChunk(
  cursorMs: number,
  endMs: number,
  intervalMs: number,
  lastSeriesCount: number | undefined,
  sizing: ChunkSizing = DEFAULT_CHUNK_SIZING,
): { fromMs: number; toMs: number } | undefined {
  if (cursorMs >= endMs) return undefined;
  const series = Math.max(1, lastSeriesCount ?? FIRST_CHUNK_SERIES);
  const points = Math.max(
    1,
    Math.min(sizing.maxPointsPerSeries, Math.floor(sizing.maxSamplesPerChunk / series)),
  );
  const toMs = firstGridPoint(cursorMs + points * intervalMs, intervalMs);
  return { fromMs: cursorMs, toMs: Math.min(endMs, toMs) };
}
