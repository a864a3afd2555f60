/**
 * The direct Parquet writer, read back by DuckDB: the schema and logical types of the
 * parquet-wasm writer's files for the same rows, exact values, timestamps and nulls, dictionary
 * encoding, statistics; seeded random row groups with empty, unicode and null strings, more than
 * 2^16 dictionary entries, and single-row groups.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectParquetWriter } from '../../../src/export/parquet-direct/file-writer.js';
import { ParquetEncoder } from '../../../src/export/parquet-encoder.js';
import type { ColumnData, ColumnSpec, RowGroup } from '../../../src/export/row-group.js';
import { mulberry32 } from '../../../scripts/lib/openmetrics-fixture.js';
import { duckdbQuery, sqlString } from '../../support/duckdb-reader.js';

const T0 = Date.UTC(2024, 2, 1);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'promflux-parquet-direct-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const schemaOf = (tags: readonly string[]): ColumnSpec[] => [
  { name: 'timestamp', kind: 'timestamp' },
  { name: 'query', kind: 'string' },
  ...tags.map((name) => ({ name, kind: 'string' as const })),
  { name: 'value', kind: 'float64' },
];

async function writeDirect(
  name: string,
  columns: readonly ColumnSpec[],
  groups: readonly RowGroup[],
): Promise<{ path: string; bytes: Buffer }> {
  const parts: Uint8Array[] = [];
  const writer = await DirectParquetWriter.create(columns, { createdBy: 'promflux test' }, (c) =>
    parts.push(c),
  );
  for (const group of groups) writer.write(group);
  writer.close();
  const path = join(dir, name);
  const bytes = Buffer.concat(parts);
  await writeFile(path, bytes);
  return { path, bytes };
}

async function writeExisting(
  name: string,
  columns: readonly ColumnSpec[],
  groups: readonly RowGroup[],
  rowGroupRows: number,
): Promise<string> {
  const parts: Uint8Array[] = [];
  const encoder = new ParquetEncoder(columns, { rowGroupRows, createdBy: 'promflux test' }, (c) =>
    parts.push(c.slice()),
  );
  for (const group of groups) await encoder.write(group);
  await encoder.close();
  const path = join(dir, name);
  await writeFile(path, Buffer.concat(parts));
  return path;
}

type Cell = string | number | null;

/** The rows a file should hold, as DuckDB's JSON gives them (see `readRows`). */
function expectedRows(groups: readonly RowGroup[]): Cell[][] {
  const rows: Cell[][] = [];
  for (const group of groups) {
    for (let i = 0; i < group.rows; i++) {
      rows.push(
        group.columns.map((column): Cell => {
          switch (column.kind) {
            case 'timestamp':
              return String(column.ms[i]);
            case 'string': {
              const code = column.codes[i]!;
              return code < 0 ? null : column.dictionary[code]!;
            }
            case 'float64': {
              if (column.valid && column.valid[i] === 0) return null;
              const v = column.values[i]!;
              // -0 stays -0: DuckDB reads it back with its sign.
              return Number.isFinite(v) ? v : String(v);
            }
          }
        }),
      );
    }
  }
  return rows;
}

async function readRows(path: string, columns: readonly ColumnSpec[]): Promise<Cell[][]> {
  const select = columns
    .map((c) => (c.kind === 'timestamp' ? `epoch_ms("${c.name}")` : `"${c.name}"`))
    .join(', ');
  const rows = await duckdbQuery(
    `SELECT ${select} FROM read_parquet(${sqlString(path)}, file_row_number = true) ORDER BY file_row_number`,
  );
  return rows.map((row) => Object.values(row) as Cell[]);
}

/**
 * A second, stricter reader: arrow-rs's (through parquet-wasm), as Polars and pyarrow-like
 * readers would take the file. Rows as `expectedRows` gives them.
 */
function readWithArrowRs(bytes: Uint8Array): Cell[][] {
  const table = tableFromIPC(readParquet(bytes).intoIPCStream());
  const columns = table.schema.fields.map((f) => table.getChild(f.name)!);
  return Array.from({ length: table.numRows }, (_, i) =>
    columns.map((column, c): Cell => {
      const v: unknown = column.get(i);
      if (v === null) return null;
      if (c === 0) return String(Number(v));
      if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
      return typeof v === 'string' ? v : JSON.stringify(v);
    }),
  );
}

