/**
 * Where the CPU of a bench run went, derived from its measurements (pure functions): promflux
 * next to what the I/O alone costs a Node process, and every process's CPU per point in the
 * ceiling and end-to-end runs, which is what sets their ratio on a machine whose cores are busy.
 */
import type { BenchResults, RunResult } from './results.js';
import { SINK_KINDS } from './sinks.js';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function ioFloor(run: RunResult): NonNullable<BenchResults['io_floor']> {
  const millions = run.range.samples / 1e6;
  const fetch = run.source.cpu_seconds / millions;
  const floor: NonNullable<BenchResults['io_floor']> = {
    run: run.label,
    fetch_cpu_seconds_per_million_samples: fetch,
    by_sink: {},
  };
  for (const kind of SINK_KINDS) {
    const s = run.sinks[kind];
    if (!s) continue;
    const post = median(s.ceiling.map((c) => c.cpu_seconds)) / millions;
    floor.by_sink[kind] = {
      post_cpu_seconds_per_million_samples: post,
      floor_cpu_seconds_per_million_samples: fetch + post,
      promflux_cpu_seconds_per_million_samples: median(
        s.e2e.map((e) => e.process.cpu_seconds_per_million_samples),
      ),
    };
  }
  return floor;
}

export function cpuBudget(run: RunResult): NonNullable<BenchResults['cpu_budget']> {
  const perMillion = (seconds: number | null | undefined): number =>
    (seconds ?? NaN) / (run.range.samples / 1e6);
  const budget: NonNullable<BenchResults['cpu_budget']> = { run: run.label, by_sink: {} };
  for (const kind of SINK_KINDS) {
    const s = run.sinks[kind];
    if (!s) continue;
    const cSink = median(s.ceiling.map((c) => perMillion(c.server_cpu_seconds[kind])));
    const writer = median(s.ceiling.map((c) => perMillion(c.cpu_seconds)));
    const eSink = median(s.e2e.map((e) => perMillion(e.server_cpu_seconds[kind])));
    const promflux = median(s.e2e.map((e) => perMillion(e.process.cpu_seconds_process)));
    const prometheus = median(s.e2e.map((e) => perMillion(e.server_cpu_seconds.prometheus)));
    const ceilingTotal = cSink + writer;
    const e2eTotal = eSink + promflux + prometheus;
    budget.by_sink[kind] = {
      ceiling: {
        sink: cSink,
        writer,
        total: ceilingTotal,
        cores_busy: (ceilingTotal * s.ceiling_points_per_second) / 1e6,
      },
      e2e: {
        sink: eSink,
        promflux,
        prometheus,
        total: e2eTotal,
        cores_busy: (e2eTotal * s.e2e_points_per_second) / 1e6,
      },
      ratio_from_cpu: ceilingTotal / e2eTotal,
      ratio_measured: s.ratio,
    };
  }
  return budget;
}

/** Issue 17: pinned end to end at least this share of the pinned ceiling. */
export const PINNED_TARGET = 0.95;

/**
 * Pinned, the sink has a core to itself and Prometheus, promflux and the bench share the other:
 * that core carries at most 1M ÷ (Prometheus + promflux CPU s per 1M) points/s, however well
 * promflux keeps it busy. Next to the pinned ceiling (the sink alone, fed pre-rendered lines) this
 * is the highest pinned ratio the machine allows, and what promflux's CPU would have to be for 0.95.
 */
export function sharedCore(run: RunResult): NonNullable<BenchResults['shared_core']> | undefined {
  if (!run.pinned_sinks) return undefined;
  const millions = run.range.samples / 1e6;
  const out: NonNullable<BenchResults['shared_core']> = { run: run.label, by_sink: {} };
  for (const kind of SINK_KINDS) {
    const s = run.pinned_sinks[kind];
    if (!s || s.e2e.length === 0) continue;
    const prometheus = median(
      s.e2e.map((e) => (e.server_cpu_seconds.prometheus ?? NaN) / millions),
    );
    const promflux = median(s.e2e.map((e) => e.process.cpu_seconds_per_million_samples));
    const busy = median(
      s.e2e.map(
        (e) =>
          ((e.server_cpu_seconds.prometheus ?? NaN) + e.process.cpu_seconds_process) /
          e.process.wall_seconds,
      ),
    );
    const cap = 1e6 / (prometheus + promflux);
    out.by_sink[kind] = {
      prometheus_cpu_seconds_per_million: prometheus,
      promflux_cpu_seconds_per_million: promflux,
      cap_points_per_second: cap,
      cap_of_ceiling: cap / s.ceiling_points_per_second,
      core_busy: busy,
      e2e_of_cap: s.e2e_points_per_second / cap,
      promflux_cpu_for_target: 1e6 / (PINNED_TARGET * s.ceiling_points_per_second) - prometheus,
    };
  }
  return out;
}
