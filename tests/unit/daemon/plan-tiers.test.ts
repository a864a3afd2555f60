import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QueryConfig, TierConfig } from '../../../src/config/types.js';
import { lastGridPoint } from '../../../src/core/step-grid.js';
import {
  parseTierStateKey,
  planQueryTiers,
  type SavedWatermark,
  type TierTiming,
} from '../../../src/daemon/plan-tiers.js';
import { tierStateKey } from '../../../src/pipeline/windows.js';
import { queryFingerprint } from '../../../src/state/watermark-store.js';

const STEP = 5_000;
const HOT: TierConfig = { name: 'hot', bucket: 'db/hot', retentionMs: 0 };
const WARM: TierConfig = { name: 'warm', bucket: 'db/warm', retentionMs: 0, resolutionMs: 30_000 };
const COLD: TierConfig = { name: 'cold', bucket: 'db/cold', retentionMs: 0, resolutionMs: 120_000 };
const TIERS = [HOT, WARM, COLD];
const QUERY: QueryConfig = { name: 'q', expr: 'up', stepMs: STEP, tags: {} };
const FINGERPRINT = queryFingerprint(QUERY);
/** A multiple of every resolution above. */
const T0 = 1_700_000_040_000;

const timing = (nowMs: number, over: Partial<TierTiming> = {}): TierTiming => ({
  nowMs,
  delayMs: 10_000,
  latenessMs: 0,
  rewriteWindows: 0,
  initialLookbackMs: 300_000,
  maxCatchupMs: 86_400_000,
  ...over,
});

const keyOf = (tier: TierConfig, query = QUERY): string =>
  tierStateKey({
    query: query.name,
    tier: tier.name,
    stepMs: query.stepMs,
    resolutionMs: tier.resolutionMs ?? query.stepMs,
  });

/** What a tier's run covers, as the starts of its units (grid points or windows), in order. */
function unitsOf(run: ReturnType<typeof planQueryTiers>['runs'][number]): number[] {
  const units: number[] = [];
  if (run.range.kind === 'raw') {
    for (let t = run.range.points.startMs; t <= run.range.points.endMs; t += STEP) units.push(t);
  } else {
    const r = run.tier.resolutionMs!;
    for (let s = run.range.windows.fromMs; s < run.range.windows.toMs; s += r) units.push(s);
  }
  return units;
}

/** The watermark once units up to and including `start` are acknowledged. */
const ackedThrough = (tier: TierConfig, start: number): number =>
  tier.resolutionMs === undefined ? start : start + tier.resolutionMs;

interface Cycle {
  advanceMs: number;
  /** Per tier, the fraction of its units acknowledged before the run failed (1: all). */
  acked: [number, number, number];
}

/**
 * Runs the planner as the daemon does, with acknowledgements cut short at will: per tier, the
 * units acknowledged as new (after the watermark of their cycle), the gaps reported, and every
 * planned run, checked against the cycle's settings as it goes.
 */
function simulate(
  cycles: readonly Cycle[],
  over: Partial<TierTiming>,
  tiers: readonly TierConfig[] = TIERS,
) {
  const state = new Map<string, SavedWatermark>();
  const acked = new Map<string, number[]>(tiers.map((t) => [t.name, []]));
  const gaps = new Map<string, number[]>(tiers.map((t) => [t.name, []]));
  const computed = new Map<string, number[]>(tiers.map((t) => [t.name, []]));
  const legacyTier = tiers.find((t) => t.resolutionMs === undefined)?.name;
  let nowMs = T0 + 1_234;
  for (const cycle of cycles) {
    nowMs += cycle.advanceMs;
    const t = timing(nowMs, over);
    const plan = planQueryTiers(QUERY, tiers, legacyTier, state, t);
    expect(plan.warnings).toEqual([]);
    expect(plan.extraction === undefined).toBe(plan.runs.length === 0);
    let [lo, hi] = [Infinity, -Infinity];
    tiers.forEach((tier, i) => {
      const tierPlan = plan.tiers[i]!;
      expect(tierPlan.tier).toBe(tier);
      const prior = state.get(tierPlan.key)?.watermarkMs;
      expect(tierPlan.watermarkMs).toBe(prior);
      const r = tier.resolutionMs ?? STEP;
      if (tierPlan.gap) {
        for (let s = tierPlan.gap.fromMs; s < tierPlan.gap.toMs; s += r)
          gaps.get(tier.name)!.push(s);
      }
      const run = tierPlan.run;
      if (!run) return;
      const units = unitsOf(run);
      computed.get(tier.name)!.push(...units);
      const first = units[0]!;
      const last = units.at(-1)!;
      if (tier.resolutionMs === undefined) {
        // Raw: from the point after the watermark to the last one due (no lateness).
        if (prior !== undefined && !tierPlan.gap) expect(first).toBe(prior + STEP);
        expect(last).toBe(lastGridPoint(nowMs - t.delayMs, STEP));
        [lo, hi] = [Math.min(lo, first), Math.max(hi, last)];
      } else {
        // Rollup: exactly rewrite_windows before the watermark, to the last window due.
        if (prior !== undefined && !tierPlan.gap) expect(first).toBe(prior - t.rewriteWindows * r);
        expect(last + r).toBe(lastGridPoint(nowMs - t.delayMs - t.latenessMs, r));
        [lo, hi] = [Math.min(lo, first - STEP), Math.max(hi, last + r - STEP)];
      }
      // The acknowledged prefix of the run moves the watermark, never back (rewritten windows).
      const n = Math.floor(units.length * cycle.acked[i]!);
      for (const u of units.slice(0, n)) {
        if (prior === undefined || ackedThrough(tier, u) > prior) acked.get(tier.name)!.push(u);
      }
      if (n > 0) {
        const watermarkMs = Math.max(prior ?? -Infinity, ackedThrough(tier, units[n - 1]!));
        state.set(tierPlan.key, { watermarkMs, fingerprint: FINGERPRINT });
      }
    });
    // One extraction, exactly the union of what the due tiers need.
    if (plan.extraction) expect(plan.extraction).toEqual({ startMs: lo, endMs: hi });
  }
  return { state, acked, gaps, computed, nowMs };
}

