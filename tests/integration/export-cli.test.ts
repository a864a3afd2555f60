/**
 * `promflux export` end to end: fixture → Prometheus (promtool backfill) → the built CLI →
 * Parquet / CSV files, read back with DuckDB (the independent reader) and compared with what
 * Prometheus itself answers for the same half-open range (one unchunked request, decoded with
 * the JSON.parse reference), the tags spelled by the README's data model, not by promflux's code.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RESERVED_COLUMN_LABELS,
  generateHealthFixture,
} from '../../scripts/lib/openmetrics-fixture.js';
import { startPrometheus, type StartedServer } from '../../scripts/lib/servers.js';
import { blockTimestamps, blockValues } from '../../src/core/series.js';
import { runChild } from '../support/child-process.js';
import { duckdbQuery, sqlString } from '../support/duckdb-reader.js';
import { prometheusRange } from '../support/prometheus-range.js';
import { expectedTags, runPromflux } from '../support/promflux-cli.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const STEP_MS = 15_000;
const HOUR_MS = 3_600_000;
const FIXTURE_END = Math.floor(Date.now() / STEP_MS) * STEP_MS - 60_000;
const FIXTURE_START = FIXTURE_END - 30 * HOUR_MS;
// 24 hours: crosses a UTC midnight, so every query has files in two date partitions. `TO` is a
// grid point Prometheus has data for, which the half-open range must leave out.
const FROM = FIXTURE_START + HOUR_MS;
const TO = FROM + 24 * HOUR_MS;

const QUERIES: Record<string, string> = {
  availability: 'up',
  request_rate: 'rate(http_requests_total[5m])',
  special: 'test_special_labels',
  reserved: 'test_reserved_columns',
};

/**
 * The README's escape rule for the labels of `test_reserved_columns`: a label named like a column
 * or partition key the export writes itself gets one `_` appended.
 */
const RESERVED_NAMES = ['timestamp', 'value', 'query', 'date', 'split'];
function exportedTags(labels: Record<string, string>, queryName: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(expectedTags(labels, queryName)).map(([k, v]) => [
      RESERVED_NAMES.includes(k) ? `${k}_` : k,
      v,
    ]),
  );
}

interface Row {
  query: string;
  tags: Record<string, string>;
  ms: number;
  value: number;
}

const rowKey = (r: Omit<Row, 'value'>): string =>
  `${r.query}|${JSON.stringify(Object.entries(r.tags).sort())}|${r.ms}`;

