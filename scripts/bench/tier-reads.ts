/**
 * How many grid points a steady daemon asks Prometheus for, per series, with the raw tier alone
 * and with raw + rollup tiers, with and without carrying rollup windows between cycles: the real
 * planner (planQueryTiers) and carry book over a simulated day of cycles, every write acknowledged.
 * `tsx scripts/bench/tier-reads.ts` prints the figures README's tiers section quotes.
 */
import type { QueryConfig, TierConfig } from '../../src/config/types.js';
import { CarryBook } from '../../src/daemon/carry-book.js';
import { planQueryTiers, type SavedWatermark } from '../../src/daemon/plan-tiers.js';
import { queryFingerprint } from '../../src/state/watermark-store.js';
import { plainTransform } from '../../tests/support/transform-config.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface ReadSimulation {
  stepMs: number;
  intervalMs: number;
  /** Rollup resolutions besides the raw tier (none: the raw tier alone). */
  resolutionsMs: number[];
  carry: boolean;
  /** How long the simulation runs; the first hour is warm-up and not counted. */
  durationMs: number;
  /** pipeline.delay (default 60s). */
  delayMs?: number;
}

export interface ReadFigures {
  /** Cycles counted (after the warm-up). */
  cycles: number;
  /** Grid points extracted per series over the counted cycles. */
  points: number;
  /** The most one counted cycle extracted. */
  maxPerCycle: number;
  /** Rollup tiers' cycles planned as `carried` / as a re-read. */
  carried: number;
  reread: number;
}

const transform = plainTransform();

export function simulateReads(sim: ReadSimulation): ReadFigures {
  const query: QueryConfig = { name: 'q', expr: 'up', stepMs: sim.stepMs, tags: {} };
  const tiers: TierConfig[] = [
    { name: 'raw', bucket: 'm/raw', retentionMs: 0 },
    ...sim.resolutionsMs.map((resolutionMs) => ({
      name: `r${resolutionMs}`,
      bucket: `m/r${resolutionMs}`,
      retentionMs: 0,
      resolutionMs,
    })),
  ];
  const saved = new Map<string, SavedWatermark>();
  const book = sim.carry ? new CarryBook(transform) : undefined;
  const fingerprint = queryFingerprint(query);
  // A day boundary, then 7 s into the interval: cycles do not start on the grid.
  const startMs = Date.UTC(2026, 11, 1) + 7_000;
  const out: ReadFigures = { cycles: 0, points: 0, maxPerCycle: 0, carried: 0, reread: 0 };
  for (let nowMs = startMs; nowMs < startMs + sim.durationMs; nowMs += sim.intervalMs) {
    const plan = planQueryTiers(
      query,
      tiers,
      'raw',
      saved,
      {
        nowMs,
        delayMs: sim.delayMs ?? MINUTE,
        latenessMs: 0,
        rewriteWindows: 0,
        initialLookbackMs: sim.intervalMs,
        maxCatchupMs: 24 * HOUR,
      },
      () => false,
      book,
    );
    const counted = nowMs >= startMs + HOUR;
    const points = plan.extraction
      ? (plan.extraction.endMs - plan.extraction.startMs) / sim.stepMs + 1
      : 0;
    if (counted) {
      out.cycles++;
      out.points += points;
      out.maxPerCycle = Math.max(out.maxPerCycle, points);
    }
    // Every tier's run acknowledged in full, as a healthy cycle ends.
    for (const run of plan.runs) {
      const tierPlan = plan.tiers.find((t) => t.tier === run.tier)!;
      if (counted && tierPlan.carry === 'carried') out.carried++;
      else if (counted && run.range.kind === 'rollup') out.reread++;
      let watermarkMs: number;
      if (run.range.kind === 'raw') {
        watermarkMs = run.range.points.endMs;
      } else {
        const { windows, feed } = run.range;
        watermarkMs = Math.max(windows.fromMs, windows.toMs);
        if (book && feed) {
          const carry = book.take(tierPlan.key, query, run.tier, tierPlan.carry === 'carried');
          carry.keep({ series: new Map(), coveredToMs: feed.toMs, watermarkMs });
        }
      }
      const before = saved.get(tierPlan.key)?.watermarkMs ?? -Infinity;
      if (watermarkMs > before) saved.set(tierPlan.key, { watermarkMs, fingerprint });
    }
  }
  return out;
}

/** The README's figures: step 15 s, a 60 s interval, a day; raw alone vs raw + 5m + 1h. */
export function readFigures(): { raw: ReadFigures; before: ReadFigures; after: ReadFigures } {
  const base = { stepMs: 15_000, intervalMs: MINUTE, durationMs: 25 * HOUR };
  return {
    raw: simulateReads({ ...base, resolutionsMs: [], carry: false }),
    before: simulateReads({ ...base, resolutionsMs: [5 * MINUTE, HOUR], carry: false }),
    after: simulateReads({ ...base, resolutionsMs: [5 * MINUTE, HOUR], carry: true }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { raw, before, after } = readFigures();
  const line = (name: string, f: ReadFigures) =>
    `${name}: ${f.points} grid points per series over ${f.cycles} cycles (${(f.points / raw.points).toFixed(3)}x raw), at most ${f.maxPerCycle} in one cycle, rollup cycles carried ${f.carried}, re-read ${f.reread}`;
  console.log(line('raw alone', raw));
  console.log(line('raw + 5m + 1h, re-read', before));
  console.log(line('raw + 5m + 1h, carried', after));
}
