import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seriesBlock } from '../../../src/core/series.js';
import { LongLayoutWriter, exportSeries } from '../../../src/export/long-layout.js';
import type { WrittenFile } from '../../../src/export/row-group.js';
import { duckdbQuery, sqlString } from '../../support/duckdb-reader.js';

const T0 = Date.UTC(2024, 2, 1, 23, 58, 0);
const STEP = 15_000;
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'promflux-export-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

interface Row {
  ms: number;
  labels: Record<string, string>;
  value: number;
}

/** Three series over midnight (two UTC days), in two chunks, one series gaining a label. */
function chunks(): { labels: Record<string, string>; ts: number[]; values: number[] }[][] {
  const series = (labels: Record<string, string>, from: number, n: number, seed: number) => ({
    labels,
    ts: Array.from({ length: n }, (_, i) => T0 + (from + i) * STEP),
    values: Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + from + i) * 1e3 + 0.1),
  });
  return [
    [
      series({ job: 'node', instance: 'a:9100' }, 0, 6, 1),
      series({ job: 'node', instance: 'b:9100', date: 'tag-date', query: 'tag,"query"' }, 0, 6, 2),
    ],
    [
      series({ job: 'node', instance: 'a:9100' }, 6, 6, 1),
      series({ job: 'node', instance: 'b:9100', date: 'tag-date', query: 'tag,"query"' }, 6, 6, 2),
      series({ job: 'api', instance: 'c:80', zone: 'eu' }, 4, 8, 3),
    ],
  ];
}

function expectedRows(): Row[] {
  return chunks()
    .flat()
    .flatMap((s) => s.ts.map((ms, i) => ({ ms, labels: s.labels, value: s.values[i]! })));
}

async function writeLong(
  dir: string,
  format: 'parquet' | 'csv',
  rowGroupRows = 7,
): Promise<WrittenFile[]> {
  const writer = new LongLayoutWriter({
    dir,
    query: 'cpu',
    format,
    rowGroupRows,
    createdBy: 'promflux test',
  });
  for (const chunk of chunks()) {
    for (const s of chunk) await writer.add(exportSeries(seriesBlock(s.labels, s.ts, s.values)));
  }
  return writer.finish();
}

const rowKey = (ms: number, instance: string) => `${ms}/${instance}`;

