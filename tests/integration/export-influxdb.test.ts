/**
 * `promflux export --source influxdb` end to end: fixture → Prometheus → a real ETL run
 * (`promflux backfill` through the built CLI) → InfluxDB 1.6.7 (and the 2.x fake) → the export
 * read back from InfluxDB, compared with the export of the same range from Prometheus, both read
 * with DuckDB. A rollup tier is exported from windows written to a real 1.x retention policy with
 * promflux's rollup accumulator and line writer.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
import type { MetricKind } from '../../src/core/metric-kind.js';
import { blockTimestamps, blockValues, seriesBlock } from '../../src/core/series.js';
import { LineBatcher } from '../../src/transform/line-batcher.js';
import { encodeSeriesKey } from '../../src/transform/line-protocol.js';
import { RollupAccumulator } from '../../src/transform/rollup.js';
import { RollupLineWriter } from '../../src/transform/rollup-lines.js';
import { InfluxDbV2Fake } from '../fakes/influxdb-v2-fake.js';
import { mountQueryEndpoint } from '../fakes/influxdb-v2-query.js';
import { duckdbQuery, sqlString } from '../support/duckdb-reader.js';
import { prometheusRange } from '../support/prometheus-range.js';
import { expectedTags, runPromflux } from '../support/promflux-cli.js';

const STEP_MS = 15_000;
const HOUR_MS = 3_600_000;
const WINDOW_MS = 300_000;
const FIXTURE_END = Math.floor(Date.now() / STEP_MS) * STEP_MS - 60_000;
const FIXTURE_START = FIXTURE_END - 8 * HOUR_MS;
const FIXTURE = { startMs: FIXTURE_START, endMs: FIXTURE_END, intervalMs: STEP_MS };
const FIXTURE_SHAPE = { instances: 2, specialLabels: true, nanEvery: 7 };
// Whole 5-minute windows; `TO` is a grid point Prometheus (and InfluxDB) hold, which the
// half-open range must leave out.
const FROM = Math.ceil((FIXTURE_START + HOUR_MS) / WINDOW_MS) * WINDOW_MS;
const TO = FROM + 4 * HOUR_MS;

const QUERIES: Record<string, { expr: string; kind: MetricKind }> = {
  availability: { expr: 'up', kind: 'gauge' },
  request_rate: { expr: 'rate(http_requests_total[5m])', kind: 'gauge' },
  requests: { expr: 'http_requests_total', kind: 'counter' },
  special: { expr: 'test_special_labels', kind: 'gauge' },
};

/**
 * README "Data model": line protocol cannot carry every label value, so InfluxDB holds newline,
 * carriage return and tab as the two characters `\n`, `\r`, `\t`, and backslashes before a
 * comma, `=`, space or the end of the value as U+FF3C. Spelled here independently of promflux.
 */
function stored(value: string): string {
  return value
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\\+(?=[, =]|$)/g, (run) => '\uff3c'.repeat(run.length));
}

/** `query|sorted tags|ms` → the value columns, of every row of a long-layout Parquet export. */
async function exportedRows(
  dir: string,
  values: readonly string[],
): Promise<Map<string, number[]>> {
  const source = `read_parquet(${sqlString(join(dir, '**/*.parquet'))}, hive_partitioning = true, union_by_name = true)`;
  const records = await duckdbQuery(
    `SELECT epoch_ms(timestamp) AS ms, * EXCLUDE (timestamp, date) FROM ${source}`,
  );
  const rows = new Map<string, number[]>();
  for (const rec of records) {
    const tags = Object.entries(rec)
      .filter(([k, v]) => !['ms', 'query', ...values].includes(k) && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const key = `${String(rec.query)}|${JSON.stringify(tags)}|${Number(rec.ms)}`;
    if (rows.has(key)) throw new Error(`row ${key} exported twice`);
    rows.set(
      key,
      values.map((v) => Number(rec[v])),
    );
  }
  return rows;
}

/** The same rows with every tag value as InfluxDB stores it. */
function asStored(rows: Map<string, number[]>): Map<string, number[]> {
  return new Map(
    [...rows].map(([key, values]) => {
      const [query, tags, ms] = key.split('|') as [string, string, string];
      const mapped = (JSON.parse(tags) as [string, string][]).map(([k, v]) => [k, stored(v)]);
      return [`${query}|${JSON.stringify(mapped)}|${ms}`, values];
    }),
  );
}

/**
 * What a run printed on stderr besides the warning that this version does not write rollup tiers
 * yet (they are written directly below).
 */
function problems(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line !== '' && !/"level":"warn".*rollup tiers are provisioned/.test(line));
}

