/**
 * `promflux run` as a child process over the health fixture, for the daemon tests against real
 * Prometheus and InfluxDB 1.x: its config, the child, and both ends' points in one comparable form.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import {
  freePort,
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import { blockTimestamps, blockValues } from '../../src/core/series.js';
import { prometheusRange } from './prometheus-range.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const FIXTURE_STEP_MS = 15_000;

/**
 * A real Prometheus holding the health fixture (two instances, the last hour) and a real
 * InfluxDB 1.x. The fixture runs 10 minutes into the future, so every query (rate() too) has data
 * at every moment of a daemon test; queries without data would be acknowledged with nothing
 * written.
 */
export async function startHealthServers(
  opts: { queryLogFile?: string } = {},
): Promise<[StartedServer, InfluxV1Server]> {
  const endMs = Math.floor(Date.now() / FIXTURE_STEP_MS) * FIXTURE_STEP_MS + 600_000;
  return Promise.all([
    startPrometheus({
      queryLogFile: opts.queryLogFile,
      openMetrics: generateHealthFixture({
        startMs: endMs - 3_600_000,
        endMs,
        intervalMs: FIXTURE_STEP_MS,
        instances: 2,
      }),
    }),
    startInfluxV1(),
  ]);
}

/** Query name → PromQL: one query keeping `__name__`, one that drops it. */
export const HEALTH_QUERIES: Record<string, string> = {
  availability: 'up',
  request_rate: 'rate(http_requests_total[1m])',
};

/**
 * A daemon config on a 1s step and interval, 1s timeouts and two quick attempts per request, so
 * that an outage shows within a few seconds.
 */
export function healthDaemonConfig(opts: {
  prometheusUrl: string;
  influxUrl: string;
  db: string;
  stateDir: string;
  statusPort: number;
}): string {
  const queries = Object.entries(HEALTH_QUERIES)
    .map(([name, query]) => `    - { name: ${name}, query: "${query}", step: 1s }`)
    .join('\n');
  return `extract:
  prometheus_url: "${opts.prometheusUrl}"
  timeout: 1s
  retry: { max_attempts: 2, initial_delay: 100ms, max_delay: 200ms }
  queries:
${queries}
load:
  influxdb:
    url: "${opts.influxUrl}"
    api: v1
    bucket: "${opts.db}/autogen"
    timeout: 1s
    retry: { max_attempts: 2, initial_delay: 100ms, max_delay: 200ms }
pipeline:
  interval_seconds: 1
  delay: 0s
  initial_lookback: 20s
  shutdown_grace: 10s
  log_level: info
  state_dir: "${opts.stateDir}"
server:
  listen: "127.0.0.1:${opts.statusPort}"
`;
}

/** One daemon test's own state directory, database, config file and status URL. */
export interface HealthDaemonRun {
  dir: string;
  db: string;
  config: string;
  statusUrl: string;
}

/**
 * Sets up a daemon run that reads nothing another run wrote: a fresh temporary directory (state
 * and config inside), the database `db` created, and a free status port.
 */
export async function prepareHealthDaemonRun(opts: {
  prometheus: StartedServer;
  influx: InfluxV1Server;
  db: string;
  dirPrefix: string;
}): Promise<HealthDaemonRun> {
  const dir = await mkdtemp(join(tmpdir(), opts.dirPrefix));
  await opts.influx.createDatabase(opts.db);
  const config = join(dir, 'promflux.yaml');
  const port = await freePort();
  await writeFile(
    config,
    healthDaemonConfig({
      prometheusUrl: opts.prometheus.url,
      influxUrl: opts.influx.url,
      db: opts.db,
      stateDir: join(dir, 'state'),
      statusPort: port,
    }),
  );
  return { dir, db: opts.db, config, statusUrl: `http://127.0.0.1:${port}` };
}

export interface DaemonChild {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
}

/** `promflux run --json` (the built CLI) with `config`, its output collected. */
export function startDaemon(cwd: string, config: string): DaemonChild {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/promflux.js'), 'run', '--json'], {
    cwd,
    env: { ...process.env, PROMFLUX_CONFIG: config },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { child, stdout: () => out, stderr: () => err };
}

/** The child's exit code, once it exited (null when a signal ended it). */
export async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

/** `instance|method|status|value@time` rows Prometheus answers on the 1s grid in [startMs, endMs]. */
export async function prometheusHealthPoints(
  prometheusUrl: string,
  query: string,
  startMs: number,
  endMs: number,
): Promise<string[]> {
  const rows: string[] = [];
  for (const s of await prometheusRange(prometheusUrl, query, { startMs, endMs, stepMs: 1000 })) {
    const id = `${s.labels.instance}|${s.labels.method ?? ''}|${s.labels.status ?? ''}`;
    const [ts, values] = [blockTimestamps(s), blockValues(s)];
    for (let i = 0; i < s.length; i++) {
      if (Number.isFinite(values[i]!)) rows.push(`${id}|${values[i]}@${ts[i]}`);
    }
  }
  return rows.sort();
}

/** The same rows from InfluxDB for one query's points, within `range` when given. */
export async function influxHealthPoints(
  influx: InfluxV1Server,
  db: string,
  metricType: string,
  range?: { startMs: number; endMs: number },
): Promise<string[]> {
  const within = range ? ` AND time >= ${range.startMs}ms AND time <= ${range.endMs}ms` : '';
  const res = await influx.query(
    `SELECT value, instance, "method", status FROM health_metrics WHERE metric_type = '${metricType}'${within}`,
    db,
    { epoch: 'ms' },
  );
  return (res.results[0]?.series?.[0]?.values ?? [])
    .map((row) => {
      const [time, value, instance, method, status] = row as [
        number,
        number,
        string,
        string | null,
        string | null,
      ];
      return `${instance}|${method ?? ''}|${status ?? ''}|${value}@${time}`;
    })
    .sort();
}

/** A state file's watermarks, by query name. */
export interface QueryWatermarks {
  queries: Record<string, { watermarkMs: number }>;
}

/**
 * The raw-tier watermarks of a state file (`load.influxdb.bucket` alone is one raw tier, `raw`),
 * by query name; entries of any other tier, or of another step, fail the test.
 */
export function rawTierWatermarks(text: string, stepMs = 1000): QueryWatermarks {
  const doc = JSON.parse(text) as QueryWatermarks;
  const queries: QueryWatermarks['queries'] = {};
  for (const [key, state] of Object.entries(doc.queries)) {
    const [query, ...rest] = JSON.parse(key) as [string, string, number, number];
    if (JSON.stringify(rest) !== JSON.stringify(['raw', stepMs, stepMs])) {
      throw new Error(`not a raw-tier state key of step ${stepMs} ms: ${key}`);
    }
    queries[query] = state;
  }
  return { queries };
}
