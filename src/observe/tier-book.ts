import { lastGridPoint } from '../core/step-grid.js';

/** A tier as a query feeds it, for the daemon's status and metrics. */
export interface TierView {
  name: string;
  /** The window length of a rollup tier; undefined for a raw tier. */
  resolutionMs: number | undefined;
  stepMs: number;
  /** How far behind now data becomes due: `pipeline.delay`, plus `pipeline.lateness` for a rollup. */
  holdBackMs: number;
}

export interface TierEntry {
  view: TierView;
  /** As saved: a raw tier's last acknowledged grid point, a rollup tier's end of its last window. */
  watermarkMs: number | undefined;
}

/**
 * How much due data a tier has not acknowledged yet: from its watermark to the last grid point
 * (raw) or window end (rollup) at or before `now - holdBack`. 0 when caught up, and a whole number
 * of steps or windows, so `lag > 2 * resolution` means more than two due windows are missing.
 */
export function tierLagMs(view: TierView, watermarkMs: number, nowMs: number): number {
  const unitMs = view.resolutionMs ?? view.stepMs;
  return Math.max(0, lastGridPoint(nowMs - view.holdBackMs, unitMs) - watermarkMs);
}

/**
 * Where each query's tiers stand, as the daemon last planned and acknowledged them: what the
 * per-tier metrics and `/status` read. Tiers a query no longer feeds, and queries no longer
 * configured, are dropped, so their series disappear with them.
 */
export class TierBook {
  private readonly queries = new Map<string, Map<string, TierEntry>>();

  /** The tiers `query` feeds now, in order, with where each stands. */
  describe(query: string, tiers: readonly TierEntry[]): void {
    this.queries.set(query, new Map(tiers.map((t) => [t.view.name, { ...t }])));
  }

  /** Keeps only these queries (after a reload). */
  retain(queries: readonly string[]): void {
    for (const query of this.queries.keys()) {
      if (!queries.includes(query)) this.queries.delete(query);
    }
  }

  recordWatermark(query: string, tier: string, watermarkMs: number): void {
    const entry = this.queries.get(query)?.get(tier);
    if (entry) entry.watermarkMs = watermarkMs;
  }

  tiersOf(query: string): TierEntry[] {
    return [...(this.queries.get(query)?.values() ?? [])];
  }

  *entries(): Generator<[query: string, entry: TierEntry]> {
    for (const [query, tiers] of this.queries)
      for (const entry of tiers.values()) yield [query, entry];
  }
}
