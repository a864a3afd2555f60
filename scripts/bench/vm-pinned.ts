/**
 * The pinned VictoriaMetrics measurement alone, repeated: the sink alone on CPU 0, Prometheus,
 * the ceiling writer and promflux on the other core; per round the ceiling and `promflux backfill`
 * end to end, with every process's CPU s per 1M points and how busy the shared core was.
 * `npx tsx scripts/bench/vm-pinned.ts [points per series] [rounds] [--sink influxdb-v1]
 * [--profile DIR]` (after `npm run build`); 2000 series, as the bench's large fixture. "CPU1 busy"
 * is (promflux + Prometheus CPU) ÷ end-to-end wall: only meaningful on an otherwise quiet machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadLineBatches, postBatches } from './ceiling.js';
import { rangeOfPoints, startFixturePrometheus } from './fixture.js';
import { pin, pinLayout } from './pinning.js';
import { CpuMeter, findPid } from './proc-cpu.js';
import { runPromflux } from './promflux-run.js';
import { startSink } from './sinks.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { profile: { type: 'string' }, sink: { type: 'string', default: 'victoria-metrics' } },
});
const points = Number(positionals[0] ?? 2000);
const rounds = Number(positionals[1] ?? 2);
const kind = values.sink as 'victoria-metrics' | 'influxdb-v1';
const shape = { series: 2000, points };
const layout = pinLayout();
if ('unavailable' in layout) throw new Error(layout.unavailable);
const dir = await mkdtemp(join(os.tmpdir(), 'promflux-vmpin-'));
const { prometheus } = await startFixturePrometheus(shape, dir);
const range = rangeOfPoints(shape, points);
const m = range.samples / 1e6;
const f = (x: number | null | undefined): string => ((x ?? NaN) / m).toFixed(3);
try {
  const prometheusPid = findPid(prometheus.dataDir);
  pin(process.pid, layout.rest);
  pin(prometheusPid, layout.rest);
  const linesPath = join(dir, 'lines.lp');
  await runPromflux({
    dir,
    name: 'dry',
    prometheusUrl: prometheus.url,
    sink: undefined,
    range,
    dryRunOutput: linesPath,
  });
  const lines = await loadLineBatches(linesPath);
  await rm(linesPath);
  for (let round = 1; round <= rounds; round++) {
    const load = os.loadavg()[0]!.toFixed(2);
    let sink = await startSink(kind);
    pin(sink.pid, layout.sink);
    let meter = new CpuMeter({ sink: sink.pid, prometheus: prometheusPid });
    meter.start();
    const c = await postBatches(sink.writeUrl(lines.precision), lines.batches, {
      lines: lines.lines,
      headers: sink.writeHeaders,
    });
    const cc = meter.stop();
    await sink.stop();
    sink = await startSink(kind);
    pin(sink.pid, layout.sink);
    meter = new CpuMeter({ sink: sink.pid, prometheus: prometheusPid });
    meter.start();
    const run = await runPromflux({
      dir,
      name: `e2e-${round}`,
      prometheusUrl: prometheus.url,
      sink: sink.target,
      range,
      cpuProfileDir: values.profile,
    });
    const ec = meter.stop();
    await sink.stop();
    const u = run.usage;
    const pf = u.cpu_user_seconds_process + u.cpu_system_seconds_process;
    const e2eRate = range.samples / run.summary.duration_seconds;
    const cpu1 = (pf + (ec.prometheus ?? 0)) / u.wall_seconds_main;
    console.log(
      `round ${round} (load ${load}): ceiling ${Math.round(c.points_per_second)}/s ` +
        `[sink ${f(cc.sink)} writer ${f(c.cpu_seconds)}] e2e ${Math.round(e2eRate)}/s ratio ` +
        `${(e2eRate / c.points_per_second).toFixed(3)} [sink ${f(ec.sink)} prom ${f(ec.prometheus)} ` +
        `promflux ${f(pf)} (main ${f(u.cpu_user_seconds_main + u.cpu_system_seconds_main)})] ` +
        `CPU1 busy ${cpu1.toFixed(2)} promflux user ${f(u.cpu_user_seconds_process)} sys ${f(u.cpu_system_seconds_process)} rss ${(u.max_rss_kb / 1024).toFixed(1)} MB`,
    );
  }
} finally {
  await prometheus.stop();
  await rm(dir, { recursive: true, force: true });
}
