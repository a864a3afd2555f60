import type { QueryConfig, TierConfig } from '../config/types.js';
import { extractionFor, type TierRun } from '../pipeline/tier-runs.js';
import type { TimeRange } from '../pipeline/run-query.js';
import {
  nextEmission,
  tierStateKey,
  type HalfOpenRange,
  type TierKey,
} from '../pipeline/windows.js';
import type { CarryFallback } from '../pipeline/tier-carry.js';
import { queryFingerprint } from '../state/watermark-store.js';
import { planCarriedRollup, type CarryLookup } from './plan-carry.js';
import { planRange } from './plan-range.js';

/** The pipeline settings a cycle plans with, and when it runs. */
export interface TierTiming {
  nowMs: number;
  delayMs: number;
  latenessMs: number;
  rewriteWindows: number;
  initialLookbackMs: number;
  maxCatchupMs: number;
}

/** A saved watermark as the planner needs it (see QueryState). */
export interface SavedWatermark {
  watermarkMs: number;
  fingerprint: string;
}

export interface TierPlan {
  tier: TierConfig;
  /** Where its state is kept: tierStateKey of (query, tier, step, R). */
  key: string;
  /** The window length: the step for a raw tier. */
  resolutionMs: number;
  /** Where the tier stands (adopted or saved); undefined when it starts afresh. */
  watermarkMs: number | undefined;
  /** What it writes this cycle; undefined when nothing new is due. */
  run: TierRun | undefined;
  /** Data after its watermark that max_catchup leaves out, half-open: a gap in the tier. */
  gap: HalfOpenRange | undefined;
  /** A rollup tier planned with carries: `carried`, or why it re-reads (see plan-carry.ts). */
  carry?: 'carried' | CarryFallback;
}

export interface QueryPlan {
  query: QueryConfig;
  tiers: TierPlan[];
  /** The due tiers' runs, for the pipeline. */
  runs: TierRun[];
  /** The one range extracted for all of them; undefined when no tier is due. */
  extraction: TimeRange | undefined;
  /** A watermark from before tiers, to save under its tier's key (the legacy entry is forgotten). */
  adopt: { key: string; watermarkMs: number } | undefined;
  /** Entries of this query to delete: tiers it no longer feeds, state that no longer applies. */
  forget: string[];
  /** Tiers that start afresh although they had state: an operator should know. */
  warnings: string[];
  /** Tiers this query stopped feeding (their data stays where it is). */
  notes: string[];
}

/**
 * One query's cycle: for each tier it feeds (in `tiers`, config order), where the tier stands and
 * what it writes: a raw tier the grid points after its watermark (planRange), a rollup tier the
 * windows due after it (nextEmission, with lateness and rewrite_windows). All of them come from
 * one extraction, the union of their ranges. State is keyed by (query, tier, step, R): a change of
 * any part, or of the expression, starts that tier afresh with a warning; the tier named
 * `legacyTier` (the first raw tier) adopts a matching watermark saved under the bare query name
 * before tiers, so that an upgraded deployment carries on where it was; a query that does not
 * feed that tier (rollup tiers only) forgets it with a note: no rollup window was written from it.
 * Entries of this query that no configured tier uses are to be forgotten, except those `foreign`
 * claims (state other parts of the daemon keep in the same store, such as the continuous
 * export's). With `carries`, rollup tiers continue the open windows the daemon kept
 * (planCarriedRollup). Pure: the daemon applies the outcome.
 */