describe('LongLayoutWriter (Parquet, read back by DuckDB)', () => {
  it('writes UTC millisecond timestamps, dictionary-encoded tags and byte-stream-split float64 values with zstd', async () => {
    const dir = await tempDir();
    const files = await writeLong(dir, 'parquet');
    const path = join(dir, files[0]!.path);
    const schema = await duckdbQuery(
      `select name, type, logical_type from parquet_schema(${sqlString(path)}) where name <> 'arrow_schema'`,
    );
    const byName = Object.fromEntries(schema.map((r) => [r.name, r]));
    expect(byName.timestamp).toMatchObject({ type: 'INT64' });
    expect(String(byName.timestamp!.logical_type)).toMatch(
      /isAdjustedToUTC=1, unit=TimeUnit\(MILLIS=/,
    );
    expect(byName.value).toMatchObject({ type: 'DOUBLE' });
    expect(byName.instance).toMatchObject({ type: 'BYTE_ARRAY', logical_type: 'StringType()' });
    const chunksMeta = await duckdbQuery(
      `select path_in_schema, compression, encodings from parquet_metadata(${sqlString(path)})`,
    );
    expect(new Set(chunksMeta.map((c) => c.compression))).toEqual(new Set(['ZSTD']));
    const instance = chunksMeta.filter((c) => c.path_in_schema === 'instance');
    expect(instance.length).toBeGreaterThan(1); // several row groups
    for (const c of instance) expect(String(c.encodings)).toContain('RLE_DICTIONARY');
    for (const c of chunksMeta.filter((m) => m.path_in_schema === 'timestamp')) {
      expect(String(c.encodings)).toContain('DELTA_BINARY_PACKED');
    }
    for (const c of chunksMeta.filter((m) => m.path_in_schema === 'value')) {
      expect(String(c.encodings)).toContain('BYTE_STREAM_SPLIT');
      expect(String(c.encodings)).not.toContain('DICTIONARY');
    }
    const types = await duckdbQuery(`describe select * from ${sqlString(path)}`);
    expect(types.find((t) => t.column_name === 'timestamp')?.column_type).toBe(
      'TIMESTAMP WITH TIME ZONE',
    );
  });

  it('keeps min/max statistics for timestamps and values but none for the tag columns', async () => {
    const dir = await tempDir();
    const files = await writeLong(dir, 'parquet');
    const chunksMeta = await duckdbQuery(
      `select path_in_schema, stats_min_value, stats_max_value, stats_null_count
       from parquet_metadata(${sqlString(join(dir, files[0]!.path))})`,
    );
    for (const c of chunksMeta) {
      if (c.path_in_schema === 'timestamp' || c.path_in_schema === 'value') {
        expect(c.stats_min_value).not.toBeNull();
        expect(c.stats_max_value).not.toBeNull();
      } else {
        // Tags: comparing every row's string cost ~40% of their encoding, and pruned nothing.
        expect([c.path_in_schema, c.stats_min_value, c.stats_max_value]).toEqual([
          c.path_in_schema,
          null,
          null,
        ]);
      }
    }
    const names = new Set(chunksMeta.map((c) => c.path_in_schema));
    for (const name of ['timestamp', 'query', 'instance', 'job', 'value']) {
      expect(names).toContain(name);
    }
  });

  it('holds every sample exactly once, split by UTC day, with the escaped tags and new labels', async () => {
    const dir = await tempDir();
    const files = await writeLong(dir, 'parquet');
    expect(files.map((f) => f.path.split('/').slice(0, 2).join('/'))).toContain(
      'query=cpu/date=2024-03-01',
    );
    expect(files.map((f) => f.path.split('/').slice(0, 2).join('/'))).toContain(
      'query=cpu/date=2024-03-02',
    );
    const glob = sqlString(join(dir, '**/*.parquet'));
    const rows = await duckdbQuery(
      `select epoch_ms("timestamp") as ms, "query", "date", date_, query_, job, instance, zone, value
       from read_parquet(${glob}, hive_partitioning = true, union_by_name = true)`,
    );
    const expected = expectedRows();
    expect(rows).toHaveLength(expected.length);
    expect(files.reduce((n, f) => n + f.rows, 0)).toBe(expected.length);
    const got = new Map(rows.map((r) => [rowKey(Number(r.ms), String(r.instance)), r]));
    for (const e of expected) {
      const row = got.get(rowKey(e.ms, e.labels.instance!));
      expect(row).toBeDefined();
      expect(row!.value).toBe(e.value);
      expect(row!.query).toBe('cpu');
      expect(row!.date).toBe(new Date(e.ms).toISOString().slice(0, 10));
      expect(row!.date_).toBe(e.labels.date ?? null);
      expect(row!.query_).toBe(e.labels.query ?? null);
      expect(row!.zone).toBe(e.labels.zone ?? null);
      expect(row!.job).toBe(e.labels.job);
    }
    for (const f of files) {
      const [{ n, lo, hi }] = (await duckdbQuery(
        `select count(*)::int as n, min(epoch_ms("timestamp")) as lo, max(epoch_ms("timestamp")) as hi
         from ${sqlString(join(dir, f.path))}`,
      )) as [{ n: number; lo: number; hi: number }];
      expect(n).toBe(f.rows);
      expect([Number(lo), Number(hi) + 1]).toEqual([f.fromMs, f.toMs]);
      expect(f.sha256).toBe(
        createHash('sha256')
          .update(await readFile(join(dir, f.path)))
          .digest('hex'),
      );
    }
  });

  it('gives byte-identical files for the same input, and leaves no temporary file', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const filesA = await writeLong(a, 'parquet');
    const filesB = await writeLong(b, 'parquet');
    expect(filesB).toEqual(filesA);
    for (const f of filesA) {
      expect((await readFile(join(b, f.path))).equals(await readFile(join(a, f.path)))).toBe(true);
    }
    const all = await readdir(a, { recursive: true });
    expect(all.filter((p) => p.includes('.tmp'))).toEqual([]);
  });

  it('abort removes the temporary files of unfinished days', async () => {
    const dir = await tempDir();
    const writer = new LongLayoutWriter({
      dir,
      query: 'cpu',
      format: 'parquet',
      rowGroupRows: 2,
      createdBy: 't',
    });
    await writer.add(
      exportSeries(seriesBlock({ job: 'x' }, [T0, T0 + STEP, T0 + 2 * STEP], [1, 2, 3])),
    );
    expect((await readdir(dir, { recursive: true })).some((p) => p.endsWith('.tmp'))).toBe(true);
    await writer.abort();
    expect((await readdir(dir, { recursive: true })).filter((p) => p.includes('.parquet'))).toEqual(
      [],
    );
  });
});

