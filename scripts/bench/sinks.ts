/**
 * The two sinks under test, each started fresh for every measured run (an empty store, no
 * compaction of an earlier run in the background), with what the bench needs of them: where the
 * ceiling writer posts, how promflux is pointed at them, and how many points they hold.
 */
import {
  startInfluxV1,
  startVictoriaMetrics,
  type InfluxV1Server,
  type StartedServer,
  type VictoriaMetricsServer,
} from '../lib/servers.js';
import { BENCH_METRIC, STEP_MS, type BenchRange } from './fixture.js';
import { findPid } from './proc-cpu.js';
import type { SinkTarget } from './promflux-run.js';

export type SinkKind = 'influxdb-v1' | 'victoria-metrics';
export const SINK_KINDS: readonly SinkKind[] = ['influxdb-v1', 'victoria-metrics'];
export const SINK_LABEL: Record<SinkKind, string> = {
  'influxdb-v1': 'InfluxDB 1.x /write',
  'victoria-metrics': 'VictoriaMetrics /api/v2/write',
};

const DB = 'bench';
const MEASUREMENT = 'health_metrics';

export interface BenchSink {
  kind: SinkKind;
  server: StartedServer;
  pid: number | undefined;
  /** The write URL the ceiling writer posts to (same endpoint and parameters as promflux). */
  writeUrl(precision: string): URL;
  writeHeaders: Record<string, string>;
  target: SinkTarget;
  /** Points of the benchmark metric stored in `range` (VictoriaMetrics is flushed first). */
  countPoints(range: BenchRange): Promise<number>;
  stop(): Promise<void>;
}

export async function startSink(kind: SinkKind): Promise<BenchSink> {
  if (kind === 'influxdb-v1') {
    const influx = await startInfluxV1();
    await influx.createDatabase(DB);
    return influxSink(influx);
  }
  return vmSink(await startVictoriaMetrics());
}

function influxSink(influx: InfluxV1Server): BenchSink {
  return {
    kind: 'influxdb-v1',
    server: influx,
    pid: findPid(influx.dataDir),
    writeUrl(precision) {
      const url = new URL('/write', influx.url);
      url.searchParams.set('db', DB);
      url.searchParams.set('rp', 'autogen');
      url.searchParams.set('precision', precision);
      return url;
    },
    writeHeaders: {},
    target: { kind: 'influxdb-v1', url: influx.url, db: DB },
    async countPoints() {
      const res = await influx.query(`SELECT count("value") FROM "${MEASUREMENT}"`, DB);
      const value = res.results[0]?.series?.[0]?.values?.[0]?.[1];
      return typeof value === 'number' ? value : 0;
    },
    stop: () => influx.stop(),
  };
}

function vmSink(vm: VictoriaMetricsServer): BenchSink {
  return {
    kind: 'victoria-metrics',
    server: vm,
    pid: findPid(vm.dataDir),
    writeUrl(precision) {
      const url = new URL('/api/v2/write', vm.url);
      url.searchParams.set('org', 'bench');
      url.searchParams.set('bucket', 'bench');
      url.searchParams.set('precision', precision);
      return url;
    },
    writeHeaders: { Authorization: 'Token vm-ignores-it' },
    target: { kind: 'victoria-metrics', url: vm.url },
    async countPoints(range) {
      await vm.flush();
      // count_over_time looks back over (time - window, time]: one window over the whole range.
      const windowSeconds = (range.endMs - range.startMs + STEP_MS) / 1000 + 1;
      const form = new URLSearchParams({
        query: `sum(count_over_time(${MEASUREMENT}_value{metric_name="${BENCH_METRIC}"}[${windowSeconds}s]))`,
        time: String(range.endMs / 1000),
      });
      const res = await fetch(`${vm.url}/api/v1/query`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form,
        signal: AbortSignal.timeout(120_000),
      });
      const text = await res.text();
      if (!res.ok)
        throw new Error(`VictoriaMetrics /api/v1/query answered ${res.status}: ${text.trim()}`);
      const body = JSON.parse(text) as { data?: { result?: { value?: [number, string] }[] } };
      const value = body.data?.result?.[0]?.value?.[1];
      return value === undefined ? 0 : Number(value);
    },
    stop: () => vm.stop(),
  };
}
