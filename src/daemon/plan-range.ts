import { firstGridPoint, lastGridPoint } from '../core/step-grid.js';
import type { TimeRange } from '../pipeline/run-query.js';

export interface RangePlanInput {
  nowMs: number;
  /** Newest data left out: still being scraped. */
  delayMs: number;
  stepMs: number;
  /** Last grid point every sink acknowledged, if the query has run before (unchanged). */
  watermarkMs: number | undefined;
  /** How far back a query without a watermark starts. */
  initialLookbackMs: number;
  /** The most a cycle catches up; older missed data is reported, not extracted. */
  maxCatchupMs: number;
}

export interface RangePlan {
  /** Grid points to extract, inclusive; undefined when nothing new is due. */
  range: TimeRange | undefined;
  /** Grid points missed beyond max_catchup, inclusive: a gap in the sink, reported. */
  gap: TimeRange | undefined;
}

/**
 * The range a daemon cycle extracts for one query: from the grid point after the watermark to the
 * last grid point at or before `now - delay`, so consecutive cycles neither overlap nor leave
 * holes. Without a watermark it starts `initialLookback` back. A backlog longer than `maxCatchup`
 * is cut: its oldest part becomes `gap`.
 */
export function planRange(input: RangePlanInput): RangePlan {
  const { stepMs } = input;
  const endMs = lastGridPoint(input.nowMs - input.delayMs, stepMs);
  let startMs =
    input.watermarkMs !== undefined
      ? input.watermarkMs + stepMs
      : firstGridPoint(endMs - input.initialLookbackMs, stepMs);
  let gap: TimeRange | undefined;
  const earliest = firstGridPoint(endMs - input.maxCatchupMs, stepMs);
  if (startMs < earliest) {
    // Only data after a watermark was ever promised; a new query's lookback is just cut.
    if (input.watermarkMs !== undefined) gap = { startMs, endMs: earliest - stepMs };
    startMs = earliest;
  }
  return { range: startMs <= endMs ? { startMs, endMs } : undefined, gap };
}