/** Every unit from the first to the watermark, once, in order. */
function expectContiguous(units: readonly number[], r: number, watermarkEnd: number): void {
  const sorted = [...units].sort((a, b) => a - b);
  expect(sorted).toEqual(units);
  sorted.forEach((u, i) => expect(u).toBe(sorted[0]! + i * r));
  expect(sorted.at(-1)! + r).toBe(watermarkEnd);
}

const cyclesArb = fc.array(
  fc.record({
    advanceMs: fc.integer({ min: 0, max: 400_000 }),
    acked: fc.tuple(
      fc.constantFrom(1, 1, 0, 0.5),
      fc.constantFrom(1, 1, 0, 0.5),
      fc.constantFrom(1, 1, 0, 0.5),
    ),
  }),
  { minLength: 1, maxLength: 25 },
);

describe('planQueryTiers', () => {
  for (const [what, tiers] of [
    ['raw and rollup tiers', TIERS],
    ['rollup tiers only', [WARM, COLD]],
  ] as const) {
    it(`${what}, any cycle times and acknowledgements: every point and window acknowledged once, no gap`, () => {
      fc.assert(
        fc.property(
          cyclesArb,
          fc.constantFrom(0, 20_000, 60_000),
          fc.integer({ min: 0, max: 3 }),
          (cycles, latenessMs, rewriteWindows) => {
            // A last cycle that acknowledges everything catches every tier up.
            const all = [...cycles, { advanceMs: 1, acked: [1, 1, 1] as [number, number, number] }];
            const over = { latenessMs, rewriteWindows };
            const { state, acked, gaps, nowMs } = simulate(all, over, tiers);
            expect([...state.keys()].sort()).toEqual(tiers.map((t) => keyOf(t)).sort());
            for (const tier of tiers) {
              expect(gaps.get(tier.name)).toEqual([]);
              const r = tier.resolutionMs ?? STEP;
              const watermarkMs = state.get(keyOf(tier))!.watermarkMs;
              const t = timing(nowMs, over);
              const end =
                tier.resolutionMs === undefined
                  ? lastGridPoint(nowMs - t.delayMs, STEP) + STEP
                  : lastGridPoint(nowMs - t.delayMs - latenessMs, r);
              expect(watermarkMs + (tier.resolutionMs === undefined ? STEP : 0)).toBe(end);
              expectContiguous(acked.get(tier.name)!, r, end);
            }
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('rollup tiers only: a first cycle starts at initial_lookback, max_catchup cuts a gap', () => {
    const nowMs = T0 + 3_600_000 + 10_000 + 1_234;
    const fresh = planQueryTiers(QUERY, [WARM, COLD], undefined, new Map(), timing(nowMs));
    const end = T0 + 3_600_000;
    expect(fresh.runs.map((r) => r.range)).toEqual([
      { kind: 'rollup', windows: { fromMs: end - 300_000, toMs: end } },
      // The window holding now - delay - initial_lookback: cold's starts a minute earlier.
      { kind: 'rollup', windows: { fromMs: end - 360_000, toMs: end } },
    ]);
    expect(fresh.extraction).toEqual({ startMs: end - 360_000 - STEP, endMs: end - STEP });
    expect(fresh.tiers.map((t) => t.gap)).toEqual([undefined, undefined]);

    const behind = new Map([
      [keyOf(WARM), { watermarkMs: T0, fingerprint: FINGERPRINT }],
      [keyOf(COLD), { watermarkMs: T0, fingerprint: FINGERPRINT }],
    ]);
    const cut = planQueryTiers(
      QUERY,
      [WARM, COLD],
      undefined,
      behind,
      timing(nowMs, { maxCatchupMs: 600_000 }),
    );
    expect(cut.tiers.map((t) => t.gap)).toEqual([
      { fromMs: T0, toMs: end - 600_000 },
      { fromMs: T0, toMs: end - 600_000 },
    ]);
    expect(cut.extraction).toEqual({ startMs: end - 600_000 - STEP, endMs: end - STEP });
  });

  it('rollup tiers only: a watermark saved before tiers is forgotten with a note', () => {
    const legacy = new Map([['q', { watermarkMs: T0 + 20_000, fingerprint: FINGERPRINT }]]);
    const nowMs = T0 + 600_000 + 10_000;
    for (const legacyTier of [undefined, 'hot']) {
      const plan = planQueryTiers(QUERY, [WARM, COLD], legacyTier, legacy, timing(nowMs));
      expect(plan.adopt).toBeUndefined();
      expect(plan.forget).toEqual(['q']);
      expect(plan.warnings).toEqual([]);
      expect(plan.notes).toEqual([
        'Query "q" feeds no raw tier: its watermark from before tiers is forgotten; the points it wrote stay, and its tiers start at initial_lookback.',
      ]);
      expect(plan.tiers.map((t) => t.watermarkMs)).toEqual([undefined, undefined]);
      expect(plan.runs.map((r) => r.range)).toEqual([
        { kind: 'rollup', windows: { fromMs: T0 + 300_000, toMs: T0 + 600_000 } },
        { kind: 'rollup', windows: { fromMs: T0 + 240_000, toMs: T0 + 600_000 } },
      ]);
    }
  });

  it('rewrite_windows: once caught up, each cycle recomputes exactly the last N windows', () => {
    for (const n of [0, 1, 3]) {
      const state = new Map<string, SavedWatermark>();
      let nowMs = T0 + 10_000;
      for (let cycle = 0; cycle < 6; cycle++, nowMs += 30_000) {
        const [warm] = planQueryTiers(
          QUERY,
          [WARM],
          'hot',
          state,
          timing(nowMs, { rewriteWindows: n }),
        ).tiers;
        const { windows } = warm!.run!.range as { windows: { fromMs: number; toMs: number } };
        if (cycle > 0) {
          expect(windows).toEqual({
            fromMs: warm!.watermarkMs! - n * 30_000,
            toMs: warm!.watermarkMs! + 30_000,
          });
        }
        state.set(warm!.key, { watermarkMs: windows.toMs, fingerprint: FINGERPRINT });
      }
      // Nothing new due: nothing is rewritten on its own.
      expect(
        planQueryTiers(QUERY, [WARM], 'hot', state, timing(nowMs - 1, { rewriteWindows: n })).runs,
      ).toEqual([]);
    }
  });

  it('lateness holds a window back until it ends lateness before now - delay', () => {
    const state = new Map([[keyOf(WARM), { watermarkMs: T0, fingerprint: FINGERPRINT }]]);
    const due = T0 + 30_000 + 10_000 + 45_000; // window [T0, T0+30s) ends, plus delay and lateness
    const plan = (nowMs: number) =>
      planQueryTiers(QUERY, [WARM], 'hot', state, timing(nowMs, { latenessMs: 45_000 })).runs;
    expect(plan(due - 1)).toEqual([]);
    expect(plan(due)).toEqual([
      { tier: WARM, range: { kind: 'rollup', windows: { fromMs: T0, toMs: T0 + 30_000 } } },
    ]);
  });

  it('one extraction for every tier: from one step before the first rollup window', () => {
    const state = new Map([
      [keyOf(HOT), { watermarkMs: T0 + 55_000, fingerprint: FINGERPRINT }],
      [keyOf(WARM), { watermarkMs: T0 + 30_000, fingerprint: FINGERPRINT }],
      [keyOf(COLD), { watermarkMs: T0, fingerprint: FINGERPRINT }],
    ]);
    const plan = planQueryTiers(QUERY, TIERS, 'hot', state, timing(T0 + 70_000));
    expect(plan.runs.map((r) => r.tier.name)).toEqual(['hot', 'warm']);
    expect(plan.extraction).toEqual({ startMs: T0 + 25_000, endMs: T0 + 60_000 });
  });

  it('max_catchup: a tier behind by more reports the windows it skips as a gap', () => {
    const state = new Map([[keyOf(WARM), { watermarkMs: T0, fingerprint: FINGERPRINT }]]);
    const nowMs = T0 + 600_000 + 10_000;
    const [warm] = planQueryTiers(
      QUERY,
      [WARM],
      'hot',
      state,
      timing(nowMs, { maxCatchupMs: 120_000 }),
    ).tiers;
    expect(warm!.gap).toEqual({ fromMs: T0, toMs: T0 + 480_000 });
    expect(warm!.run!.range).toEqual({
      kind: 'rollup',
      windows: { fromMs: T0 + 480_000, toMs: T0 + 600_000 },
    });
  });

  it('the first raw tier adopts a watermark saved before tiers, and only a matching one', () => {
    const legacy = new Map([['q', { watermarkMs: T0 + 20_000, fingerprint: FINGERPRINT }]]);
    const plan = planQueryTiers(QUERY, TIERS, 'hot', legacy, timing(T0 + 60_000));
    expect(plan.adopt).toEqual({ key: keyOf(HOT), watermarkMs: T0 + 20_000 });
    expect(plan.forget).toEqual(['q']);
    expect(plan.tiers[0]!.run!.range).toEqual({
      kind: 'raw',
      points: { startMs: T0 + 25_000, endMs: T0 + 50_000 },
    });
    // The rollup tiers are new: they start at initial_lookback.
    expect(plan.tiers[1]!.watermarkMs).toBeUndefined();
    expect(plan.warnings).toEqual([]);

    const changed = new Map([['q', { watermarkMs: T0 + 20_000, fingerprint: 'other' }]]);
    const fresh = planQueryTiers(QUERY, TIERS, 'hot', changed, timing(T0 + 60_000));
    expect(fresh.adopt).toBeUndefined();
    expect(fresh.forget).toEqual(['q']);
    expect(fresh.warnings).toEqual([
      expect.stringMatching(/tier "hot": the query's expression or step changed/),
    ]);
    // Another query's legacy entry is not this one's.
    const other = planQueryTiers({ ...QUERY, name: 'q2' }, TIERS, 'hot', legacy, timing(T0));
    expect([other.adopt, other.forget]).toEqual([undefined, []]);
  });

  it('a tier added later starts at initial_lookback; one removed is forgotten, with a note', () => {
    const state = new Map([
      [keyOf(HOT), { watermarkMs: T0, fingerprint: FINGERPRINT }],
      [keyOf(COLD), { watermarkMs: T0, fingerprint: FINGERPRINT }],
      [keyOf(COLD, { ...QUERY, name: 'other' }), { watermarkMs: T0, fingerprint: 'x' }],
    ]);
    const nowMs = T0 + 3_600_000;
    const plan = planQueryTiers(
      QUERY,
      [HOT, WARM],
      'hot',
      state,
      timing(nowMs, { maxCatchupMs: 7_200_000 }),
    );
    expect(plan.forget).toEqual([keyOf(COLD)]);
    expect(plan.notes).toEqual([
      'Query "q" no longer feeds tier "cold": its watermark is forgotten; the data it wrote stays.',
    ]);
    expect(plan.warnings).toEqual([]);
    const cutoff = lastGridPoint(nowMs - 10_000, 30_000);
    expect(plan.tiers[1]!.run!.range).toEqual({
      kind: 'rollup',
      windows: { fromMs: cutoff - 300_000, toMs: cutoff },
    });
  });

  it('a change of step, resolution or expression starts the tier afresh, with a warning', () => {
    const state = new Map([
      [keyOf(HOT), { watermarkMs: T0, fingerprint: FINGERPRINT }],
      [keyOf(WARM), { watermarkMs: T0, fingerprint: FINGERPRINT }],
    ]);
    const coarser = { ...WARM, resolutionMs: 60_000 };
    const changedExpr = { ...QUERY, expr: 'up == 1' };
    const plan = planQueryTiers(changedExpr, [HOT, coarser], 'hot', state, timing(T0 + 120_000));
    expect(plan.forget.sort()).toEqual([keyOf(HOT), keyOf(WARM)].sort());
    expect(plan.warnings).toEqual([
      expect.stringMatching(/^Query "q", tier "hot": the query's expression or step changed/),
      expect.stringMatching(
        /^Query "q", tier "warm": its step or resolution changed \(state was for step 5000 ms, resolution 30000 ms\)/,
      ),
    ]);
    expect(plan.tiers.map((t) => t.watermarkMs)).toEqual([undefined, undefined]);
  });

  it('reads back only the keys tierStateKey writes', () => {
    const key = { query: 'a"b', tier: 'warm', stepMs: 15_000, resolutionMs: 300_000 };
    expect(parseTierStateKey(tierStateKey(key))).toEqual(key);
    for (const other of ['q', '[', '["a","b",1]', '[1,"b",2,3]', '{"a":1}']) {
      expect(parseTierStateKey(other), other).toBeUndefined();
    }
  });
});
