import { describe, expect, it } from 'vitest';
import { cpuBudget, ioFloor, median, sharedCore } from '../../../scripts/bench/cpu-split.js';
import type {
  CeilingRun,
  E2eResult,
  RunResult,
  SinkRounds,
} from '../../../scripts/bench/results.js';

const SAMPLES = 10e6;

function ceiling(pointsPerSecond: number, writerCpu: number, sinkCpu: number): CeilingRun {
  return {
    lines: SAMPLES,
    bytes: 0,
    requests: 0,
    seconds: SAMPLES / pointsPerSecond,
    points_per_second: pointsPerSecond,
    cpu_seconds: writerCpu,
    verified_points: SAMPLES,
    server_cpu_seconds: { 'influxdb-v1': sinkCpu, prometheus: 0 },
  };
}

function e2e(
  pointsPerSecond: number,
  promfluxCpu: number,
  sinkCpu: number,
  promCpu: number,
  wallSeconds = SAMPLES / pointsPerSecond,
) {
  return {
    points_per_second: pointsPerSecond,
    process: {
      wall_seconds: wallSeconds,
      cpu_seconds_process: promfluxCpu,
      cpu_seconds_per_million_samples: promfluxCpu / 10,
    },
    server_cpu_seconds: { 'influxdb-v1': sinkCpu, prometheus: promCpu },
  } as unknown as E2eResult;
}

function run(): RunResult {
  const rounds: SinkRounds = {
    // Medians of three rounds: the middle values are the ones that count.
    ceiling: [ceiling(400_000, 1.7, 44.6), ceiling(390_000, 9, 99), ceiling(410_000, 0.1, 1)],
    e2e: [e2e(320_000, 7.6, 45.8, 4.4), e2e(310_000, 20, 90, 9), e2e(330_000, 1, 1, 1)],
    ceiling_points_per_second: 400_000,
    e2e_points_per_second: 320_000,
    ratio: 0.8,
    ratios_per_round: [0.8, 0.79, 0.8],
  };
  return {
    label: '10M',
    range: {
      startMs: 0,
      endMs: 0,
      points: 5000,
      samples: SAMPLES,
      series: 2000,
      chunk_points_per_series: 125,
    },
    source: {
      requests: 40,
      bytes: 0,
      seconds: 2.6,
      samples_per_second: 0,
      prometheus_cpu_seconds: 3.8,
      cpu_seconds: 1.2,
    },
    dry_run: {} as RunResult['dry_run'],
    sinks: { 'influxdb-v1': rounds },
  };
}

describe('bench CPU split', () => {
  it('takes medians', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });

  it('puts promflux next to the CPU of fetching and posting alone, per 1M samples', () => {
    const floor = ioFloor(run());
    expect(floor.fetch_cpu_seconds_per_million_samples).toBeCloseTo(0.12);
    const influx = floor.by_sink['influxdb-v1']!;
    expect(influx.post_cpu_seconds_per_million_samples).toBeCloseTo(0.17);
    expect(influx.floor_cpu_seconds_per_million_samples).toBeCloseTo(0.29);
    expect(influx.promflux_cpu_seconds_per_million_samples).toBeCloseTo(0.76);
    expect(floor.by_sink['victoria-metrics']).toBeUndefined();
  });

  it('splits CPU per 1M points between the processes, and derives the ratio from it', () => {
    const b = cpuBudget(run()).by_sink['influxdb-v1']!;
    expect(b.ceiling.sink).toBeCloseTo(4.46);
    expect(b.ceiling.writer).toBeCloseTo(0.17);
    expect(b.ceiling.total).toBeCloseTo(4.63);
    expect(b.ceiling.cores_busy).toBeCloseTo(4.63 * 0.4);
    expect(b.e2e).toMatchObject({ total: expect.closeTo(4.58 + 0.76 + 0.44, 6) as number });
    expect(b.e2e.cores_busy).toBeCloseTo(5.78 * 0.32);
    expect(b.ratio_from_cpu).toBeCloseTo(4.63 / 5.78);
    expect(b.ratio_measured).toBe(0.8);
  });

  it('caps the pinned end to end at what the core Prometheus and promflux share can carry', () => {
    expect(sharedCore(run())).toBeUndefined();
    const vm: SinkRounds = {
      ceiling: [],
      // Medians: Prometheus 2.0 and promflux 3.0 CPU s over 10M; busy (2 + 3) / 6.25 s.
      e2e: [
        e2e(1_600_000, 3.0, 5, 2.0, 6.25),
        e2e(1_500_000, 3.3, 5, 2.2, 5),
        e2e(1_700_000, 2.5, 5, 1.5, 10),
      ],
      ceiling_points_per_second: 2_500_000,
      e2e_points_per_second: 1_600_000,
      ratio: 0.64,
      ratios_per_round: [0.64],
    };
    const c = sharedCore({ ...run(), pinned_sinks: { 'victoria-metrics': vm } })!;
    expect(c.run).toBe('10M');
    const s = c.by_sink['victoria-metrics']!;
    expect(s.prometheus_cpu_seconds_per_million).toBeCloseTo(0.2);
    expect(s.promflux_cpu_seconds_per_million).toBeCloseTo(0.3);
    expect(s.cap_points_per_second).toBeCloseTo(2_000_000);
    expect(s.cap_of_ceiling).toBeCloseTo(0.8);
    expect(s.core_busy).toBeCloseTo(0.8);
    expect(s.e2e_of_cap).toBeCloseTo(0.8);
    // 0.95 × 2.5M points/s leaves 1 / 2.375M − 0.2 s per 1M for promflux.
    expect(s.promflux_cpu_for_target).toBeCloseTo(1 / 2.375 - 0.2);
    expect(c.by_sink['influxdb-v1']).toBeUndefined();
  });
});
