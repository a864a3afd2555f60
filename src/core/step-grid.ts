/**
 * The step grid: evaluation times are multiples of the step since the epoch, so that every run,
 * resumed backfill or split chunk asks Prometheus for the same timestamps. Shared by the chunk
 * planner (extract) and the daemon's cycle ranges.
 */

/** The first grid point at or after `startMs`. */
export function firstGridPoint(startMs: number, stepMs: number): number {
  const r = mod(startMs, stepMs);
  return r === 0 ? startMs : startMs - r + stepMs;
}

/** The last grid point at or before `endMs`. */
export function lastGridPoint(endMs: number, stepMs: number): number {
  return endMs - mod(endMs, stepMs);
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}
