/**
 * Start-up cost: each command loads only the libraries it uses. Arrow and Parquet (hundreds of
 * modules) belong to `export`, the InfluxDB 2.x management APIs to provisioning a 2.x server, the
 * config schema to commands that read a config. Listed by a `--import` hook in the built CLI,
 * while the commands run against real Prometheus and InfluxDB 1.x.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
import { loadedPackages } from '../support/promflux-cli.js';

const STEP_MS = 15_000;
const END = Math.floor(Date.now() / STEP_MS) * STEP_MS - 60_000;
const START = END - 3_600_000;
const EXPORT_ONLY = ['@bokuweb/zstd-wasm', 'apache-arrow', 'parquet-wasm'];
/**
 * Only the wide layout's Parquet needs parquet-wasm and apache-arrow (in the encoder thread); the
 * long layout's writer encodes even its `ARROW:schema` entry itself.
 */
const WIDE_ONLY = ['parquet-wasm', 'apache-arrow'];

describe('lazy imports: a command loads only what it runs', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let dir: string;
  let config: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-lazy-'));
    [prometheus, influx] = await Promise.all([
      startPrometheus({
        openMetrics: generateHealthFixture({
          startMs: START,
          endMs: END,
          intervalMs: STEP_MS,
          instances: 2,
        }),
      }),
      startInfluxV1(),
    ]);
    await influx.createDatabase('health');
    config = join(dir, 'promflux.yaml');
    await writeFile(
      config,
      `extract:
  prometheus_url: "${prometheus.url}"
  queries:
    - { name: availability, query: "up" }
load:
  influxdb:
    url: "${influx.url}"
    api: v1
    bucket: "health/autogen"
pipeline:
  interval_seconds: 900
  delay: 0s
  log_level: warn
`,
    );
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = (args: string[]) => loadedPackages(args, { cwd: dir });
  const iso = (ms: number) => new Date(ms).toISOString();

  it('--version and --help load neither the config schema nor any sink or export library', async () => {
    for (const args of [['--version'], ['--help'], ['export', '--help']]) {
      const { packages, code } = await run(args);
      expect(code).toBe(0);
      expect([...packages].sort()).toEqual(['commander']);
    }
  });

  it('check-config reads the config without loading export, sink or metrics libraries', async () => {
    const { packages, code, stderr } = await run(['check-config', '-c', config]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(packages).toContain('zod');
    for (const p of [...EXPORT_ONLY, '@influxdata/influxdb-client-apis', 'prom-client'])
      expect(packages).not.toContain(p);
  });

  // What they wrote is checked below: the commands ran through, not just started.
  it('run --once and backfill write to InfluxDB without loading Arrow or Parquet', async () => {
    for (const args of [
      ['run', '--once', '-c', config],
      ['backfill', '-c', config, '--from', iso(START), '--to', iso(END), '--no-progress'],
    ]) {
      const { packages, code, stderr } = await run(args);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      for (const p of [...EXPORT_ONLY, '@influxdata/influxdb-client-apis'])
        expect(packages).not.toContain(p);
    }
    const res = await influx.query('SELECT count(value) FROM health_metrics', 'health');
    expect(res.results[0]?.series?.[0]?.values?.[0]?.[1]).toBeGreaterThan(0);
  });

  it('export to long Parquet loads zstd, not parquet-wasm or apache-arrow (what the hook lists is what the process loads)', async () => {
    const out = join(dir, 'dataset');
    const { packages, code, stderr } = await run([
      'export',
      '-c',
      config,
      '--from',
      iso(START),
      '--to',
      iso(END),
      '--out',
      out,
      '--no-progress',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(packages).toContain('@bokuweb/zstd-wasm');
    for (const p of WIDE_ONLY) expect(packages).not.toContain(p);
  });
});
