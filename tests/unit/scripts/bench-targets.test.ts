import { describe, expect, it } from 'vitest';
import { pinLayout } from '../../../scripts/bench/pinning.js';
import { e2ePeaks, evaluateTargets } from '../../../scripts/bench/report.js';
import type {
  BenchResults,
  E2eResult,
  RunResult,
  SinkRounds,
} from '../../../scripts/bench/results.js';

function rounds(ratio: number): SinkRounds {
  return {
    ceiling: [],
    e2e: [],
    ceiling_points_per_second: 100_000,
    e2e_points_per_second: 100_000 * ratio,
    ratio,
    ratios_per_round: [ratio],
  };
}

function results(run: Partial<RunResult>, extra: Partial<BenchResults> = {}): BenchResults {
  return {
    version: 1,
    started_at: '',
    size: 'large',
    rounds: 1,
    machine: {} as BenchResults['machine'],
    source: { commit: '', dirty_src_files: [] },
    runs: [{ label: '10M', range: { samples: 10e6 }, sinks: {}, ...run } as RunResult],
    ...extra,
  };
}

const byName = (r: BenchResults, part: string) =>
  evaluateTargets(r).filter((t) => t.name.includes(part));

describe('bench targets (issue 17)', () => {
  it('judges the pinned ratio per sink at 0.95', () => {
    const r = results({
      pinned_sinks: { 'influxdb-v1': rounds(0.96), 'victoria-metrics': rounds(0.94) },
    });
    const pinned = byName(r, 'pinned e2e');
    expect(pinned.map((t) => [t.measured, t.ok])).toEqual([
      ['0.96', true],
      ['0.94', false],
    ]);
  });

  it('says why there is no pinned figure, as not held', () => {
    const r = results({}, { pinning: { unavailable: 'the machine has 1 core' } });
    const [t] = byName(r, 'pinned e2e');
    expect(t).toMatchObject({ measured: 'the machine has 1 core', ok: false });
  });

  it('measures promflux CPU above the I/O floor, start-up cancelled out', () => {
    const r = results(
      {},
      {
        marginal_cpu: {
          small_label: '1M',
          large_label: '10M',
          by_sink: { 'influxdb-v1': { cpu_seconds_per_million_samples: 0.6 } },
          dry_run_cpu_seconds_per_million_samples: 0.3,
        },
        io_floor: {
          run: '10M',
          fetch_cpu_seconds_per_million_samples: 0.15,
          by_sink: {
            'influxdb-v1': {
              post_cpu_seconds_per_million_samples: 0.2,
              floor_cpu_seconds_per_million_samples: 0.35,
              promflux_cpu_seconds_per_million_samples: 0.7,
            },
          },
        },
      },
    );
    const [t] = byName(r, 'above the I/O floor');
    expect(t).toMatchObject({ measured: '0.250', ok: true });
  });

  it('judges peak RSS on the highest end to end, pinned runs included', () => {
    const withPeaks = (...mb: number[]): SinkRounds => ({
      ...rounds(1),
      e2e: mb.map((max_rss_mb) => ({ process: { max_rss_mb } }) as E2eResult),
    });
    const r = results({
      sinks: { 'influxdb-v1': withPeaks(120), 'victoria-metrics': withPeaks(110) },
      pinned_sinks: { 'victoria-metrics': withPeaks(100, 151, 105) },
    });
    expect(e2ePeaks(r.runs[0]!, 'victoria-metrics')).toEqual([110, 100, 151, 105]);
    const [t] = byName(r, 'peak RSS (10M)');
    expect(t).toMatchObject({ measured: '151.0 MB', ok: false });
  });

  it('no longer judges the withdrawn unpinned ratio', () => {
    const r = results({ sinks: { 'influxdb-v1': rounds(0.5) } });
    expect(evaluateTargets(r).some((t) => /^e2e ÷ ceiling/.test(t.name))).toBe(false);
  });
});

describe('pinLayout', () => {
  it('needs two cores', () => {
    expect(pinLayout(1)).toEqual({
      unavailable: 'the machine has 1 core: pinning needs at least two',
    });
  });

  it('puts the sink alone on CPU 0', () => {
    expect(pinLayout(2)).toEqual({ sink: '0', rest: '1', all: '0-1' });
    expect(pinLayout(4)).toEqual({ sink: '0', rest: '1-3', all: '0-3' });
  });
});
