import { firstGridPoint, lastGridPoint } from '../core/step-grid.js';
import type { Chunk, RangeRequest } from './types.js';

/**
 * Chunk planning on the step grid. Evaluation times are multiples of the step since the epoch, so
 * a rerun, a resumed backfill or a split chunk always asks for the same timestamps (Prometheus
 * evaluates at `start + k*step` and does not snap `start` itself).
 */

/**
 * Points per series Prometheus always accepts: it refuses `(end - start) / step > 11000`
 * (integer division), i.e. more than 11,001 points.
 */
export const PROMETHEUS_MAX_POINTS = 11_000;

export interface ChunkLimits {
  /** Points per series per request (capped at {@link PROMETHEUS_MAX_POINTS}). */
  maxPointsPerSeries: number;
  /** Samples per request (series × points): bounds the memory one response takes. */
  maxSamplesPerRequest: number;
  /** Series the query is expected to return (from the previous response). */
  expectedSeries: number;
}

/** Grid points in the inclusive chunk. */
export function chunkPoints(chunk: Chunk, stepMs: number): number {
  return chunk.endMs < chunk.startMs ? 0 : (chunk.endMs - chunk.startMs) / stepMs + 1;
}

/** Points per series one request may span under the limits: at least 1. */
export function pointsPerChunk(limits: ChunkLimits): number {
  const bySamples = Math.floor(limits.maxSamplesPerRequest / Math.max(1, limits.expectedSeries));
  return Math.max(
    1,
    Math.min(Math.floor(limits.maxPointsPerSeries), PROMETHEUS_MAX_POINTS, bySamples),
  );
}

/**
 * The next chunk: from the first grid point at or after `cursorMs`, as many points as the limits
 * allow, never past `endMs`. Undefined when no grid point is left.
 */
export function planChunk(
  cursorMs: number,
  endMs: number,
  stepMs: number,
  limits: ChunkLimits,
): Chunk | undefined {
  const start = firstGridPoint(cursorMs, stepMs);
  const last = lastGridPoint(endMs, stepMs);
  if (start > last) return undefined;
  const end = Math.min(last, start + (pointsPerChunk(limits) - 1) * stepMs);
  return { startMs: start, endMs: end };
}

/** Every chunk of a range for a fixed series estimate (`backfill --plan`). */
export function planChunks(
  range: Pick<RangeRequest, 'startMs' | 'endMs' | 'stepMs'>,
  limits: ChunkLimits,
): Chunk[] {
  const chunks: Chunk[] = [];
  let cursor = range.startMs;
  for (;;) {
    const chunk = planChunk(cursor, range.endMs, range.stepMs, limits);
    if (!chunk) return chunks;
    chunks.push(chunk);
    cursor = chunk.endMs + range.stepMs;
  }
}

/** Halves a chunk on the grid (the first half takes the odd point); undefined for one point. */
export function splitChunk(chunk: Chunk, stepMs: number): [Chunk, Chunk] | undefined {
  const points = chunkPoints(chunk, stepMs);
  if (points <= 1) return undefined;
  const leftEnd = chunk.startMs + (Math.ceil(points / 2) - 1) * stepMs;
  return [
    { startMs: chunk.startMs, endMs: leftEnd },
    { startMs: leftEnd + stepMs, endMs: chunk.endMs },
  ];
}