describe('LongLayoutWriter (CSV)', () => {
  it("writes the same rows as the Parquet files, parsed by Python's csv module", async () => {
    const [pq, csv] = [await tempDir(), await tempDir()];
    await writeLong(pq, 'parquet');
    const csvFiles = await writeLong(csv, 'csv');
    const parsed: Record<string, string>[] = [];
    for (const f of csvFiles) {
      const out = execFileSync(
        'python3',
        [
          '-c',
          'import csv,json,sys; print(json.dumps(list(csv.DictReader(open(sys.argv[1], newline="")))))',
          join(csv, f.path),
        ],
        { encoding: 'utf8' },
      );
      parsed.push(...(JSON.parse(out) as Record<string, string>[]));
    }
    const parquetRows = await duckdbQuery(
      `select strftime("timestamp" at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') as ts, instance, job, zone, date_, query_, value
       from read_parquet(${sqlString(join(pq, '**/*.parquet'))}, union_by_name = true)`,
    );
    expect(parsed).toHaveLength(parquetRows.length);
    const byKey = new Map(parsed.map((r) => [`${r.timestamp}/${r.instance}`, r]));
    for (const p of parquetRows) {
      const row = byKey.get(`${String(p.ts)}/${String(p.instance)}`);
      expect(row, `${String(p.ts)}`).toBeDefined();
      expect(Number(row!.value)).toBe(p.value);
      expect(row!.query).toBe('cpu');
      for (const tag of ['job', 'zone', 'date_', 'query_']) {
        // A column absent from a CSV file (a label not yet seen) and an empty field are both null.
        const text = row![tag];
        expect(text === undefined || text === '' ? null : text, tag).toBe(p[tag]);
      }
    }
  });
});

describe('LongLayoutWriter (rollup fields)', () => {
  it('writes one float64 column per field and escapes a tag named like a field', async () => {
    const dir = await tempDir();
    const writer = new LongLayoutWriter({
      dir,
      query: 'cpu_5m',
      format: 'parquet',
      valueFields: ['value_mean', 'value_max'],
      createdBy: 't',
    });
    const ts = Float64Array.from([T0, T0 + 300_000]);
    await writer.add({
      labels: { value_mean: 'tag', job: 'x' },
      timestampsMs: ts,
      fields: [Float64Array.from([1.5, 2.5]), Float64Array.from([3, 4])],
    });
    await expect(
      writer.add({ labels: {}, timestampsMs: ts, fields: [Float64Array.from([1, 2])] }),
    ).rejects.toThrow(/needs 2 value field\(s\)/);
    const files = await writer.finish();
    const rows = await duckdbQuery(
      `select epoch_ms("timestamp")::double as ms, value_mean_, value_mean, value_max
       from read_parquet(${sqlString(join(dir, '**/*.parquet'))}, hive_partitioning = true) order by ms`,
    );
    expect(rows).toEqual([
      { ms: T0, value_mean_: 'tag', value_mean: 1.5, value_max: 3 },
      { ms: T0 + 300_000, value_mean_: 'tag', value_mean: 2.5, value_max: 4 },
    ]);
    expect(files[0]!.columns.map((c) => c.name)).toEqual([
      'timestamp',
      'query',
      'job',
      'value_mean_',
      'value_mean',
      'value_max',
    ]);
  });
});