export function planQueryTiers(
  query: QueryConfig,
  tiers: readonly TierConfig[],
  legacyTier: string | undefined,
  saved: ReadonlyMap<string, SavedWatermark>,
  timing: TierTiming,
  foreign: (key: TierKey) => boolean = () => false,
  carries?: CarryLookup,
): QueryPlan {
  const fingerprint = queryFingerprint(query);
  const plan: QueryPlan = {
    query,
    tiers: [],
    runs: [],
    extraction: undefined,
    adopt: undefined,
    forget: [],
    warnings: [],
    notes: [],
  };
  const changed = (what: string): string =>
    `Query "${query.name}", tier "${what}": the query's expression or step changed since its watermark was saved; starting the tier afresh from initial_lookback.`;
  const used = new Set<string>();
  for (const tier of tiers) {
    const resolutionMs = tier.resolutionMs ?? query.stepMs;
    const key = tierStateKey({
      query: query.name,
      tier: tier.name,
      stepMs: query.stepMs,
      resolutionMs,
    });
    used.add(key);
    let state = saved.get(key);
    if (state && state.fingerprint !== fingerprint) {
      plan.warnings.push(changed(tier.name));
      plan.forget.push(key);
      state = undefined;
    }
    const legacy = saved.get(query.name);
    if (!state && tier.name === legacyTier && tier.resolutionMs === undefined && legacy) {
      if (legacy.fingerprint === fingerprint) {
        state = legacy;
        plan.adopt = { key, watermarkMs: legacy.watermarkMs };
      } else {
        plan.warnings.push(changed(tier.name));
      }
    }
    const tierPlan =
      carries && tier.resolutionMs !== undefined
        ? planCarriedRollup(query, tier, key, state?.watermarkMs, timing, carries)
        : planTier(query, tier, resolutionMs, state?.watermarkMs, timing);
    plan.tiers.push({ ...tierPlan, key, tier, resolutionMs, watermarkMs: state?.watermarkMs });
    if (tierPlan.run) plan.runs.push(tierPlan.run);
  }
  for (const key of saved.keys()) {
    if (key === query.name) {
      plan.forget.push(key); // adopted above, or of no tier any more
      if (!tiers.some((t) => t.name === legacyTier)) {
        plan.notes.push(
          `Query "${query.name}" feeds no raw tier: its watermark from before tiers is forgotten; the points it wrote stay, and its tiers start at initial_lookback.`,
        );
      }
      continue;
    }
    const old = parseTierStateKey(key);
    if (!old || old.query !== query.name || used.has(key) || foreign(old)) continue;
    plan.forget.push(key);
    if (tiers.some((t) => t.name === old.tier)) {
      plan.warnings.push(
        `Query "${query.name}", tier "${old.tier}": its step or resolution changed (state was for step ${old.stepMs} ms, resolution ${old.resolutionMs} ms); starting the tier afresh from initial_lookback.`,
      );
    } else {
      plan.notes.push(
        `Query "${query.name}" no longer feeds tier "${old.tier}": its watermark is forgotten; the data it wrote stays.`,
      );
    }
  }
  plan.extraction = extractionFor(plan.runs, query.stepMs);
  return plan;
}

function planTier(
  query: QueryConfig,
  tier: TierConfig,
  resolutionMs: number,
  watermarkMs: number | undefined,
  timing: TierTiming,
): Pick<TierPlan, 'run' | 'gap'> {
  const { stepMs } = query;
  if (tier.resolutionMs === undefined) {
    const { range, gap } = planRange({ ...timing, stepMs, watermarkMs });
    return {
      run: range && { tier, range: { kind: 'raw', points: range } },
      gap: gap && { fromMs: gap.startMs, toMs: gap.endMs + stepMs },
    };
  }
  const emission = nextEmission({ ...timing, stepMs, resolutionMs, watermarkMs });
  return {
    run: emission && { tier, range: { kind: 'rollup', windows: emission.windows } },
    gap: emission?.gap,
  };
}

/** The key parts of a tierStateKey; undefined for anything else (a bare query name). */
export function parseTierStateKey(key: string): TierKey | undefined {
  if (!key.startsWith('[')) return undefined;
  let parts: unknown;
  try {
    parts = JSON.parse(key);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts) || parts.length !== 4) return undefined;
  const [query, tier, stepMs, resolutionMs] = parts as unknown[];
  if (typeof query !== 'string' || typeof tier !== 'string') return undefined;
  if (typeof stepMs !== 'number' || typeof resolutionMs !== 'number') return undefined;
  return { query, tier, stepMs, resolutionMs };
}