/** Rows from DuckDB: every column but the named ones is a tag; nulls are absent tags. */
function toRows(records: Record<string, unknown>[], skip: readonly string[]): Row[] {
  return records.map((rec) => {
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (!skip.includes(k) && v !== null) tags[k] = v as string;
    }
    return { query: rec.query as string, tags, ms: Number(rec.ms), value: Number(rec.value) };
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Debian's python3-pandas installs for the system interpreter, not for a pyenv or venv one. */
const PANDAS_PYTHON = '/usr/bin/python3';

/** Runs `code` with `interpreter`, resolves to its stdout. */
async function python(interpreter: string, code: string): Promise<string> {
  const run = await runChild(interpreter, ['-c', code], { cwd: tmpdir() });
  if (run.status !== 0 && /No module named '?pandas/.test(run.stderr)) {
    throw new Error(
      `pandas is missing for ${interpreter}: run \`bash scripts/install-deps.sh --test\` (Debian package python3-pandas).`,
    );
  }
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

/** Rows a Python reader printed as JSON records: `ms`, `query`, `value` (text), the tags. */
function pythonRows(json: string): Row[] {
  const doubles: Record<string, number> = { inf: Infinity, '-inf': -Infinity, nan: NaN };
  return (JSON.parse(json) as Record<string, string | number | null>[]).map((rec) => {
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (!['ms', 'query', 'value'].includes(k) && v !== null) tags[k] = String(v);
    }
    const text = String(rec.value);
    return {
      query: String(rec.query),
      tags,
      ms: Number(rec.ms),
      value: doubles[text] ?? Number(text),
    };
  });
}

interface Stats {
  count: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
}

/** DuckDB's figures for `column` over `files` (a glob), finite values only, as `--stats` counts. */
async function duckdbStats(files: string, column: string): Promise<Stats> {
  const c = `"${column}"`;
  const [row] = await duckdbQuery(
    `SELECT count(${c}) AS count, avg(${c}) AS mean, stddev_samp(${c}) AS std, min(${c}) AS min, max(${c}) AS max
     FROM read_parquet(${sqlString(files)}, union_by_name = true) WHERE isfinite(${c})`,
  );
  const num = (v: unknown) => (v === null ? null : Number(v));
  return {
    count: Number(row!.count),
    mean: num(row!.mean),
    std: num(row!.std),
    min: num(row!.min),
    max: num(row!.max),
  };
}

/** Equal counts, minima and maxima; means and deviations equal to 1e-9 (summation order). */
function expectStats(got: Stats | undefined, want: Stats, what: string): void {
  expect(got, what).toBeDefined();
  expect([got!.count, got!.min, got!.max], what).toEqual([want.count, want.min, want.max]);
  for (const k of ['mean', 'std'] as const) {
    expect(got![k] === null, `${what} ${k}`).toBe(want[k] === null);
    const tolerance = 1e-9 * Math.max(1, Math.abs(want[k] ?? 0));
    expect(Math.abs(got![k]! - want[k]!), `${what} ${k}`).toBeLessThanOrEqual(tolerance);
  }
}

describe('promflux export → real Prometheus, read back with DuckDB', () => {
  let prometheus: StartedServer;
  let dir: string;
  let config: string;
  let expected: Map<string, number>;
  /** Per query, the grid points Prometheus answered and each series' finite values. */
  let expectedSeries: Map<string, { tags: Record<string, string>; values: Map<number, number> }[]>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-export-'));
    prometheus = await startPrometheus({
      openMetrics: generateHealthFixture({
        startMs: FIXTURE_START,
        endMs: FIXTURE_END,
        intervalMs: STEP_MS,
        instances: 2,
        specialLabels: true,
        reservedColumnLabels: true,
        nanEvery: 7,
      }),
    });
    const queries = Object.entries(QUERIES)
      .map(([name, query]) => `    - { name: ${name}, query: ${JSON.stringify(query)} }`)
      .join('\n');
    config = join(dir, 'promflux.yaml');
    await writeFile(
      config,
      `extract:
  prometheus_url: "${prometheus.url}"
  # Small chunks so that chunk edges (and the UTC midnight) are crossed many times.
  max_points_per_series: 97
  concurrency: 2
  queries:
${queries}
transform:
  valid_metrics: ["up", "http_requests_total", "test_special_labels", "test_reserved_columns"]
load:
  influxdb:
    url: "http://127.0.0.1:9"
    api: v1
    bucket: "unused/autogen"
pipeline:
  log_level: warn
`,
    );
    expected = new Map();
    expectedSeries = new Map();
    for (const [name, query] of Object.entries(QUERIES)) {
      // The last grid point before TO: the range is half-open.
      const range = { startMs: FROM, endMs: TO - STEP_MS, stepMs: STEP_MS };
      const list: { tags: Record<string, string>; values: Map<number, number> }[] = [];
      for (const series of await prometheusRange(prometheus.url, query, range)) {
        const tags = exportedTags(series.labels, name);
        const values = new Map<number, number>();
        const [ts, vs] = [blockTimestamps(series), blockValues(series)];
        for (let i = 0; i < series.length; i++) {
          if (!Number.isFinite(vs[i]!)) continue;
          values.set(ts[i]!, vs[i]!);
          expected.set(rowKey({ query: name, tags, ms: ts[i]! }), vs[i]!);
        }
        list.push({ tags, values });
      }
      expectedSeries.set(name, list);
    }
  }, 240_000);
  afterAll(async () => {
    await prometheus?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) => runPromflux(args, { cwd: dir, timeoutMs: 180_000 });

  const iso = (ms: number): string => new Date(ms).toISOString();
  const exportTo = (out: string, ...extra: string[]) =>
    cli(['export', '-c', config, '--from', iso(FROM), '--to', iso(TO), '--out', out, ...extra]);

  function expectRowsEqualPrometheus(rows: Row[]): void {
    const got = new Map<string, number>();
    const duplicates = rows.filter((r) => got.size === got.set(rowKey(r), r.value).size);
    expect(duplicates.length, 'duplicate rows').toBe(0);
    const missing = [...expected.keys()].filter((k) => !got.has(k));
    const extra = [...got.keys()].filter((k) => !expected.has(k));
    expect(missing.slice(0, 3), `${missing.length} rows missing`).toEqual([]);
    expect(extra.slice(0, 3), `${extra.length} unexpected rows`).toEqual([]);
    const wrong = [...got].filter(([k, v]) => !Object.is(expected.get(k), v));
    expect(wrong.slice(0, 3), 'values differ').toEqual([]);
  }

  async function readManifest(out: string): Promise<Record<string, unknown>> {
    return JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Record<
      string,
      unknown
    >;
  }

  let longDir: string;
  let longParquet: Row[];

  it('long Parquet: exactly the samples Prometheus has in [from, to), typed, with a manifest', async () => {
    longDir = join(dir, 'long');
    const run = await exportTo(longDir, '--stats');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Exported \d+ rows in \d+ files/);

    const glob = sqlString(join(longDir, '**/*.parquet'));
    const source = `read_parquet(${glob}, hive_partitioning = true, union_by_name = true)`;
    const [types] = await duckdbQuery(
      `SELECT typeof(timestamp) AS ts, typeof(value) AS v FROM ${source} LIMIT 1`,
    );
    expect(types).toEqual({ ts: 'TIMESTAMP WITH TIME ZONE', v: 'DOUBLE' });
    const records = await duckdbQuery(
      `SELECT epoch_ms(timestamp) AS ms, * EXCLUDE (timestamp, date) FROM ${source}`,
    );
    longParquet = toRows(records, ['ms', 'query', 'value']);
    expectRowsEqualPrometheus(longParquet);
    const times = longParquet.map((r) => r.ms);
    expect(times.reduce((a, b) => Math.max(a, b))).toBe(TO - STEP_MS);
    expect(times.reduce((a, b) => Math.min(a, b))).toBe(FROM);

    // The date partition is each row's UTC day.
    const dates = await duckdbQuery(
      `SELECT count(*) AS n FROM ${source} WHERE strftime(timestamp AT TIME ZONE 'UTC', '%Y-%m-%d') <> date::VARCHAR`,
    );
    expect(dates).toEqual([{ n: '0' }]);

    const manifest = await readManifest(longDir);
    expect(manifest).toMatchObject({
      complete: true,
      layout: 'long',
      format: 'parquet',
      source: { kind: 'prometheus', url: prometheus.url },
      range: { from: iso(FROM), to: iso(TO) },
    });
    const queries = manifest.queries as {
      name: string;
      expr: string;
      step_ms: number;
      series: number;
      schema: { name: string; kind: string }[];
      files: { path: string; rows: number; sha256: string }[];
      stats: Record<string, Stats>;
    }[];
    expect(queries.map((q) => [q.name, q.expr, q.step_ms])).toEqual(
      Object.entries(QUERIES).map(([n, e]) => [n, e, STEP_MS]),
    );
    const onDisk = (await filesUnder(longDir)).filter((f) => f !== 'manifest.json');
    expect(queries.flatMap((q) => q.files.map((f) => f.path)).sort()).toEqual(onDisk);
    for (const q of queries) {
      expect(q.series).toBe(expectedSeries.get(q.name)!.length);
      expect(q.schema[0]).toEqual({ name: 'timestamp', kind: 'timestamp' });
      expect(q.schema.at(-1)).toEqual({ name: 'value', kind: 'float64' });
      expect(new Set(q.files.map((f) => f.path.split('/')[1])).size).toBe(2);
      for (const f of q.files) {
        expect(f.path.startsWith(`query=${q.name}/date=`)).toBe(true);
        expect(await sha256(join(longDir, f.path))).toBe(f.sha256);
        const [count] = await duckdbQuery(
          `SELECT count(*) AS n FROM read_parquet(${sqlString(join(longDir, f.path))})`,
        );
        expect(Number(count!.n)).toBe(f.rows);
      }
      // --stats without --split: every row of the query.
      expect(Object.keys(q.stats)).toEqual(['value']);
      const all = await duckdbStats(join(longDir, `query=${q.name}/**/*.parquet`), 'value');
      expect(all.count).toBeGreaterThan(1);
      expectStats(q.stats.value, all, q.name);
    }
    expect(manifest.stats).toEqual({ split: null });
  }, 240_000);

  it('the same export again gives byte-identical files and the same manifest but created_at', async () => {
    const before = new Map<string, string>();
    for (const f of await filesUnder(longDir)) before.set(f, await sha256(join(longDir, f)));
    const manifestBefore = await readManifest(longDir);
    const run = await exportTo(longDir, '--stats');
    expect(run.code).toBe(0);
    const after = new Map<string, string>();
    for (const f of await filesUnder(longDir)) after.set(f, await sha256(join(longDir, f)));
    before.delete('manifest.json');
    after.delete('manifest.json');
    expect(after).toEqual(before);
    const manifestAfter = await readManifest(longDir);
    expect({ ...manifestAfter, created_at: 0 }).toEqual({ ...manifestBefore, created_at: 0 });
  }, 240_000);

  it("README's DuckDB snippet reads the export", async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Training data\n'));
    const sql = /```sql\n([\s\S]*?)```/.exec(section)![1]!;
    const rows = await duckdbQuery(sql.replace(`'dataset/`, `'${longDir}/`));
    const counts = new Map<string, number>();
    for (const key of expected.keys()) {
      const query = key.slice(0, key.indexOf('|'));
      counts.set(query, (counts.get(query) ?? 0) + 1);
    }
    expect(rows.map((r) => [r.query, Number(r.samples)])).toEqual(
      [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    );
    for (const r of rows) {
      expect(Date.parse(r.first as string)).toBe(FROM);
      expect(Date.parse(r.last as string)).toBe(TO - STEP_MS);
    }
  });

  it('CSV holds the same rows as the Parquet files: DuckDB, Python csv and pandas read it', async () => {
    const csvDir = join(dir, 'csv');
    const run = await exportTo(csvDir, '--format', 'csv');
    expect(run.code).toBe(0);
    const key = (r: Row) => `${rowKey(r)}=${r.value}`;
    const want = longParquet.map(key).sort();

    const glob = sqlString(join(csvDir, '**/*.csv'));
    const records = await duckdbQuery(
      `SELECT * EXCLUDE (date) FROM read_csv(${glob}, hive_partitioning = true, union_by_name = true, all_varchar = true)`,
    );
    const rows = records.map((rec) => ({ ...rec, ms: Date.parse(rec.timestamp as string) }));
    const csvRows = toRows(rows, ['ms', 'query', 'value', 'timestamp']);
    expect(csvRows.map(key).sort()).toEqual(want);

    // Python's csv module, the standard library's RFC 4180 reader: every field as text.
    const stdlib = await python(
      'python3',
      `import csv, glob, json
from datetime import datetime, timedelta, timezone
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
rows = []
for f in sorted(glob.glob(${JSON.stringify(csvDir + '/**/*.csv')}, recursive=True)):
    with open(f, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            t = datetime.fromisoformat(r.pop("timestamp").replace("Z", "+00:00"))
            rows.append({**{k: v for k, v in r.items() if v != ""}, "ms": (t - EPOCH) // timedelta(milliseconds=1)})
print(json.dumps(rows))
`,
    );
    expect(pythonRows(stdlib).map(key).sort()).toEqual(want);

    // README's pandas snippet, with Debian's python3-pandas.
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Training data\n'));
    const snippet = /pandas, from the CSV files[\s\S]*?```python\n([\s\S]*?)```/.exec(section)![1]!;
    expect(snippet).toContain('"dataset/**/*.csv"');
    const pandas = await python(
      PANDAS_PYTHON,
      `${snippet.replace('"dataset/', JSON.stringify(csvDir + '/').slice(0, -1))}
df["ms"] = (df["timestamp"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
df["value"] = df["value"].map(repr)
print(df.drop(columns=["timestamp"]).to_json(orient="records"))
`,
    );
    expect(pythonRows(pandas).map(key).sort()).toEqual(want);
  }, 240_000);

  it('wide layout: a row per grid timestamp, a column per series, null where no sample', async () => {
    const wideDir = join(dir, 'wide');
    const run = await exportTo(wideDir, '--layout', 'wide', '--query', 'availability', '--stats');
    expect(run.code).toBe(0);
    const manifest = await readManifest(wideDir);
    const [query] = manifest.queries as {
      columns: Record<string, { query: string; labels: Record<string, string> }>;
      stats: Record<string, Stats>;
    }[];
    const source = `read_parquet(${sqlString(join(wideDir, '**/*.parquet'))}, hive_partitioning = true, union_by_name = true)`;
    const records = await duckdbQuery(
      `SELECT epoch_ms(timestamp) AS ms, * EXCLUDE (timestamp, date, query) FROM ${source} ORDER BY ms`,
    );
    const grid = records.map((r) => Number(r.ms));
    expect(grid.length).toBe((TO - FROM) / STEP_MS);
    grid.forEach((ms, i) => expect(ms).toBe(FROM + i * STEP_MS));
    const series = expectedSeries.get('availability')!;
    const columns = Object.entries(query!.columns);
    expect(columns.length).toBe(series.length);
    let nulls = 0;
    for (const [name, { labels }] of columns) {
      const sorted = (tags: Record<string, string>) => JSON.stringify(Object.entries(tags).sort());
      const want = series.find((s) => sorted(s.tags) === sorted(labels));
      expect(want, name).toBeDefined();
      for (const r of records) {
        const cell = r[name];
        const value = want!.values.get(Number(r.ms));
        if (value === undefined) nulls++;
        expect(cell === null ? undefined : Number(cell)).toBe(value);
      }
    }
    expect(nulls).toBeGreaterThan(0); // NaN samples are cleaned away: their cells are null
    // --stats: one entry per series column, nulls left out.
    expect(Object.keys(query!.stats).sort()).toEqual(columns.map(([name]) => name).sort());
    for (const [name] of columns) {
      expectStats(query!.stats[name], await duckdbStats(join(wideDir, '**/*.parquet'), name), name);
    }
  }, 240_000);

  it('--split cuts by time, leaving out the lookback of the queries before each later split', async () => {
    const splitDir = join(dir, 'split');
    const run = await exportTo(
      splitDir,
      '--query',
      'request_rate',
      '--split',
      'train=0.5,validation=0.25,test=0.25',
      '--stats',
    );
    expect(run.code).toBe(0);
    const gap = 5 * 60_000; // rate(http_requests_total[5m]) reads 5 minutes back
    const manifest = await readManifest(splitDir);
    expect(manifest.splits).toEqual({
      gap_ms: gap,
      ranges: [
        { name: 'train', from: iso(FROM), to: iso(FROM + 12 * HOUR_MS) },
        { name: 'validation', from: iso(FROM + 12 * HOUR_MS + gap), to: iso(FROM + 18 * HOUR_MS) },
        { name: 'test', from: iso(FROM + 18 * HOUR_MS + gap), to: iso(TO) },
      ],
    });
    const ranges = (manifest.splits as { ranges: { name: string; from: string; to: string }[] })
      .ranges;
    const splitOf = (ms: number) =>
      ranges.find((r) => Date.parse(r.from) <= ms && ms < Date.parse(r.to))?.name;
    const source = `read_parquet(${sqlString(join(splitDir, '**/*.parquet'))}, hive_partitioning = true, union_by_name = true)`;
    const records = await duckdbQuery(
      `SELECT epoch_ms(timestamp) AS ms, split AS split_name, * EXCLUDE (timestamp, date, split) FROM ${source}`,
    );
    const rows = toRows(records, ['ms', 'query', 'value', 'split_name']);
    // Every row lies in the split its directory names: nothing leaks across a boundary or a gap.
    const misplaced = records.filter((r) => splitOf(Number(r.ms)) !== r.split_name);
    expect(misplaced.slice(0, 3)).toEqual([]);
    // And the splits hold every sample of Prometheus outside the gaps.
    const got = new Set(rows.map((r) => `${rowKey(r)}=${r.value}`));
    const want = [...expected]
      .filter(([k]) => k.startsWith('request_rate|'))
      .filter(([k]) => splitOf(Number(k.slice(k.lastIndexOf('|') + 1))) !== undefined)
      .map(([k, v]) => `${k}=${v}`);
    expect(got.size).toBe(rows.length);
    expect([...got].sort()).toEqual(want.sort());
    expect(want.length).toBeLessThan(
      [...expected.keys()].filter((k) => k.startsWith('request_rate|')).length,
    );

    // --stats describe the training split's rows, not the others'.
    expect(manifest.stats).toEqual({ split: 'train' });
    const [query] = manifest.queries as { stats: Record<string, Stats> }[];
    const train = await duckdbStats(join(splitDir, 'split=train/**/*.parquet'), 'value');
    expectStats(query!.stats.value, train, 'train');
    const all = await duckdbStats(join(splitDir, '**/*.parquet'), 'value');
    expect(train.count).toBeLessThan(all.count);
    expect(query!.stats.value!.mean).not.toBe(all.mean);
  }, 240_000);

  it('labels named like a column or partition key are escaped; the partition columns stay intact', async () => {
    const out = join(dir, 'reserved');
    const run = await exportTo(out, '--query', 'reserved', '--split', 'train=0.5,test=0.5');
    expect(run.code, run.stderr).toBe(0);
    const manifest = await readManifest(out);
    const ranges = (manifest.splits as { ranges: { name: string; from: string; to: string }[] })
      .ranges;
    const splitOf = (ms: number) =>
      ranges.find((r) => Date.parse(r.from) <= ms && ms < Date.parse(r.to))?.name;
    const source = `read_parquet(${sqlString(join(out, '**/*.parquet'))}, hive_partitioning = true, union_by_name = true)`;
    const records = await duckdbQuery(
      `SELECT epoch_ms(timestamp) AS ms, query, date::VARCHAR AS date, split,
              strftime(timestamp AT TIME ZONE 'UTC', '%Y-%m-%d') AS utc_day,
              date_, query_, timestamp_, value_, split_, value
       FROM ${source}`,
    );
    // The partition columns hold the partitions, not the labels of the same names.
    const wrong = records.filter(
      (r) => r.query !== 'reserved' || r.date !== r.utc_day || r.split !== splitOf(Number(r.ms)),
    );
    expect(wrong.slice(0, 3)).toEqual([]);
    // The escaped columns hold the labels' values, null where a series lacks the label.
    const labelColumns = (labels: Record<string, string | null>) =>
      JSON.stringify(RESERVED_NAMES.map((n) => labels[`${n}_`] ?? null));
    const seen = new Set(records.map((r) => labelColumns(r as Record<string, string | null>)));
    const want = RESERVED_COLUMN_LABELS.map((labels) =>
      JSON.stringify(RESERVED_NAMES.map((n) => labels[n] ?? null)),
    );
    expect([...seen].sort()).toEqual(want.sort());
    // And every sample of Prometheus outside the gap, exactly once.
    const got = records.map(
      (r) =>
        `${labelColumns(r as Record<string, string | null>)}@${Number(r.ms)}=${Number(r.value)}`,
    );
    const expectedRows = expectedSeries
      .get('reserved')!
      .flatMap((series) =>
        [...series.values]
          .filter(([ms]) => splitOf(ms) !== undefined)
          .map(([ms, v]) => `${labelColumns(series.tags)}@${ms}=${v}`),
      );
    expect(expectedRows.length).toBeGreaterThan(0);
    expect(got.sort()).toEqual(expectedRows.sort());
  }, 240_000);

  it('on a terminal, the progress bar says rows and bytes written, and the ETA', async () => {
    const out = join(dir, 'tty');
    const argv = [
      process.execPath,
      join(REPO_ROOT, 'bin/promflux.js'),
      ...['export', '-c', config, '--from', iso(FROM), '--to', iso(TO), '--out', out],
      ...['--query', 'availability'],
    ];
    const command = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    // script(1) runs the command on a pseudo-terminal: stderr is a TTY, as for a user.
    const run = await runChild('script', ['-qefc', command, '/dev/null'], {
      cwd: dir,
      env: { ...process.env, PROMFLUX_CONFIG: '' },
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const frames = run.stdout.split('\r\x1b[K').filter((f) => f.startsWith('['));
    expect(frames.length, run.stdout).toBeGreaterThan(0); // drawn at once, then redrawn
    for (const frame of frames) {
      expect(frame).toMatch(
        /^\[[#.]{24}\] +\d+\.\d%  \S+ rows  \S+ [kMGT]?B  \S+ rows\/s  ETA \S+(  availability)? \(\d\/1 queries done\)/,
      );
      expect(frame).not.toContain('samples');
    }
  }, 240_000);

  it('refuses a directory that holds another export, or other files', async () => {
    const other = await cli([
      'export',
      '-c',
      config,
      '--from',
      iso(FROM),
      '--to',
      iso(TO - HOUR_MS),
      '--out',
      longDir,
    ]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`--out ${longDir} holds a different export (its range differs)`);
    const foreign = join(dir, 'foreign');
    await mkdir(foreign);
    await writeFile(join(foreign, 'notes.txt'), 'mine');
    const refused = await exportTo(foreign);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not empty and holds no manifest.json');
    expect(await readdir(foreign)).toEqual(['notes.txt']);
  }, 240_000);

  it('a failed export leaves no partial file, an incomplete manifest, and may be run again', async () => {
    const broken = join(dir, 'broken.yaml');
    const text = await readFile(config, 'utf8');
    await writeFile(
      broken,
      text.replace('  queries:\n', '  queries:\n    - { name: broken, query: "rate(up[5m]" }\n'),
    );
    const out = join(dir, 'failed');
    const args = ['export', '-c', broken, '--from', iso(FROM), '--to', iso(TO), '--out', out];
    const first = await cli(args);
    expect(first.code).toBe(1);
    const manifest = await readManifest(out);
    expect(manifest.complete).toBe(false);
    expect((await filesUnder(out)).filter((f) => f.split('/').at(-1)!.startsWith('.'))).toEqual([]);
    const again = await cli(args);
    expect(again.code).toBe(1);
    expect(again.stderr).not.toContain('holds a different export');
  }, 240_000);
});
