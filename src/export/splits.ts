import { UsageError } from '../core/errors.js';
import { parseDurationMs } from '../core/time.js';

/** A split of the export's range: rows with `fromMs <= timestamp < toMs`. */
export interface SplitRange {
  readonly name: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** `train=0.8,validation=0.1,test=0.1` → names and fractions, in order; they must add up to 1. */
export function parseSplitSpec(spec: string): { name: string; fraction: number }[] {
  const parts = spec.split(',').map((part) => {
    const m = /^([a-z][a-z0-9_]*)=(\d*\.?\d+)$/.exec(part.trim());
    const fraction = m ? Number(m[2]) : NaN;
    if (!m || !(fraction > 0)) {
      throw new UsageError(
        `--split "${part}" is not NAME=FRACTION (a name of [a-z0-9_], a fraction above 0), e.g. train=0.8,test=0.2.`,
      );
    }
    return { name: m[1]!, fraction };
  });
  if (new Set(parts.map((p) => p.name)).size !== parts.length) {
    throw new UsageError(`--split "${spec}" names a split twice.`);
  }
  const sum = parts.reduce((n, p) => n + p.fraction, 0);
  if (Math.abs(sum - 1) > 1e-9) {
    throw new UsageError(`--split fractions add up to ${sum}, not 1.`);
  }
  return parts;
}

/**
 * Cuts `[fromMs, toMs)` by time, never shuffled: boundaries at the fractions, rounded down to a
 * multiple of `alignMs`; every split after the first starts `gapMs` after its boundary, so that a
 * row whose expression reads back `gapMs` reads nothing of the split before.
 */
export function splitRanges(
  parts: readonly { name: string; fraction: number }[],
  range: { fromMs: number; toMs: number },
  gapMs: number,
  alignMs: number,
): SplitRange[] {
  const { fromMs, toMs } = range;
  let cumulative = 0;
  const bounds = [fromMs];
  for (const part of parts.slice(0, -1)) {
    cumulative += part.fraction;
    const at = fromMs + cumulative * (toMs - fromMs);
    bounds.push(Math.max(fromMs, Math.min(toMs, Math.floor(at / alignMs) * alignMs)));
  }
  bounds.push(toMs);
  return parts.map((part, i) => {
    const split = {
      name: part.name,
      fromMs: bounds[i]! + (i > 0 ? gapMs : 0),
      toMs: bounds[i + 1]!,
    };
    if (!(split.fromMs < split.toMs)) {
      throw new UsageError(
        `Split "${part.name}" would hold no time: the range is too short for the fractions and the gap (${gapMs} ms).`,
      );
    }
    return split;
  });
}

/**
 * How far back a PromQL expression reads: the longest range selector (or subquery range) plus the
 * largest offset, both found by their syntax (`[5m]`, `[1h:1m]`, `offset 10m`). An upper bound,
 * used as the default `--gap`.
 */
export function lookbackMs(expr: string): number {
  let longest = 0;
  for (const m of expr.matchAll(/\[\s*([0-9][0-9a-z.]*)\s*(?::[^\]]*)?\]/g)) {
    longest = Math.max(longest, parseDurationMs(m[1]!) ?? 0);
  }
  let offset = 0;
  for (const m of expr.matchAll(/\boffset\s+-?\s*([0-9][0-9a-z.]*)/g)) {
    offset = Math.max(offset, parseDurationMs(m[1]!) ?? 0);
  }
  return longest + offset;
}
