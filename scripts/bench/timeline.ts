/**
 * Where the sink waits on promflux, counted rather than timed: a backfill at log level debug into
 * a real sink, and from its log the time from process start to the first write, at how many chunk
 * boundaries no write was in flight when the next chunk was in hand, and how many times the write
 * window ran empty (each a moment the sink had nothing of ours to work on).
 * `npx tsx scripts/bench/timeline.ts [series] [points] [--sink influxdb-v1|victoria-metrics]
 * [--pin]` (after `npm run build`); `--pin` puts the sink alone on CPU 0 and the rest on the
 * others, as the bench's pinned runs do.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pin, pinLayout } from './pinning.js';
import { CpuMeter, findPid } from './proc-cpu.js';
import { runPromflux } from './promflux-run.js';
import { rangeOfPoints, startFixturePrometheus } from './fixture.js';
import { SINK_KINDS, startSink, type SinkKind } from './sinks.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    sink: { type: 'string', default: 'influxdb-v1' },
    pin: { type: 'boolean', default: false },
  },
});
const series = Number(positionals[0] ?? 500);
const points = Number(positionals[1] ?? 2000);
const kind = values.sink as SinkKind;
if (!SINK_KINDS.includes(kind)) throw new Error(`--sink must be one of ${SINK_KINDS.join(', ')}`);
const layout = values.pin ? pinLayout() : undefined;
if (layout && 'unavailable' in layout) throw new Error(`--pin: ${layout.unavailable}`);

const dir = await mkdtemp(join(os.tmpdir(), 'promflux-timeline-'));
const [{ prometheus }, sink] = await Promise.all([
  startFixturePrometheus({ series, points }, dir),
  startSink(kind),
]);
try {
  const prometheusPid = findPid(prometheus.dataDir);
  if (layout) {
    pin(sink.pid, layout.sink);
    pin(prometheusPid, layout.rest);
    pin(process.pid, layout.rest);
  }
  const range = rangeOfPoints({ series, points }, points);
  const meter = new CpuMeter({ sink: sink.pid, prometheus: prometheusPid });
  meter.start();
  const run = await runPromflux({
    dir,
    name: 'timeline',
    prometheusUrl: prometheus.url,
    sink: sink.target,
    range,
    logLevel: 'debug',
  });
  const servers = meter.stop();
  const lines = run.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map(
      (l) =>
        JSON.parse(l) as {
          msg: string;
          uptimeMs?: number;
          writesInFlight?: number;
          windowEmptied?: number;
          windowIdleMs?: number;
          sinceRunStartMs?: number;
        },
    );
  if (process.env.TIMELINE_ALL)
    for (const l of lines.slice(0, 12)) console.log(JSON.stringify(l).slice(0, 200));
  const chunks = lines.filter((l) => l.msg === 'Chunk decoded.');
  const first = lines.find((l) => l.msg === 'First write.');
  const idle = chunks.slice(1).filter((c) => c.writesInFlight === 0).length;
  const u = run.usage;
  const cpu = u.cpu_user_seconds_main + u.cpu_system_seconds_main;
  console.log(
    `${series} series x ${points} points into ${kind}${layout ? ', pinned' : ''} ` +
      `(load average ${os.loadavg()[0]!.toFixed(2)}): ` +
      `${Math.round(range.samples / run.summary.duration_seconds)} points/s, ` +
      `CPU/wall: promflux ${(cpu / u.wall_seconds_main).toFixed(2)}, ` +
      `sink ${((servers.sink ?? NaN) / u.wall_seconds_main).toFixed(2)}, ` +
      `Prometheus ${((servers.prometheus ?? NaN) / u.wall_seconds_main).toFixed(2)}; ` +
      `first write at ${first?.uptimeMs} ms after process start ` +
      `(${first?.sinceRunStartMs} ms after the query run started); ` +
      `first chunk in hand at ${chunks[0]?.uptimeMs} ms; ${chunks.length} chunks; ` +
      `at ${idle} of ${Math.max(0, chunks.length - 1)} chunk boundaries no write was in flight ` +
      `(writes in flight: ${chunks.map((c) => c.writesInFlight).join(',')}); ` +
      `the write window ran empty ${chunks.at(-1)?.windowEmptied ?? 0} times before the last chunk, ` +
      `for ${chunks.at(-1)?.windowIdleMs ?? 0} ms in all ` +
      `(from the first write to the last chunk in hand: ${(chunks.at(-1)?.uptimeMs ?? 0) - (first?.uptimeMs ?? 0)} ms)`,
  );
} finally {
  await Promise.allSettled([prometheus.stop(), sink.stop()]);
  await rm(dir, { recursive: true, force: true });
}
