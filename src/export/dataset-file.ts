import { rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ensurePrivateDir } from '../core/private-file.js';
import { CsvFile } from './csv-file.js';
import { DirectParquetFile } from './direct-parquet-file.js';
import { ParquetFile } from './parquet-file.js';
import type { ColumnSpec, RowGroupFile, WriteCounter } from './row-group.js';

export type DatasetFormat = 'parquet' | 'csv';

export interface FileFormatOptions {
  format: DatasetFormat;
  /**
   * Parquet through the direct writer on this thread (the long layout's files), else through
   * parquet-wasm in the encoder thread (the wide layout's).
   */
  directParquet?: boolean;
  rowGroupRows: number;
  createdBy: string;
  /** Counts the bytes written (progress). */
  written?: WriteCounter;
}

/**
 * Opens a file under a hidden temporary name in the partition directory of `relativePath`
 * (readers skip names starting with `.`); `placeDatasetFile` renames it into place once closed,
 * so an interrupted export never leaves a half file under a dataset name. Files are 0600 and the
 * directories it creates 0700, as for all data promflux writes (core/private-file.ts).
 */
export async function openDatasetFile(
  dir: string,
  relativePath: string,
  tag: string,
  columns: readonly ColumnSpec[],
  options: FileFormatOptions,
): Promise<{ tmp: string; file: RowGroupFile }> {
  const partition = dirname(join(dir, relativePath));
  await ensurePrivateDir(partition);
  const tmp = join(partition, `.promflux-${tag}.${options.format}.tmp`);
  const file =
    options.format === 'csv'
      ? await CsvFile.create(tmp, columns, options.written)
      : options.directParquet
        ? await DirectParquetFile.create(tmp, columns, options)
        : await ParquetFile.create(tmp, columns, options);
  return { tmp, file };
}

export async function placeDatasetFile(
  tmp: string,
  dir: string,
  relativePath: string,
): Promise<void> {
  await rename(tmp, join(dir, relativePath));
}
