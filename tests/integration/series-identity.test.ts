/**
 * Series identity end to end: a Prometheus answer holding label sets that used to merge and an
 * out-of-order series (which only a broken proxy or hand-made response sends, hence a fake
 * Prometheus) → `promflux backfill` (the built CLI) → real InfluxDB 1.x, read back with InfluxQL.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxV1, type InfluxV1Server } from '../../scripts/lib/servers.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const STEP_S = 15;
const T0_S = Math.floor((Date.now() / 1000 - 3600) / STEP_S) * STEP_S;
const [T1_S, T2_S] = [T0_S + STEP_S, T0_S + 2 * STEP_S];

/** Pairs of label sets that promflux used to write as one series, one point each at T0. */
const DISTINCT: Array<Record<string, string>> = [
  { __name__: 'up', job: 'a', metric_type: 'x' },
  { __name__: 'up', job: 'a', metric_type: 'y' },
  { __name__: 'up', job: 'a', time: 't' },
  { __name__: 'up', job: 'a', prom_time: 't' },
  { __name__: 'up', job: 'a', _field: 'f' },
  { __name__: 'up', job: 'a', prom__field: 'f' },
  { __name__: 'up', job: 's' },
  { __name__: 'up', service: 's' },
  { __name__: 'up', job: 'a', metric_name: 'm' },
  { __name__: 'm', job: 'a' },
];
const UNSORTED: Array<[number, number]> = [
  [T2_S, 2],
  [T0_S, 0],
  [T1_S, 1],
  [T1_S, 1],
  [T0_S, 9],
];

function matrix(): string {
  const result = [
    ...DISTINCT.map((metric, i) => ({ metric, values: [[T0_S, String(i)]] })),
    {
      metric: { __name__: 'unsorted', job: 'a' },
      values: UNSORTED.map(([t, v]) => [t, String(v)]),
    },
  ];
  return JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } });
}

describe('series identity end to end → InfluxDB 1.x', () => {
  let influx: InfluxV1Server;
  let prometheus: Server;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-identity-'));
    prometheus = createServer((req, res) => {
      req.resume();
      const isRange = req.url?.startsWith('/api/v1/query_range') ?? false;
      res.writeHead(isRange ? 200 : 404, { 'content-type': 'application/json' });
      res.end(isRange ? matrix() : '{"status":"error","error":"not found"}');
    });
    prometheus.listen(0, '127.0.0.1');
    await once(prometheus, 'listening');
    influx = await startInfluxV1();
    await influx.createDatabase('ids');
  });
  afterAll(async () => {
    prometheus?.close();
    await influx?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes every distinct label set as its own series and counts what lands', async () => {
    const { port } = prometheus.address() as AddressInfo;
    const config = join(dir, 'promflux.yaml');
    await writeFile(
      config,
      `extract:
  prometheus_url: "http://127.0.0.1:${port}"
  queries:
    - { name: ids, query: "up", step: ${STEP_S}s }
load:
  influxdb:
    url: "${influx.url}"
    api: v1
    bucket: "ids/autogen"
pipeline:
  log_level: warn
  state_dir: "${join(dir, 'state')}"
`,
    );
    const iso = (s: number) => new Date(s * 1000).toISOString();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(REPO_ROOT, 'bin/promflux.js'), 'backfill', '-c', config, '--json'].concat([
        '--from',
        iso(T0_S),
        '--to',
        iso(T2_S),
        '--no-progress',
      ]),
      { cwd: dir, env: { ...process.env, PROMFLUX_CONFIG: '' }, timeout: 60_000 },
    );
    const summary = JSON.parse(stdout.trim()) as {
      points: number;
      drops: Record<string, number>;
      sinks: { influxdb: { written: number } };
    };

    const res = await influx.query('SELECT * FROM health_metrics', 'ids', { epoch: 's' });
    const series = res.results[0]!.series![0]!;
    const col = (name: string) => series.columns.indexOf(name);
    const rows = series.values!;
    const unsorted = rows
      .filter((r) => r[col('metric_name')] === 'unsorted')
      .map((r) => [r[col('time')], r[col('value')]]);
    expect(unsorted).toEqual([
      [T0_S, 0],
      [T1_S, 1],
      [T2_S, 2],
    ]);
    const distinct = rows.filter((r) => r[col('metric_name')] !== 'unsorted');
    expect(distinct.map((r) => r[col('value')] as number).sort((a, b) => a - b)).toEqual(
      DISTINCT.map((_, i) => i),
    );
    expect(summary.points).toBe(rows.length);
    expect(summary.sinks.influxdb.written).toBe(rows.length);
    expect(summary.drops).toMatchObject({ duplicate: 2, label_collision: 0 });
  });
});
