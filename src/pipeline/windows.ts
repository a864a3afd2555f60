import { firstGridPoint, lastGridPoint } from '../core/step-grid.js';
import type { TimeRange } from './run-query.js';

/**
 * The window primitive behind every tier: a window is epoch-aligned and half-open,
 * `[s, s + R)` with `s` a multiple of the resolution `R` (itself a multiple of the step). It may be
 * emitted once extraction has covered the grid points `[s - step, s + R)` (the point one step
 * before feeds a counter's first increase) and `s + R <= now - delay - lateness`. The raw tier is
 * the case `R = step`. Everything here is pure arithmetic on milliseconds.
 */

/** What a tier's state is kept under: a change of any part starts the tier afresh. */
export interface TierKey {
  query: string;
  tier: string;
  stepMs: number;
  resolutionMs: number;
}

/** A stable text form of a TierKey, for the watermark store. */
export function tierStateKey(key: TierKey): string {
  return JSON.stringify([key.query, key.tier, key.stepMs, key.resolutionMs]);
}

/** Half-open `[fromMs, toMs)`: grid points of an extraction, or a run of whole windows. */
export interface HalfOpenRange {
  fromMs: number;
  toMs: number;
}

/** The start of the window holding `t`. */
export function windowStart(t: number, resolutionMs: number): number {
  return lastGridPoint(t, resolutionMs);
}

/** Checks that `R` is a positive multiple of `step`; returns a specific message when not. */
export function resolutionProblem(stepMs: number, resolutionMs: number): string | undefined {
  if (!(Number.isSafeInteger(stepMs) && stepMs > 0)) {
    return `The step must be a positive whole number of milliseconds, not ${stepMs}.`;
  }
  if (!(Number.isSafeInteger(resolutionMs) && resolutionMs > 0) || resolutionMs % stepMs !== 0) {
    return `A resolution of ${resolutionMs} ms is not a multiple of the step (${stepMs} ms).`;
  }
  return undefined;
}

/**
 * The grid points an extraction of the inclusive range covered, half-open. Prometheus evaluates a
 * range query at `start + k × step`: a range starting off the grid (an unaligned `--from`) covers
 * no grid point at all, so its data completes no window.
 */
export function gridCoverage(range: TimeRange, stepMs: number): HalfOpenRange | undefined {
  if (range.startMs % stepMs !== 0 || range.endMs < range.startMs) return undefined;
  return { fromMs: range.startMs, toMs: lastGridPoint(range.endMs, stepMs) + stepMs };
}

/**
 * The windows that are complete and may be emitted, given what extraction covered and the cutoff
 * `now - delay - lateness`: every `[s, s + R)` with `[s - step, s + R)` inside the coverage and
 * `s + R <= cutoff`, as one run of whole windows; undefined when there is none.
 */
export function completeWindows(
  coverage: HalfOpenRange,
  cutoffMs: number,
  stepMs: number,
  resolutionMs: number,
): HalfOpenRange | undefined {
  const fromMs = firstGridPoint(coverage.fromMs + stepMs, resolutionMs);
  const toMs = lastGridPoint(Math.min(coverage.toMs, cutoffMs), resolutionMs);
  return fromMs < toMs ? { fromMs, toMs } : undefined;
}

/**
 * The inclusive grid range to extract so that every window of `windows` is complete: from one step
 * before the first window to the last grid point of the last.
 */
export function extractionRange(windows: HalfOpenRange, stepMs: number): TimeRange {
  return { startMs: windows.fromMs - stepMs, endMs: windows.toMs - stepMs };
}

export interface EmissionInput {
  nowMs: number;
  delayMs: number;
  /** `pipeline.lateness`: windows are held back this much longer for data that arrives late. */
  latenessMs: number;
  stepMs: number;
  resolutionMs: number;
  /** End of the last emitted window; undefined for a tier that never emitted one. */
  watermarkMs: number | undefined;
  /** `pipeline.rewrite_windows`: this many emitted windows are recomputed with the new ones. */
  rewriteWindows: number;
  /** Where a tier without a watermark starts, back from the cutoff (at the window holding it). */
  initialLookbackMs: number;
  /** The most one cycle catches up; older windows are reported as a gap. */
  maxCatchupMs: number;
}

export interface Emission {
  /** The windows to compute (rewritten ones included), whole and complete once extracted. */
  windows: HalfOpenRange;
  /** What to extract for them (one step before the first window). */
  extract: TimeRange;
  /** Windows after the watermark left out by max_catchup: a gap in the tier, reported. */
  gap: HalfOpenRange | undefined;
}

/**
 * The next windows a tier emits: from its watermark (less the windows to rewrite) to the last
 * window that ends by `now - delay - lateness`. Undefined while no new window is due, so that
 * rewriting never happens on its own. The new watermark is `windows.toMs` once every sink has
 * acknowledged them.
 */
export function nextEmission(input: EmissionInput): Emission | undefined {
  const { resolutionMs: r, watermarkMs } = input;
  const toMs = lastGridPoint(input.nowMs - input.delayMs - input.latenessMs, r);
  // A new tier starts with the window holding `now - initial_lookback`: rounding up instead
  // would leave a lookback shorter than R (the default is one interval) with no window, ever.
  let newFromMs =
    watermarkMs !== undefined ? watermarkMs : lastGridPoint(toMs - input.initialLookbackMs, r);
  let gap: HalfOpenRange | undefined;
  const earliestMs = firstGridPoint(toMs - input.maxCatchupMs, r);
  if (newFromMs < earliestMs) {
    // Only windows after a watermark were promised; a new tier's lookback is just cut.
    if (watermarkMs !== undefined) gap = { fromMs: newFromMs, toMs: earliestMs };
    newFromMs = earliestMs;
  }
  if (newFromMs >= toMs) return undefined;
  const fromMs =
    watermarkMs !== undefined && gap === undefined
      ? newFromMs - Math.max(0, input.rewriteWindows) * r
      : newFromMs;
  const windows = { fromMs, toMs };
  return { windows, extract: extractionRange(windows, input.stepMs), gap };
}