/** Series after series, `run` rows each, as long-layout.ts fills a row group. */
function seriesGroup(g: number, rows: number, run: number): RowGroup {
  const ms = new Float64Array(rows);
  const values = new Float64Array(rows);
  const host = new Int32Array(rows);
  const job = new Int32Array(rows);
  const hosts: string[] = [];
  for (let i = 0; i < rows; i++) {
    const s = Math.floor(i / run);
    if (i % run === 0) hosts.push(`host-${g}-${s}`);
    host[i] = s;
    job[i] = s % 3 === 2 ? -1 : s % 3;
    ms[i] = T0 + g * 86_400_000 + (i % run) * 15_000;
    values[i] = Math.round(Math.sin(i / 7 + g) * 1e5) / 1000;
  }
  return {
    rows,
    columns: [
      { kind: 'timestamp', name: 'timestamp', ms },
      { kind: 'string', name: 'query', codes: new Int32Array(rows), dictionary: ['up'] },
      { kind: 'string', name: 'host', codes: host, dictionary: hosts },
      { kind: 'string', name: 'job', codes: job, dictionary: ['api', 'node'] },
      { kind: 'float64', name: 'value', values },
    ],
  };
}

describe('DirectParquetWriter', () => {
  it('writes the schema, types, rows and statistics the parquet-wasm writer writes', async () => {
    const columns = schemaOf(['host', 'job']);
    const groups = [seriesGroup(0, 5_000, 240), seriesGroup(1, 3_001, 1_000)];
    const direct = (await writeDirect('same-direct.parquet', columns, groups)).path;
    const existing = await writeExisting('same-existing.parquet', columns, groups, 5_000);

    const describeOf = (p: string) => duckdbQuery(`DESCRIBE SELECT * FROM ${sqlString(p)}`);
    expect(await describeOf(direct)).toEqual(await describeOf(existing));
    // Every leaf as the existing writer declares it (the root's name is Arrow's there).
    const schema = (p: string) =>
      duckdbQuery(
        `SELECT * EXCLUDE (file_name) FROM parquet_schema(${sqlString(p)}) WHERE column_id > 0`,
      );
    expect(await schema(direct)).toEqual(await schema(existing));

    const metadata = (p: string) =>
      duckdbQuery(
        `SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, type, num_values,
                stats_min, stats_max, stats_null_count, compression, encodings
         FROM parquet_metadata(${sqlString(p)}) ORDER BY row_group_id, column_id`,
      );
    const ours = await metadata(direct);
    expect(ours).toEqual(await metadata(existing));
    expect(ours.filter((c) => c['stats_min'] !== null).map((c) => c['path_in_schema'])).toEqual([
      'timestamp',
      'value',
      'timestamp',
      'value',
    ]);

    const encodings = await duckdbQuery(
      `SELECT DISTINCT path_in_schema AS p, encodings AS e FROM parquet_metadata(${sqlString(direct)}) ORDER BY p`,
    );
    expect(encodings).toEqual([
      { p: 'host', e: 'PLAIN, RLE, RLE_DICTIONARY' },
      { p: 'job', e: 'PLAIN, RLE, RLE_DICTIONARY' },
      { p: 'query', e: 'PLAIN, RLE, RLE_DICTIONARY' },
      { p: 'timestamp', e: 'RLE, DELTA_BINARY_PACKED' },
      { p: 'value', e: 'RLE, BYTE_STREAM_SPLIT' },
    ]);

    // Arrow readers type the columns alike: tags as dictionaries (pandas categoricals).
    const arrowTypes = async (p: string) =>
      tableFromIPC(readParquet(await readFile(p)).intoIPCStream()).schema.fields.map(
        (f) => `${f.name}: ${String(f.type)}`,
      );
    expect(await arrowTypes(direct)).toEqual(await arrowTypes(existing));
    expect(await arrowTypes(direct)).toContain('host: Dictionary<Int32, Utf8>');

    const expected = expectedRows(groups);
    expect(await readRows(direct, columns)).toEqual(expected);
    expect(await readRows(existing, columns)).toEqual(expected);
    const created = await duckdbQuery(
      `SELECT created_by, num_rows, num_row_groups FROM parquet_file_metadata(${sqlString(direct)})`,
    );
    expect(created).toEqual([
      { created_by: 'promflux test', num_rows: '8001', num_row_groups: '2' },
    ]);
  });

  it('reads back seeded random row groups exactly, nulls, unicode and empty strings included', async () => {
    const random = mulberry32(20261201);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const words = [
      '',
      'a',
      'é',
      '日本語',
      '🙂 emoji',
      'x'.repeat(300),
      'tab\there',
      "quo'te",
      'nul\u0000l',
    ];
    const columns = schemaOf(['a', 'b', 'c']);
    const groups: RowGroup[] = [];
    for (let g = 0; g < 12; g++) {
      const rows = pick([1, 2, 7, 8, 9, 100, 1_000, 4_097]);
      const ms = new Float64Array(rows);
      const values = new Float64Array(rows);
      const valid = new Uint8Array(rows);
      for (let i = 0; i < rows; i++) {
        // Negative times too (before 1970), and times past 2^32 ms.
        ms[i] = Math.round((random() - 0.2) * 4e12);
        values[i] = pick([
          0,
          -0,
          NaN,
          Infinity,
          -Infinity,
          Number.MAX_VALUE,
          Number.MIN_VALUE,
          (random() - 0.5) * 1e6,
        ]);
        valid[i] = random() < 0.9 ? 1 : 0;
      }
      const tags: ColumnData[] = ['a', 'b', 'c'].map((name, t) => {
        // Dictionaries of 0..40 distinct strings; runs of random length, some null.
        const size = t === 2 && g % 4 === 0 ? 0 : 1 + Math.floor(random() * 40);
        const dictionary = Array.from({ length: size }, (_, k) => `${pick(words)}#${k}`);
        const codes = new Int32Array(rows);
        let i = 0;
        while (i < rows) {
          const end = Math.min(rows, i + 1 + Math.floor(random() * pick([1, 3, 12, 200])));
          const code = size === 0 || random() < 0.15 ? -1 : Math.floor(random() * size);
          codes.fill(code, i, end);
          i = end;
        }
        return { kind: 'string', name, codes, dictionary };
      });
      groups.push({
        rows,
        columns: [
          { kind: 'timestamp', name: 'timestamp', ms },
          { kind: 'string', name: 'query', codes: new Int32Array(rows), dictionary: ['q'] },
          ...tags,
          { kind: 'float64', name: 'value', values, valid },
        ],
      });
    }
    const { path, bytes } = await writeDirect('random.parquet', columns, groups);
    expect(await readRows(path, columns)).toEqual(expectedRows(groups));
    expect(readWithArrowRs(bytes)).toEqual(expectedRows(groups));
    // The same row groups give the same bytes.
    expect((await writeDirect('random-again.parquet', columns, groups)).bytes.equals(bytes)).toBe(
      true,
    );
    // And with their runs given (every change of a string column, plus runs of equal codes
    // cut in two, as a series' rows over two chunks can be): per run, the same bytes.
    const withRuns = groups.map((group): RowGroup => {
      const strings = group.columns.filter((c) => c.kind === 'string');
      const starts = [0];
      for (let i = 1; i < group.rows; i++) {
        if (strings.some((c) => c.codes[i] !== c.codes[i - 1]) || random() < 0.05) starts.push(i);
      }
      return { ...group, runStarts: Int32Array.from(starts) };
    });
    expect(withRuns.some((g) => g.runStarts!.length > 1)).toBe(true);
    expect((await writeDirect('random-runs.parquet', columns, withRuns)).bytes.equals(bytes)).toBe(
      true,
    );

    // Statistics per row group: min/max of timestamps and of non-NaN values, value nulls.
    // DuckDB shows an infinite bound as null (it does so for the parquet-wasm writer's too).
    const stats = await duckdbQuery(
      `SELECT path_in_schema AS p, stats_min_value AS lo, stats_max_value AS hi,
              stats_null_count AS nulls
       FROM parquet_metadata(${sqlString(path)}) WHERE p IN ('timestamp', 'value')
       ORDER BY row_group_id, p`,
    );
    const parse = (p: unknown, text: unknown): number | null => {
      if (typeof text !== 'string') return null;
      const t = text;
      return p === 'timestamp' ? Date.parse(t.replace(' ', 'T').replace(/\+00$/, 'Z')) : Number(t);
    };
    const got = stats.map((s) => [
      s['p'],
      parse(s['p'], s['lo']),
      parse(s['p'], s['hi']),
      s['nulls'],
    ]);
    const shown = (v: number) => (Number.isFinite(v) ? v : null);
    const want = groups.flatMap((group) => {
      const rows = group.rows;
      const ms = (group.columns[0] as { ms: Float64Array }).ms.subarray(0, rows);
      const value = group.columns.at(-1) as { values: Float64Array; valid: Uint8Array };
      const present = [...value.values.subarray(0, rows)].filter((_, i) => value.valid[i] === 1);
      const ordered = present.filter((v) => !Number.isNaN(v));
      // The format's rule for zeros: -0 as a minimum, +0 as a maximum.
      const lo = ordered.length ? Math.min(...ordered) : null;
      const hi = ordered.length ? Math.max(...ordered) : null;
      return [
        ['timestamp', Math.min(...ms), Math.max(...ms), '0'],
        [
          'value',
          lo === null ? null : lo === 0 ? -0 : shown(lo),
          hi === null ? null : hi === 0 ? 0 : shown(hi),
          String(rows - present.length),
        ],
      ];
    });
    expect(got).toEqual(want);
  });

  it('writes more than 2^16 dictionary entries and single-row groups', async () => {
    const rows = 70_000;
    const random = mulberry32(7);
    const codes = new Int32Array(rows);
    for (let i = 0; i < rows; i++) codes[i] = i;
    for (let i = rows - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [codes[i], codes[j]] = [codes[j]!, codes[i]!];
    }
    const big: RowGroup = {
      rows,
      columns: [
        { kind: 'timestamp', name: 'timestamp', ms: new Float64Array(rows).map((_, i) => T0 + i) },
        { kind: 'string', name: 'query', codes: new Int32Array(rows), dictionary: ['q'] },
        {
          kind: 'string',
          name: 'id',
          codes,
          dictionary: Array.from({ length: rows }, (_, k) => `id-${k}`),
        },
        { kind: 'float64', name: 'value', values: new Float64Array(rows).map((_, i) => i / 4) },
      ],
    };
    const single = (k: number): RowGroup => ({
      rows: 1,
      columns: [
        { kind: 'timestamp', name: 'timestamp', ms: new Float64Array([T0 - k]) },
        { kind: 'string', name: 'query', codes: new Int32Array(1), dictionary: ['q'] },
        {
          kind: 'string',
          name: 'id',
          codes: new Int32Array([k === 0 ? -1 : 0]),
          dictionary: ['só'],
        },
        { kind: 'float64', name: 'value', values: new Float64Array([-k]) },
      ],
    });
    // Timestamps 2^44 ms (557 years) or more apart: too wide for DELTA_BINARY_PACKED, so PLAIN.
    const wide: RowGroup = {
      rows: 3,
      columns: [
        { kind: 'timestamp', name: 'timestamp', ms: new Float64Array([-1e13, 1e13, 0]) },
        { kind: 'string', name: 'query', codes: new Int32Array(3), dictionary: ['q'] },
        { kind: 'string', name: 'id', codes: new Int32Array([0, -1, 0]), dictionary: [''] },
        { kind: 'float64', name: 'value', values: new Float64Array([1, 2, 3]) },
      ],
    };
    const columns = schemaOf(['id']);
    const groups = [single(1), big, single(0), wide, single(2)];
    const { path, bytes } = await writeDirect('big.parquet', columns, groups);
    expect(await readRows(path, columns)).toEqual(expectedRows(groups));
    expect(readWithArrowRs(bytes)).toEqual(expectedRows(groups));
    const meta = await duckdbQuery(
      `SELECT row_group_num_rows AS n, encodings AS e FROM parquet_metadata(${sqlString(path)}) WHERE column_id = 0`,
    );
    expect(meta.map((m) => m['n'])).toEqual(['1', '70000', '1', '3', '1']);
    expect(meta.map((m) => m['e'])[3]).toBe('PLAIN, RLE');
    expect(meta.map((m) => m['e'])[1]).toBe('RLE, DELTA_BINARY_PACKED');
  });

  it('refuses a code outside the dictionary, a row group of another schema and bad run starts', async () => {
    const columns = schemaOf([]);
    const writer = await DirectParquetWriter.create(columns, { createdBy: 't' }, () => undefined);
    const group = (code: number): RowGroup => ({
      rows: 1,
      columns: [
        { kind: 'timestamp', name: 'timestamp', ms: new Float64Array([T0]) },
        { kind: 'string', name: 'query', codes: new Int32Array([code]), dictionary: ['q'] },
        { kind: 'float64', name: 'value', values: new Float64Array([1]) },
      ],
    });
    expect(() => writer.write(group(1))).toThrow('Column query: code 1 outside its dictionary.');
    expect(() => writer.write({ rows: 1, columns: group(0).columns.slice(0, 2) })).toThrow(
      'fewer columns',
    );
    for (const starts of [[1], [0, 0], [0, 1]]) {
      expect(() => writer.write({ ...group(0), runStarts: Int32Array.from(starts) })).toThrow(
        "A row group's run starts must ascend from 0 within its rows.",
      );
    }
  });
});
