/**
 * What the rollup tiers cost: the same `promflux backfill --dry-run --summary` over the largest
 * run, with the raw tier alone and with raw + warm (5m) + cold (1h), alternating, in separate
 * processes. Every line of every tier is encoded (none is printed or sent), so the difference is
 * the rollups' own CPU, from the one extraction both runs make. Target: at most 1.25×.
 */
import type { ChildProcess } from 'node:child_process';
import { median } from './cpu-split.js';
import { STEP_MS, type BenchRange } from './fixture.js';
import { runPromflux, type BenchTiers, type PromfluxRun } from './promflux-run.js';
import type { TierCost } from './results.js';

export const TIER_COST_TARGET = 1.25;

/** Whole windows of `resolutionMs` whose every grid point lies in the inclusive range. */
function wholeWindows(range: BenchRange, resolutionMs: number): number {
  const from = Math.ceil(range.startMs / resolutionMs) * resolutionMs;
  const to = Math.floor((range.endMs + STEP_MS) / resolutionMs) * resolutionMs;
  return Math.max(0, (to - from) / resolutionMs);
}

export async function measureTierCost(opts: {
  dir: string;
  prometheusUrl: string;
  label: string;
  range: BenchRange;
  series: number;
  rounds: number;
  onSpawn?: (child: ChildProcess) => void;
}): Promise<TierCost> {
  const cpu: Record<BenchTiers, number[]> = { raw: [], 'raw+rollups': [] };
  const expected: Record<string, number> = {
    hot: opts.range.samples,
    warm: opts.series * wholeWindows(opts.range, 300_000),
    cold: opts.series * wholeWindows(opts.range, 3_600_000),
  };
  for (let round = 0; round < opts.rounds; round++) {
    // Alternating which goes first spreads any drift of the machine over both.
    const order: BenchTiers[] = round % 2 === 0 ? ['raw', 'raw+rollups'] : ['raw+rollups', 'raw'];
    for (const tiers of order) {
      const run = await runPromflux({
        dir: opts.dir,
        name: `tiers-${tiers === 'raw' ? 'raw' : 'rollups'}-${round}`,
        prometheusUrl: opts.prometheusUrl,
        sink: undefined,
        range: opts.range,
        summaryTiers: tiers,
        onSpawn: opts.onSpawn,
      });
      verify(run, tiers, expected);
      cpu[tiers].push(run.usage.cpu_user_seconds_process + run.usage.cpu_system_seconds_process);
    }
  }
  const raw = median(cpu.raw);
  const tiered = median(cpu['raw+rollups']);
  return {
    run: opts.label,
    rounds: opts.rounds,
    raw_cpu_seconds: cpu.raw,
    raw_plus_rollups_cpu_seconds: cpu['raw+rollups'],
    raw_cpu_seconds_median: raw,
    raw_plus_rollups_cpu_seconds_median: tiered,
    ratio: tiered / raw,
    rollup_lines: { warm: expected['warm']!, cold: expected['cold']! },
  };
}

/** Each tier wrote exactly what it should: the bench measures complete work, not a shortcut. */
function verify(run: PromfluxRun, tiers: BenchTiers, expected: Record<string, number>): void {
  const names = tiers === 'raw' ? ['hot'] : ['hot', 'warm', 'cold'];
  const got = run.summary.tiers ?? {};
  for (const name of names) {
    if (got[name]?.written !== expected[name]) {
      throw new Error(
        `tier cost (${tiers}): tier ${name} wrote ${got[name]?.written}, expected ${expected[name]}`,
      );
    }
  }
}
