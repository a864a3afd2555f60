import { createHash } from 'node:crypto';
import { rm, type FileHandle } from 'node:fs/promises';
import { openPrivateFile } from '../core/private-file.js';
import { YoungGarbageCollector } from '../core/young-garbage.js';
import type { ParquetEncoderOptions } from './parquet-encoder.js';
import { encoderThread, type EncoderSession } from './parquet-thread.js';
import {
  checkSchema,
  type ColumnData,
  type ColumnSpec,
  type RowGroup,
  type RowGroupFile,
  type WriteCounter,
} from './row-group.js';

export interface ParquetFileOptions extends ParquetEncoderOptions {
  /** Counts the bytes written (progress). */
  written?: WriteCounter;
}

/**
 * Copies of the row groups move to the encoder thread, but what they were filled from (decoded
 * chunks, series views) is garbage here, partly outside the JS heap, where V8 would leave tens of
 * MB of it waiting: a young-generation collection every 16 MB of rows handed over, as before the
 * encoding moved out.
 */
const garbage = new YoungGarbageCollector(16 * 1024 * 1024);

/**
 * A Parquet file written row group by row group (see ParquetEncoder for the encoding). The
 * encoding runs in the process's encoder thread; this thread hashes and writes the bytes it gets
 * back, in order. Memory holds about two row groups at a time.
 */
export class ParquetFile implements RowGroupFile {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private readonly session: EncoderSession;
  /** The file writes, one after the other. */
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  private constructor(
    private readonly path: string,
    private readonly file: FileHandle,
    private readonly columns: readonly ColumnSpec[],
    private readonly options: ParquetFileOptions,
  ) {
    const { rowGroupRows, createdBy } = options;
    this.session = encoderThread().open(columns, { rowGroupRows, createdBy }, (chunk) =>
      this.output(chunk),
    );
  }

  static async create(
    path: string,
    columns: readonly ColumnSpec[],
    options: ParquetFileOptions,
  ): Promise<ParquetFile> {
    return new ParquetFile(path, await openPrivateFile(path, 'w'), columns, options);
  }

  async write(group: RowGroup): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    checkSchema(group, this.columns);
    if (group.rows === 0) return;
    // The caller may refill its arrays once this resolves: the thread gets copies.
    const moved = ownCopy(group);
    await this.session.write(moved, buffersOf(moved));
    garbage.add(group.rows * group.columns.length * 8);
  }

  async close(): Promise<{ bytes: number; sha256: string }> {
    try {
      await this.session.close();
      await this.writing;
      await this.file.sync();
    } finally {
      await this.file.close();
    }
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    await this.session.abort();
    await this.writing.catch(() => undefined);
    await this.file.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }

  private output(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    if (this.options.written) this.options.written.bytes += chunk.byteLength;
    this.writing = this.writing.then(async () => {
      await this.file.write(chunk);
    });
    this.writing.catch((error: unknown) => {
      this.failure ??= error instanceof Error ? error : new Error(String(error));
    });
  }
}

/** The row group's columns copied into buffers of their own, `rows` long. */
function ownCopy(group: RowGroup): RowGroup {
  const { rows } = group;
  const columns = group.columns.map((column): ColumnData => {
    switch (column.kind) {
      case 'timestamp':
        return { ...column, ms: column.ms.slice(0, rows) };
      case 'string':
        return { ...column, codes: column.codes.slice(0, rows) };
      case 'float64':
        return {
          ...column,
          values: column.values.slice(0, rows),
          ...(column.valid && { valid: column.valid.slice(0, rows) }),
        };
    }
  });
  return { rows, columns };
}

/** The distinct buffers of a copied row group's columns, to move to the encoder thread. */
function buffersOf(group: RowGroup): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const column of group.columns) {
    const arrays =
      column.kind === 'timestamp'
        ? [column.ms]
        : column.kind === 'string'
          ? [column.codes]
          : [column.values, column.valid];
    for (const a of arrays) if (a) buffers.add(a.buffer as ArrayBuffer);
  }
  return [...buffers];
}
