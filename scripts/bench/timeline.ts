/**
 * Where the sink waits on promflux, counted rather than timed: a backfill into real InfluxDB 1.x
 * at log level debug, and from its log the time from process start to the first write, and at
 * how many chunk boundaries no write was in flight while the next chunk was read and decoded.
 * `npx tsx scripts/bench/timeline.ts [series] [points]` (after `npm run build`).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startInfluxV1 } from '../lib/servers.js';
import { benchConfig } from './promflux-run.js';
import { rangeOfPoints, startFixturePrometheus } from './fixture.js';

const series = Number(process.argv[2] ?? 500);
const points = Number(process.argv[3] ?? 2000);
const dir = await mkdtemp(join(tmpdir(), 'promflux-timeline-'));
const [{ prometheus }, influx] = await Promise.all([
  startFixturePrometheus({ series, points }, dir),
  startInfluxV1(),
]);
try {
  await influx.createDatabase('bench');
  const config = join(dir, 'promflux.yaml');
  const yaml = benchConfig(
    prometheus.url,
    { kind: 'influxdb-v1', url: influx.url, db: 'bench' },
    join(dir, 'state'),
  ).replace('log_level: warn', 'log_level: debug');
  await writeFile(config, yaml);
  const range = rangeOfPoints({ series, points }, points);
  const { stderr } = await promisify(execFile)(
    process.execPath,
    [
      resolve(import.meta.dirname, '../../bin/promflux.js'),
      'backfill',
      '-c',
      config,
      '--from',
      new Date(range.startMs).toISOString(),
      '--to',
      new Date(range.endMs).toISOString(),
      '--no-progress',
    ],
    { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, PROMFLUX_CONFIG: '' } },
  );
  const lines = stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; uptimeMs?: number; writesInFlight?: number });
  if (process.env.TIMELINE_ALL)
    for (const l of lines.slice(0, 12)) console.log(JSON.stringify(l).slice(0, 200));
  const chunks = lines.filter((l) => l.msg === 'Chunk decoded.');
  const first = lines.find((l) => l.msg === 'First write.');
  const idle = chunks.slice(1).filter((c) => c.writesInFlight === 0).length;
  console.log(
    `${series} series x ${points} points: first write at ${first?.uptimeMs} ms after process start; ` +
      `first chunk decoded at ${chunks[0]?.uptimeMs} ms; ${chunks.length} chunks; ` +
      `at ${idle} of ${Math.max(0, chunks.length - 1)} chunk boundaries no write was in flight ` +
      `(writes in flight: ${chunks.map((c) => c.writesInFlight).join(',')})`,
  );
} finally {
  await Promise.allSettled([prometheus.stop(), influx.stop()]);
  await rm(dir, { recursive: true, force: true });
}