describe('promflux export --source influxdb after a real ETL run', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let dir: string;

  const iso = (ms: number): string => new Date(ms).toISOString();
  const cli = (args: string[]) => runPromflux(args, { cwd: dir, timeoutMs: 180_000 });
  const exportTo = (config: string, out: string, ...extra: string[]) =>
    cli(['export', '-c', config, '--from', iso(FROM), '--to', iso(TO), '--out', out, ...extra]);

  async function writeConfig(name: string, load: string): Promise<string> {
    const queries = Object.entries(QUERIES)
      .map(([n, q]) => `    - { name: ${n}, query: ${JSON.stringify(q.expr)} }`)
      .join('\n');
    const path = join(dir, `${name}.yaml`);
    await writeFile(
      path,
      `extract:
  prometheus_url: "${prometheus.url}"
  max_points_per_series: 97
  queries:
${queries}
transform:
  valid_metrics: ["up", "http_requests_total", "test_special_labels"]
load:
${load}
pipeline:
  state_dir: "${join(dir, `${name}-state`)}"
  log_level: warn
`,
    );
    return path;
  }

  let v1Config: string;
  let fromPrometheus: Map<string, number[]>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-export-influx-'));
    [prometheus, influx] = await Promise.all([
      // Two instances, the awkward label values, a NaN every 7th gauge sample.
      startPrometheus({ openMetrics: generateHealthFixture({ ...FIXTURE, ...FIXTURE_SHAPE }) }),
      startInfluxV1(),
    ]);
    v1Config = await writeConfig(
      'v1',
      `  influxdb: { url: "${influx.url}", api: v1 }
  tiers:
    - { name: hot, bucket: metrics/hot, retention: 0 }
    - { name: warm, bucket: metrics/warm, retention: 0, resolution: 5m }
  provision: true`,
    );
    const backfill = await cli([
      'backfill',
      '-c',
      v1Config,
      '--from',
      iso(FROM - HOUR_MS),
      '--to',
      iso(TO + HOUR_MS),
      '--no-progress',
    ]);
    expect(backfill.code, backfill.stderr).toBe(0);
    const prom = await exportTo(v1Config, join(dir, 'from-prometheus'));
    expect(prom.code, prom.stderr).toBe(0);
    fromPrometheus = await exportedRows(join(dir, 'from-prometheus'), ['value']);
  }, 300_000);
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('InfluxDB 1.x raw tier: the same rows as the export from Prometheus', async () => {
    const out = join(dir, 'from-influxdb');
    const run = await exportTo(v1Config, out, '--source', 'influxdb');
    expect(problems(run.stderr)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^availability: \d+ rows of 2 series from tier hot\.$/m);
    const rows = await exportedRows(out, ['value']);
    const queriesWithRows = new Set([...fromPrometheus.keys()].map((k) => k.split('|')[0]));
    expect([...queriesWithRows].sort()).toEqual(Object.keys(QUERIES).sort());
    const want = asStored(fromPrometheus);
    const missing = [...want.keys()].filter((k) => !rows.has(k));
    const extra = [...rows.keys()].filter((k) => !want.has(k));
    expect(missing.slice(0, 3), `${missing.length} rows missing`).toEqual([]);
    expect(extra.slice(0, 3), `${extra.length} extra rows`).toEqual([]);
    const differ = [...rows].filter(([k, v]) => !Object.is(want.get(k)![0], v[0]));
    expect(differ.slice(0, 3), 'values differ').toEqual([]);
    // The special labels that line protocol cannot carry are the only difference.
    expect([...rows.keys()].some((k) => k.includes('\\\\n') && k.includes('\uff3c'))).toBe(true);

    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
      source: unknown;
      complete: boolean;
      queries: { name: string; schema: { name: string }[] }[];
    };
    expect(manifest.complete).toBe(true);
    expect(manifest.source).toEqual({
      kind: 'influxdb',
      url: influx.url,
      tier: 'hot',
      bucket: 'metrics/hot',
    });
    expect(manifest.queries.map((q) => q.schema.at(-1)!.name)).toEqual(
      Object.keys(QUERIES).map(() => 'value'),
    );

    // The Prometheus export's directory holds another export: not silently replaced.
    const other = await exportTo(v1Config, join(dir, 'from-prometheus'), '--source', 'influxdb');
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('holds a different export (its source differs)');
  }, 240_000);

  it('a rollup tier exports its fields per window instead of value', async () => {
    // The windows promflux's accumulator computes from what Prometheus holds, written as its
    // line writer writes them into the warm retention policy.
    const expected = new Map<string, number[]>();
    const columns: Record<string, string[]> = {};
    for (const [name, { expr, kind }] of Object.entries(QUERIES)) {
      const writer = new RollupLineWriter(kind, 'value');
      const range = { startMs: FROM - STEP_MS, endMs: TO - STEP_MS, stepMs: STEP_MS };
      const batches: { text: string; precision: 's' | 'ms' }[] = [];
      const batcher = new LineBatcher({
        batchSize: 5000,
        query: name,
        emit: (b) => batches.push({ text: b.body.toString(), precision: b.precision }),
      });
      for (const series of await prometheusRange(prometheus.url, expr, range)) {
        const tags = Object.entries(expectedTags(series.labels, name));
        const key = new Uint8Array(Buffer.from(encodeSeriesKey('health_metrics', tags)));
        const storedTags = JSON.stringify(
          tags.map(([k, v]) => [k, stored(v)]).sort(([a], [b]) => (a! < b! ? -1 : 1)),
        );
        const [ts, vs] = [blockTimestamps(series), blockValues(series)];
        const finite = [...ts.keys()].filter((i) => Number.isFinite(vs[i]!));
        const acc = new RollupAccumulator<string>(
          { kind, stepMs: STEP_MS, resolutionMs: WINDOW_MS, fromMs: FROM },
          (w) => {
            writer.append(batcher, key, w);
            const values =
              kind === 'gauge'
                ? [w.count, w.sum, w.min, w.max, w.last, w.sum / w.count]
                : [w.increase, w.resets, w.first, w.last, w.count];
            expected.set(`${name}|${storedTags}|${w.startMs}`, values);
          },
        );
        acc.add(
          acc.series(storedTags),
          seriesBlock(
            series.labels,
            finite.map((i) => ts[i]!),
            finite.map((i) => vs[i]!),
          ),
        );
        acc.closeThrough(TO);
      }
      batcher.flush();
      for (const { text, precision } of batches) {
        await influx.write(text, { db: 'metrics', rp: 'warm', precision });
      }
      columns[name] =
        kind === 'gauge'
          ? ['value_count', 'value_sum', 'value_min', 'value_max', 'value_last', 'value_mean']
          : ['value_increase', 'value_resets', 'value_first', 'value_last', 'value_count'];
    }

    const out = join(dir, 'warm');
    const run = await exportTo(v1Config, out, '--source', 'influxdb', '--tier', 'warm');
    expect(problems(run.stderr)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('from tier warm (5m windows).');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
      source: unknown;
      queries: { name: string; schema: { name: string; kind: string }[] }[];
    };
    expect(manifest.source).toEqual({
      kind: 'influxdb',
      url: influx.url,
      tier: 'warm',
      bucket: 'metrics/warm',
      resolution_ms: WINDOW_MS,
    });
    const got = new Map<string, number[]>();
    for (const q of manifest.queries) {
      const values = q.schema.filter((c) => c.kind === 'float64').map((c) => c.name);
      expect(values, q.name).toEqual(columns[q.name]);
      const dirOf = join(out, `query=${q.name}`);
      for (const [k, v] of await exportedRows(dirOf, values)) got.set(k, v);
    }
    expect(got.size).toBe(expected.size);
    expect(got).toEqual(expected);
    // Every window of the range, stamped at its start.
    const starts = new Set([...got.keys()].map((k) => Number(k.slice(k.lastIndexOf('|') + 1))));
    expect(starts.size).toBe((TO - FROM) / WINDOW_MS);
    expect(Math.min(...starts)).toBe(FROM);
    expect(Math.max(...starts)).toBe(TO - WINDOW_MS);

    const wideArgs = ['--source', 'influxdb', '--tier', 'warm', '--layout', 'wide'];
    const wide = await exportTo(v1Config, join(dir, 'warm-wide'), ...wideArgs);
    expect(wide.code).toBe(2);
    expect(wide.stderr).toContain('use --layout long');
  }, 240_000);

  it('InfluxDB 2.x (Flux against the fake): the same rows as the export from Prometheus', async () => {
    const fake = await InfluxDbV2Fake.start();
    mountQueryEndpoint(fake);
    try {
      const config = await writeConfig(
        'v2',
        `  influxdb: { url: "${fake.url}", token: "${fake.token}", org: "${fake.org}" }
  tiers:
    - { name: hot, bucket: ${fake.bucket}, retention: 0 }`,
      );
      const backfill = await cli([
        'backfill',
        '-c',
        config,
        '--from',
        iso(FROM),
        '--to',
        iso(TO),
        '--no-progress',
      ]);
      expect(backfill.code, backfill.stderr).toBe(0);
      const out = join(dir, 'from-fake');
      const run = await exportTo(config, out, '--source', 'influxdb', '--json');
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(
        run.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as unknown),
      ).toEqual(
        Object.keys(QUERIES).map((query) => ({
          query,
          tier: 'hot',
          rows: expect.any(Number) as number,
          series: expect.any(Number) as number,
        })),
      );
      const rows = await exportedRows(out, ['value']);
      expect(rows).toEqual(asStored(fromPrometheus));
      expect(fake.requests.some((r) => r.path === '/api/v2/query')).toBe(true);
    } finally {
      await fake.stop();
    }
  }, 240_000);

  it('refuses --tier without --source influxdb or an unknown tier; an unreachable server fails the run', async () => {
    const tierAlone = await exportTo(v1Config, join(dir, 'refused'), '--tier', 'warm');
    expect(tierAlone.code).toBe(2);
    expect(tierAlone.stderr).toContain('--tier applies to --source influxdb');
    const unknown = await exportTo(
      v1Config,
      join(dir, 'refused'),
      ...['--source', 'influxdb'],
      ...['--tier', 'cold'],
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown --tier "cold"; configured: hot, warm.');

    const down = await writeConfig(
      'down',
      `  influxdb: { url: "http://127.0.0.1:1", api: v1, username: reader, password: "pw-${'x'.repeat(8)}" }
  tiers:
    - { name: hot, bucket: metrics/hot, retention: 0 }`,
    );
    const out = join(dir, 'down');
    const run = await exportTo(down, out, '--source', 'influxdb');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'promflux: Reading from InfluxDB at http://127.0.0.1:1 failed: connect ECONNREFUSED',
    );
    expect(run.stderr).not.toContain('pw-xxxxxxxx');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
      complete: boolean;
    };
    expect(manifest.complete).toBe(false);
  });
});
