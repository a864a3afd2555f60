/** The shape of bench-results.json (and of what report.ts prints). */
import type { ExportBenchResult } from './export-bench.js';
import type { CeilingResult } from './ceiling.js';
import type { DecoderResult } from './decoder-bench.js';
import type { BenchRange, FixtureReport } from './fixture.js';
import type { ProfileSummary } from './profile.js';
import type { SinkKind } from './sinks.js';

export type Size = 'small' | 'large';

export interface MachineInfo {
  os: string;
  cpu_model: string;
  cpu_count: number;
  total_memory_gib: number;
  node_version: string;
  load_average_start: number[];
  load_average_end?: number[];
  servers: Record<string, string>;
}

/** promflux's own process, as measured by measure.mjs. */
export interface PromfluxProcess {
  wall_seconds: number;
  cpu_seconds_process: number;
  cpu_seconds_main: number;
  /** Whole-process CPU (startup included) per million samples. */
  cpu_seconds_per_million_samples: number;
  cpu_seconds_main_per_million_samples: number;
  /** CPU ÷ wall inside main(): near 1 means one core saturated (Node runs JS on one thread). */
  cpu_utilisation_main: number;
  max_rss_mb: number;
  /** Sampled every 50 ms: peak V8 heap in use, and peak Buffer/ArrayBuffer memory. */
  peak_heap_used_mb: number;
  peak_array_buffers_mb: number;
  chunks: number;
}

export interface E2eResult {
  samples: number;
  points: number;
  written: number;
  rejected: number;
  requests: number;
  retries: number;
  verified_points: number;
  /** promflux's own `duration_seconds` for the query. */
  seconds: number;
  points_per_second: number;
  process: PromfluxProcess;
  /** CPU seconds of the other processes during the run. */
  server_cpu_seconds: Record<string, number | null>;
}

export interface CeilingRun extends CeilingResult {
  verified_points: number;
  server_cpu_seconds: Record<string, number | null>;
}

export interface SinkRounds {
  ceiling: CeilingRun[];
  e2e: E2eResult[];
  /** Medians over the rounds. */
  ceiling_points_per_second: number;
  e2e_points_per_second: number;
  /** e2e ÷ ceiling (medians): target ≥ 0.85 for InfluxDB 1.x, ≥ 0.5 for VictoriaMetrics. */
  ratio: number;
  ratios_per_round: number[];
}

export interface RunResult {
  label: string;
  range: BenchRange & { series: number; chunk_points_per_series: number };
  source: {
    requests: number;
    bytes: number;
    seconds: number;
    samples_per_second: number;
    prometheus_cpu_seconds: number | null;
    /** The bench's own CPU for the fetch (node:http, bodies not decoded). */
    cpu_seconds: number;
  };
  dry_run: {
    lines: number;
    bytes: number;
    seconds: number;
    points_per_second: number;
    process: PromfluxProcess;
    prometheus_cpu_seconds: number | null;
  };
  sinks: Partial<Record<SinkKind, SinkRounds>>;
  /** The same, with the sink alone on one core and everything else on the others (pinning.ts). */
  pinned_sinks?: Partial<Record<SinkKind, SinkRounds>>;
}

