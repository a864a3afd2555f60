/**
 * ParquetFile encodes in the process's encoder thread: several files at once each get their own
 * bytes, a failure there surfaces as the writer's own message, and abort leaves no file.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParquetFile } from '../../../src/export/parquet-file.js';
import type { ColumnSpec, RowGroup } from '../../../src/export/row-group.js';
import { duckdbQuery, sqlString } from '../../support/duckdb-reader.js';
import { tempDirs } from '../../support/temp-dirs.js';

const T0 = Date.UTC(2024, 2, 1);
const COLUMNS: ColumnSpec[] = [
  { name: 'timestamp', kind: 'timestamp' },
  { name: 'host', kind: 'string' },
  { name: 'value', kind: 'float64' },
];
const tempDir = tempDirs('promflux-parquet-file-');

/** Row group `g` of file `f`: `rows` rows, values that tell the file and the row apart. */
function group(f: number, g: number, rows: number): RowGroup {
  const ms = new Float64Array(rows);
  const values = new Float64Array(rows);
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    ms[i] = T0 + (g * rows + i) * 15_000;
    values[i] = f * 1e6 + g * rows + i + 0.25;
    codes[i] = i % 3;
  }
  return {
    rows,
    columns: [
      { kind: 'timestamp', name: 'timestamp', ms },
      { kind: 'string', name: 'host', codes, dictionary: [`a${f}`, `b${f}`, `c${f}`] },
      { kind: 'float64', name: 'value', values },
    ],
  };
}

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('ParquetFile (encoder thread)', () => {
  it('writes files in parallel, each with its own rows and the bytes of writing it alone', async () => {
    const dir = await tempDir();
    const options = { rowGroupRows: 1000, createdBy: 'promflux test' };
    const alone = await ParquetFile.create(join(dir, 'alone.parquet'), COLUMNS, options);
    for (let g = 0; g < 4; g++) await alone.write(group(1, g, 1000));
    await alone.close();

    const files = await Promise.all(
      [1, 2, 3].map((f) => ParquetFile.create(join(dir, `f${f}.parquet`), COLUMNS, options)),
    );
    for (let g = 0; g < 4; g++) {
      await Promise.all(files.map((file, i) => file.write(group(i + 1, g, 1000))));
    }
    const closed = await Promise.all(files.map((file) => file.close()));

    for (const [i, { bytes, sha256: hash }] of closed.entries()) {
      const path = join(dir, `f${i + 1}.parquet`);
      expect(hash).toBe(await sha256(path));
      expect(bytes).toBe((await readFile(path)).byteLength);
      const [summary] = await duckdbQuery(
        `select count(*)::int as n, min(value) as lo, max(value) as hi, count(distinct host)::int as hosts
         from ${sqlString(path)}`,
      );
      expect(summary).toEqual({
        n: 4000,
        lo: (i + 1) * 1e6 + 0.25,
        hi: (i + 1) * 1e6 + 3999.25,
        hosts: 3,
      });
    }
    expect(closed[0]!.sha256).toBe(await sha256(join(dir, 'alone.parquet')));
  });

  it('surfaces a failure in the thread as the writer message, and abort removes the file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.parquet.tmp');
    const file = await ParquetFile.create(path, COLUMNS, { rowGroupRows: 10, createdBy: 't' });
    const bad = group(1, 0, 4);
    // A dictionary code past the end of its dictionary.
    (bad.columns[1] as { codes: Int32Array }).codes[3] = 7;
    const attempt = async () => {
      await file.write(bad);
      await file.write(group(1, 1, 4));
      await file.close();
    };
    await expect(attempt()).rejects.toThrow(/out of bounds: 7/);
    await file.abort();
    expect(await readdir(dir)).toEqual([]);

    // The thread still encodes the next file.
    const next = await ParquetFile.create(join(dir, 'next.parquet'), COLUMNS, {
      rowGroupRows: 10,
      createdBy: 't',
    });
    await next.write(group(2, 0, 4));
    await next.close();
    const [{ n }] = (await duckdbQuery(
      `select count(*)::int as n from ${sqlString(join(dir, 'next.parquet'))}`,
    )) as [{ n: number }];
    expect(n).toBe(4);
  });

  it('refuses a row group whose columns are not the file schema, naming the column', async () => {
    const dir = await tempDir();
    const file = await ParquetFile.create(join(dir, 'x.parquet'), COLUMNS, {
      rowGroupRows: 10,
      createdBy: 't',
    });
    const g = group(1, 0, 2);
    await expect(
      file.write({ rows: 2, columns: [g.columns[0]!, g.columns[2]!, g.columns[1]!] }),
    ).rejects.toThrow('Row group column 1 (value) does not match the file schema.');
    await file.abort();
  });
});
