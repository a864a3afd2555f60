/**
 * What the rollup tiers cost: the same `promflux backfill --dry-run --summary` over the largest
 * run, with the raw tier alone and with raw + warm (5m) + cold (1h), alternating, in separate
 * processes. Every line of every tier is encoded (none is printed or sent), so the difference is
 * the rollups' own CPU, from the one extraction both runs make. Targets: at most 1.25× the CPU,
 * and the peak RSS (VmHWM) with the rollup tiers within the 150 MB bound.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { median } from './cpu-split.js';
import { STEP_MS, type BenchRange } from './fixture.js';
import { summariseProfiles } from './profile.js';
import { runPromflux, type BenchTiers, type PromfluxRun } from './promflux-run.js';
import type { TierCost } from './results.js';

export const TIER_COST_TARGET = 1.25;
export const TIER_RSS_TARGET_MB = 150;

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
  /** Also profile one more run of each (`--cpu-prof`, not timed) and summarise where CPU went. */
  profile?: boolean;
  onSpawn?: (child: ChildProcess) => void;
}): Promise<TierCost> {
  const cpu: Record<BenchTiers, number[]> = { raw: [], 'raw+rollups': [] };
  const rss: Record<BenchTiers, number[]> = { raw: [], 'raw+rollups': [] };
  const expected: Record<string, number> = {
    hot: opts.range.samples,
    warm: opts.series * wholeWindows(opts.range, 300_000),
    cold: opts.series * wholeWindows(opts.range, 3_600_000),
  };
  const dryRun = (tiers: BenchTiers, name: string, cpuProfileDir?: string) =>
    runPromflux({
      dir: opts.dir,
      name,
      prometheusUrl: opts.prometheusUrl,
      sink: undefined,
      range: opts.range,
      summaryTiers: tiers,
      ...(cpuProfileDir !== undefined && { cpuProfileDir }),
      onSpawn: opts.onSpawn,
    });
  const short = (tiers: BenchTiers) => (tiers === 'raw' ? 'raw' : 'rollups');
  for (let round = 0; round < opts.rounds; round++) {
    // Alternating which goes first spreads any drift of the machine over both.
    const order: BenchTiers[] = round % 2 === 0 ? ['raw', 'raw+rollups'] : ['raw+rollups', 'raw'];
    for (const tiers of order) {
      const run = await dryRun(tiers, `tiers-${short(tiers)}-${round}`);
      verify(run, tiers, expected);
      cpu[tiers].push(run.usage.cpu_user_seconds_process + run.usage.cpu_system_seconds_process);
      rss[tiers].push(run.usage.max_rss_kb / 1024);
    }
  }
  const raw = median(cpu.raw);
  const tiered = median(cpu['raw+rollups']);
  const result: TierCost = {
    run: opts.label,
    rounds: opts.rounds,
    raw_cpu_seconds: cpu.raw,
    raw_plus_rollups_cpu_seconds: cpu['raw+rollups'],
    raw_cpu_seconds_median: raw,
    raw_plus_rollups_cpu_seconds_median: tiered,
    ratio: tiered / raw,
    raw_max_rss_mb: rss.raw,
    raw_plus_rollups_max_rss_mb: rss['raw+rollups'],
    rollup_lines: { warm: expected['warm']!, cold: expected['cold']! },
  };
  if (opts.profile) {
    const profiles: NonNullable<TierCost['profiles']> = {};
    for (const tiers of ['raw', 'raw+rollups'] as const) {
      const profileDir = join(opts.dir, `tiers-profile-${short(tiers)}`);
      verify(await dryRun(tiers, `tiers-profile-${short(tiers)}`, profileDir), tiers, expected);
      const summary = await summariseProfiles(profileDir, 25);
      if (summary) profiles[tiers] = summary;
    }
    result.profiles = profiles;
  }
  return result;
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

/** The highest peak RSS of the runs with the rollup tiers. */
export function tierPeakRssMb(t: TierCost): number {
  return Math.max(...t.raw_plus_rollups_max_rss_mb);
}

export function tierTargets(
  t: TierCost,
): { name: string; measured: string; target: string; ok: boolean }[] {
  const peak = tierPeakRssMb(t);
  return [
    {
      name: `raw + 2 rollup tiers ÷ raw alone, CPU (${t.run}, dry run)`,
      measured: `${t.ratio.toFixed(2)}×`,
      target: `<= ${TIER_COST_TARGET}×`,
      ok: t.ratio <= TIER_COST_TARGET,
    },
    {
      name: `peak RSS with rollup tiers (${t.run})`,
      measured: `${peak.toFixed(1)} MB`,
      target: `<= ${TIER_RSS_TARGET_MB} MB`,
      ok: peak <= TIER_RSS_TARGET_MB,
    },
  ];
}