export interface BenchResults {
  version: 1;
  started_at: string;
  finished_at?: string;
  total_seconds?: number;
  size: Size;
  rounds: number;
  machine: MachineInfo;
  /** What was measured: the commit and the uncommitted changes under src/ at the start. */
  source: { commit: string; dirty_src_files: string[] };
  /** Node's flags every measured promflux ran with: production's (scripts/lib/node-flags.ts). */
  node_flags?: string[];
  fixture?: FixtureReport;
  /** `promflux check-config`: module loading and config, no work (every run pays it). */
  startup?: { cpu_seconds_process: number; max_rss_mb: number };
  /** Where the pinned rounds ran, or why there are none. */
  pinning?: { sink_cpus: string; other_cpus: string } | { unavailable: string };
  runs: RunResult[];
  decoder?: DecoderResult & { source_run: string };
  /**
   * Per-sample CPU with the fixed cost (startup, config, connections) taken out:
   * (CPU of the larger run − CPU of the smaller) ÷ (its extra samples), per 1M samples.
   */
  marginal_cpu?: {
    small_label: string;
    large_label: string;
    by_sink: Partial<Record<SinkKind, { cpu_seconds_per_million_samples: number }>>;
    dry_run_cpu_seconds_per_million_samples: number;
  };
  /**
   * The I/O alone, per 1M samples of the largest run, in a Node process: fetching the bodies
   * with node:http, nothing decoded, plus posting the pre-rendered lines (the ceiling writer),
   * nothing encoded. Next to it promflux's whole-process CPU for the same work (medians).
   */
  io_floor?: {
    run: string;
    fetch_cpu_seconds_per_million_samples: number;
    by_sink: Partial<
      Record<
        SinkKind,
        {
          post_cpu_seconds_per_million_samples: number;
          floor_cpu_seconds_per_million_samples: number;
          promflux_cpu_seconds_per_million_samples: number;
        }
      >
    >;
  };
  /**
   * Where the CPU of the largest run went, per 1M points (medians over rounds): the ceiling run
   * (sink + writer) next to end to end (sink + promflux + Prometheus). While the machine's cores
   * are equally busy in both, e2e ÷ ceiling ≈ ceiling CPU ÷ e2e CPU per point.
   */
  cpu_budget?: {
    run: string;
    by_sink: Partial<
      Record<
        SinkKind,
        {
          ceiling: { sink: number; writer: number; total: number; cores_busy: number };
          e2e: {
            sink: number;
            promflux: number;
            prometheus: number;
            total: number;
            cores_busy: number;
          };
          ratio_from_cpu: number;
          ratio_measured: number;
        }
      >
    >;
  };
  /**
   * Pinned runs of the largest run (medians over rounds): what the core Prometheus and promflux
   * share allows, next to the pinned ceiling (cpu-split.ts `sharedCore`).
   */
  shared_core?: {
    run: string;
    by_sink: Partial<
      Record<
        SinkKind,
        {
          prometheus_cpu_seconds_per_million: number;
          promflux_cpu_seconds_per_million: number;
          /** 1M ÷ (Prometheus + promflux CPU s per 1M): that core fully busy. */
          cap_points_per_second: number;
          cap_of_ceiling: number;
          /** (Prometheus + promflux CPU) ÷ promflux's wall: how busy the shared core was. */
          core_busy: number;
          e2e_of_cap: number;
          /** promflux CPU s per 1M that would reach the target with the core fully busy. */
          promflux_cpu_for_target: number;
        }
      >
    >;
  };
  memory_flatness?: {
    small_label: string;
    large_label: string;
    /** Medians over every end to end into the sink at each size, unpinned and pinned. */
    by_sink: Partial<
      Record<SinkKind, { small_mb: number; large_mb: number; growth: number; runs?: number }>
    >;
  };
  profile?: ProfileSummary & { run: string; sink: SinkKind };
  /** Raw + two rollup tiers vs raw alone, whole-process CPU of dry runs (tier-cost.ts). */
  tier_cost?: TierCost;
  /** `promflux export` next to `--dry-run --summary` over the whole fixture. */
  export?: ExportBenchResult;
  targets?: { name: string; measured: string; target: string; ok: boolean }[];
}

export interface TierCost {
  run: string;
  rounds: number;
  raw_cpu_seconds: number[];
  raw_plus_rollups_cpu_seconds: number[];
  raw_cpu_seconds_median: number;
  raw_plus_rollups_cpu_seconds_median: number;
  /** raw + rollups ÷ raw alone (medians): target <= 1.25. */
  ratio: number;
  /** Peak RSS (VmHWM) of each round: the rollup runs' highest must stay within 150 MB. */
  raw_max_rss_mb: number[];
  raw_plus_rollups_max_rss_mb: number[];
  /** Windows each rollup tier wrote per run. */
  rollup_lines: { warm: number; cold: number };
  /** With `--profile`: one more run of each under `--cpu-prof` (not timed). */
  profiles?: Partial<Record<'raw' | 'raw+rollups', ProfileSummary>>;
}
