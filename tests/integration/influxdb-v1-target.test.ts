/**
 * One rule for an InfluxDB 1.x target (`database` or `database/retention_policy`, no blank part,
 * no second `/`) on every path that reads one, through the built CLI: `check-config` with
 * `api: v1`, and with `api: auto` against the real InfluxDB 1.6.7 a run (`--once`), `provision`,
 * `export --source influxdb` and `verify`. Each refuses a bad target with the same message and exit 2,
 * before anything is written.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import {
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import { runPromflux } from '../support/promflux-cli.js';

const STEP_MS = 15_000;
const FIXTURE_END = Math.floor(Date.now() / STEP_MS) * STEP_MS;
const REFUSED = ['db/rp/x', '/rp', 'db/', 'db/ '];
const ACCEPTED = ['db', 'db/rp'];

const message = (bucket: string): string =>
  `"${bucket}" is not a valid InfluxDB 1.x target: use "database" or "database/retention_policy".`;

describe('an InfluxDB 1.x target is read by one rule on every path', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let dir: string;
  let configs = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-v1-target-'));
    [prometheus, influx] = await Promise.all([
      startPrometheus({
        openMetrics: generateHealthFixture({
          startMs: FIXTURE_END - 3_600_000,
          endMs: FIXTURE_END,
          intervalMs: STEP_MS,
          instances: 1,
        }),
      }),
      startInfluxV1(),
    ]);
    await influx.createDatabase('db');
    await influx.query('CREATE RETENTION POLICY "rp" ON "db" DURATION 1d REPLICATION 1');
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function config(api: 'v1' | 'auto', bucket: string): Promise<string> {
    const path = join(dir, `config-${++configs}.yaml`);
    await writeFile(
      path,
      `extract:
  prometheus_url: "${prometheus.url}"
  queries:
    - { name: availability, query: "up", step: 15s }
load:
  influxdb:
    url: "${influx.url}"
    api: ${api}
    bucket: ${JSON.stringify(bucket)}
    timeout: 5s
  dead_letter_path: "${join(dir, `dead-${configs}.lp`)}"
pipeline:
  initial_lookback: 10m
  delay: 0s
  log_level: warn
  state_dir: "${join(dir, `state-${configs}`)}"
server:
  listen: false
`,
    );
    return path;
  }

  const cli = (args: string[]) => runPromflux(args, { cwd: dir, timeoutMs: 120_000 });
  const range = [
    '--from',
    new Date(FIXTURE_END - 1_800_000).toISOString(),
    '--to',
    new Date(FIXTURE_END).toISOString(),
  ];
  const exportArgs = (cfg: string, out: string): string[] => [
    'export',
    '-c',
    cfg,
    '--source',
    'influxdb',
    ...range,
    '--out',
    out,
  ];

  async function points(bucket: string): Promise<number> {
    const [db, rp] = bucket.split('/');
    const from = rp === undefined ? 'health_metrics' : `"${rp}".health_metrics`;
    const res = await influx.query(`SELECT count(*) FROM ${from}`, db);
    return Number(res.results[0]?.series?.[0]?.values?.[0]?.[1] ?? 0);
  }

  it.each(REFUSED)('refuses %j everywhere with the same message, exit 2', async (bucket) => {
    const v1 = await cli(['check-config', '-c', await config('v1', bucket)]);
    expect(v1.code).toBe(2);
    expect(v1.stderr).toContain(`load.influxdb.bucket: ${message(bucket)}`);

    const auto = await config('auto', bucket);
    const run = await cli(['--once', '-c', auto]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message(bucket));
    expect(await points('db')).toBe(0);
    expect(await points('db/rp')).toBe(0);

    const provision = await cli(['provision', '-c', auto]);
    expect(provision.code).toBe(2);
    expect(provision.stderr).toContain(message(bucket));

    const out = join(dir, `refused-export-${configs}`);
    const exported = await cli(exportArgs(auto, out));
    expect(exported.code).toBe(2);
    expect(exported.stderr).toContain(message(bucket));
    await expect(readdir(out)).rejects.toMatchObject({ code: 'ENOENT' });

    const verified = await cli(['verify', '-c', auto, ...range]);
    expect(verified.code).toBe(2);
    expect(verified.stderr).toContain(message(bucket));
  });

  it.each(ACCEPTED)('accepts %j everywhere', async (bucket) => {
    const v1 = await cli(['check-config', '-c', await config('v1', bucket)]);
    expect(v1.stderr).toBe('');
    expect(v1.code).toBe(0);

    const auto = await config('auto', bucket);
    const before = await points(bucket);
    const run = await cli(['--once', '-c', auto]);
    expect(run.stderr).not.toContain('not a valid InfluxDB 1.x target');
    expect(run.code).toBe(0);
    expect(await points(bucket)).toBeGreaterThan(before);

    const provision = await cli(['provision', '-c', auto]);
    expect(provision.stderr).not.toContain('not a valid InfluxDB 1.x target');
    expect(provision.code).toBe(0);

    const exported = await cli(exportArgs(auto, join(dir, `accepted-export-${configs}`)));
    expect(exported.stderr).not.toContain('not a valid InfluxDB 1.x target');
    expect(exported.code).toBe(0);

    // It reads the target: the half hour holds more than the one run wrote, so it differs (5).
    const verified = await cli(['verify', '-c', auto, ...range]);
    expect(verified.stderr).not.toContain('not a valid InfluxDB 1.x target');
    expect(verified.code).toBe(5);
  });
});
