/**
 * DirectParquetFile (the long layout's Parquet): a row group is in the file once `write`
 * resolves, so the caller may refill its arrays; size and SHA-256 are those of the bytes on disk;
 * the same row groups give the same bytes; abort leaves no file.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectParquetFile } from '../../../src/export/direct-parquet-file.js';
import type { ColumnSpec, RowGroup, WriteCounter } from '../../../src/export/row-group.js';
import { duckdbQuery, sqlString } from '../../support/duckdb-reader.js';
import { tempDirs } from '../../support/temp-dirs.js';

const T0 = Date.UTC(2024, 2, 1);
const ROWS = 1000;
const COLUMNS: ColumnSpec[] = [
  { name: 'timestamp', kind: 'timestamp' },
  { name: 'host', kind: 'string' },
  { name: 'value', kind: 'float64' },
];
const tempDir = tempDirs('promflux-direct-file-');

/** One set of arrays, refilled for each row group as the long layout does. */
class Arrays {
  readonly ms = new Float64Array(ROWS);
  readonly values = new Float64Array(ROWS);
  readonly codes = new Int32Array(ROWS);

  fill(g: number): RowGroup {
    for (let i = 0; i < ROWS; i++) {
      this.ms[i] = T0 + (g * ROWS + i) * 15_000;
      this.values[i] = g * ROWS + i + 0.25;
      this.codes[i] = (g + i) % 3;
    }
    return {
      rows: ROWS,
      columns: [
        { kind: 'timestamp', name: 'timestamp', ms: this.ms },
        { kind: 'string', name: 'host', codes: this.codes, dictionary: ['a', 'b', 'c'] },
        { kind: 'float64', name: 'value', values: this.values },
      ],
    };
  }
}

async function writeFile(path: string, groups: number, written?: WriteCounter) {
  const file = await DirectParquetFile.create(path, COLUMNS, {
    createdBy: 'promflux test',
    ...(written && { written }),
  });
  const arrays = new Arrays();
  for (let g = 0; g < groups; g++) await file.write(arrays.fill(g));
  return file.close();
}

describe('DirectParquetFile', () => {
  it('holds each row group as it was when written, with the size and SHA-256 of its bytes', async () => {
    const dir = await tempDir();
    const path = join(dir, 'a.parquet');
    const written: WriteCounter = { rows: 0, bytes: 0 };
    const { bytes, sha256 } = await writeFile(path, 4, written);

    const onDisk = await readFile(path);
    expect(bytes).toBe(onDisk.byteLength);
    expect(written.bytes).toBe(onDisk.byteLength);
    expect(sha256).toBe(createHash('sha256').update(onDisk).digest('hex'));
    const rows = await duckdbQuery(
      `SELECT epoch_ms(timestamp)::DOUBLE AS t, host, value FROM ${sqlString(path)} ORDER BY t`,
    );
    expect(rows).toHaveLength(4 * ROWS);
    rows.forEach((row, n) => {
      const g = Math.floor(n / ROWS);
      const i = n % ROWS;
      expect(row).toEqual({ t: T0 + n * 15_000, host: 'abc'[(g + i) % 3], value: n + 0.25 });
    });
  });

  it('gives the same bytes for the same row groups', async () => {
    const dir = await tempDir();
    const first = await writeFile(join(dir, 'a.parquet'), 3);
    const second = await writeFile(join(dir, 'b.parquet'), 3);
    expect(second).toEqual(first);
    expect(
      (await readFile(join(dir, 'b.parquet'))).equals(await readFile(join(dir, 'a.parquet'))),
    ).toBe(true);
  });

  it('leaves no file when aborted', async () => {
    const dir = await tempDir();
    const file = await DirectParquetFile.create(join(dir, 'a.parquet'), COLUMNS, {
      createdBy: 'promflux test',
    });
    await file.write(new Arrays().fill(0));
    await file.abort();
    expect(await readdir(dir)).toEqual([]);
  });
});
