import { createHash } from 'node:crypto';
import { rm, type FileHandle } from 'node:fs/promises';
import { openPrivateFile } from '../core/private-file.js';
import * as arrow from 'apache-arrow';
import {
  Compression,
  Encoding,
  EnabledStatistics,
  Table as WasmTable,
  WriterPropertiesBuilder,
  transformParquetStream,
  type RecordBatch,
} from 'parquet-wasm';
import { YoungGarbageCollector } from '../core/young-garbage.js';
import type { ColumnData, ColumnSpec, RowGroup, RowGroupFile, WriteCounter } from './row-group.js';

export interface ParquetFileOptions {
  /** Rows per row group; each `write` should hand at most this many. */
  rowGroupRows: number;
  /** Written as the file's `created_by`, e.g. `promflux 0.3.0`. */
  createdBy: string;
  /** Counts the bytes written (progress). */
  written?: WriteCounter;
}

const UTC_MS = new arrow.TimestampMillisecond('UTC');

/**
 * A row group leaves garbage outside the JS heap: the Arrow buffers and the IPC stream that carry
 * it into wasm, a few MB each. V8 schedules collections by JS-heap allocation, so without help
 * tens of MB of them waited. A young-generation collection every 16 MB of them (about every third
 * row group) frees them: peak RSS of a 1M-sample export 200 → 177 MB; the 10M-sample bench export
 * now peaks at 217-219 MB (247-284 MB before this and the byte-stream-split doubles).
 */
const garbage = new YoungGarbageCollector(16 * 1024 * 1024);
const TWO_POW_32 = 4_294_967_296;

/**
 * A Parquet file written row group by row group, through parquet-wasm's streaming writer: zstd,
 * dictionary-encoded strings, BYTE_STREAM_SPLIT doubles, delta-encoded timestamps as
 * TIMESTAMP(MILLIS, isAdjustedToUTC), min/max statistics per column chunk (enough to skip row
 * groups by time; page-level statistics cost 13% more time for no pruning we need).
 * Memory holds about one row group at a time.
 * All of it reads with DuckDB, pandas/pyarrow, Polars and Spark 3.2+ (BYTE_STREAM_SPLIT doubles).
 * Every column's Arrow type is fixed by `columns`, so an all-null column is still typed.
 */
export class ParquetFile implements RowGroupFile {
  private readonly input = new Handoff<RecordBatch>();
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private readonly drained: Promise<void>;
  private failure: Error | undefined;

  private constructor(
    private readonly path: string,
    private readonly file: FileHandle,
    private readonly columns: readonly ColumnSpec[],
    private readonly options: ParquetFileOptions,
  ) {
    let builder = new WriterPropertiesBuilder()
      .setCompression(Compression.ZSTD)
      .setMaxRowGroupSize(options.rowGroupRows)
      .setCreatedBy(options.createdBy)
      .setStatisticsEnabled(EnabledStatistics.Chunk);
    // Within a row group the timestamps climb by the step, series after series: delta encoding
    // stores that in a few bits a row, a dictionary in ten or more.
    for (const { name } of columns.filter((c) => c.kind === 'timestamp')) {
      builder = builder
        .setColumnDictionaryEnabled(name, false)
        .setColumnEncoding(name, Encoding.DELTA_BINARY_PACKED);
    }
    // Doubles as byte streams (the first bytes of every value, then the second...) rather than a
    // dictionary: zstd then finds the shared exponents and high mantissa bytes of a gauge's
    // values, where a dictionary of thousands of distinct values leaves 17-bit indices it cannot
    // compress (the bench fixture: 1.09 MB instead of 2.86 MB per 1M samples, as DuckDB's own).
    for (const { name } of columns.filter((c) => c.kind === 'float64')) {
      builder = builder
        .setColumnDictionaryEnabled(name, false)
        .setColumnEncoding(name, Encoding.BYTE_STREAM_SPLIT);
    }
    const properties = builder.build();
    const batches = new ReadableStream<RecordBatch>(
      {
        pull: async (controller) => {
          const next = await this.input.take();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
      },
      { highWaterMark: 0 },
    );
    this.drained = this.drain(
      transformParquetStream(batches, properties) as Promise<ReadableStream<Uint8Array>>,
    );
    // A failed drain rejects the pending and the next `write`; `close` rethrows it.
    this.drained.catch((error: unknown) => {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.input.fail(this.failure);
    });
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
    if (group.rows === 0) return;
    for (const batch of toRecordBatches(group, this.columns)) await this.input.put(batch);
    garbage.add(group.rows * this.columns.length * 8);
  }

  async close(): Promise<{ bytes: number; sha256: string }> {
    this.input.end();
    try {
      await this.drained;
      await this.file.sync();
    } finally {
      await this.file.close();
    }
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    this.input.fail(new Error('Parquet file aborted.'));
    await this.drained.catch(() => undefined);
    await this.file.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }

  private async drain(output: Promise<ReadableStream<Uint8Array>>): Promise<void> {
    for await (const chunk of await output) {
      this.hash.update(chunk);
      this.bytes += chunk.byteLength;
      await this.file.write(chunk);
      if (this.options.written) this.options.written.bytes += chunk.byteLength;
    }
  }
}

/** The Arrow record batches (normally one) of a row group, moved into wasm memory. */
function toRecordBatches(group: RowGroup, specs: readonly ColumnSpec[]): RecordBatch[] {
  const vectors: Record<string, arrow.Vector> = {};
  group.columns.forEach((column, i) => {
    const spec = specs[i];
    if (!spec || spec.name !== column.name || spec.kind !== column.kind) {
      throw new RangeError(
        `Row group column ${i} (${column.name}) does not match the file schema.`,
      );
    }
    // Arrow needs a dictionary id per column; the column's index is one.
    vectors[column.name] = arrow.makeVector(arrowData(column, group.rows, i));
  });
  if (group.columns.length !== specs.length) {
    throw new RangeError('A row group has fewer columns than the file schema.');
  }
  const ipc = arrow.tableToIPC(new arrow.Table(vectors), 'stream');
  const table = WasmTable.fromIPCStream(ipc);
  try {
    return table.recordBatches();
  } finally {
    table.free();
  }
}

function arrowData(column: ColumnData, rows: number, dictionaryId: number): arrow.Data {
  switch (column.kind) {
    case 'timestamp':
      return arrow.makeData({ type: UTC_MS, length: rows, data: int64Millis(column.ms, rows) });
    case 'float64': {
      const nullBitmap = column.valid && bitmap(rows, (i) => column.valid![i] !== 0);
      return arrow.makeData({
        type: new arrow.Float64(),
        length: rows,
        data: column.values.subarray(0, rows),
        ...(nullBitmap && { nullBitmap }),
      });
    }
    case 'string': {
      const codes = column.codes.subarray(0, rows);
      const dictionary = arrow.vectorFromArray(column.dictionary as string[], new arrow.Utf8());
      const type = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32(), dictionaryId);
      const hasNull = codes.some((c) => c < 0);
      const nullBitmap = hasNull ? bitmap(rows, (i) => codes[i]! >= 0) : undefined;
      // Arrow reads the code of a null row anyway: keep it a valid index.
      const safeCodes = hasNull ? codes.map((c) => Math.max(c, 0)) : codes;
      if (column.dictionary.length === 0 && rows > 0) {
        return arrow.makeData({
          type,
          length: rows,
          data: new Int32Array(rows),
          dictionary: arrow.vectorFromArray([''], new arrow.Utf8()),
          nullBitmap: new Uint8Array(Math.ceil(rows / 8)),
        });
      }
      return arrow.makeData({
        type,
        length: rows,
        data: safeCodes,
        dictionary,
        ...(nullBitmap && { nullBitmap }),
      });
    }
  }
}

/** Float64 milliseconds as little-endian int64 words, without a BigInt per value. */
function int64Millis(ms: Float64Array, rows: number): BigInt64Array {
  const words = new Int32Array(rows * 2);
  for (let i = 0; i < rows; i++) {
    const t = ms[i]!;
    const high = Math.floor(t / TWO_POW_32);
    words[2 * i] = t - high * TWO_POW_32;
    words[2 * i + 1] = high;
  }
  return new BigInt64Array(words.buffer);
}

function bitmap(rows: number, isValid: (i: number) => boolean): Uint8Array {
  const bits = new Uint8Array(Math.ceil(rows / 8));
  for (let i = 0; i < rows; i++) if (isValid(i)) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}

/**
 * A one-slot rendezvous between `write` (producer) and the Parquet stream's `pull` (consumer), so
 * at most one record batch waits outside the writer.
 */
class Handoff<T> {
  private slot: { value: T; taken: () => void; failed: (e: Error) => void } | undefined;
  private taker: ((next: IteratorResult<T, undefined>) => void) | undefined;
  private ended = false;
  private error: Error | undefined;

  put(value: T): Promise<void> {
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.taker) {
      const taker = this.taker;
      this.taker = undefined;
      taker({ value, done: false });
      return Promise.resolve();
    }
    return new Promise((taken, failed) => {
      this.slot = { value, taken, failed };
    });
  }

  take(): Promise<IteratorResult<T, undefined>> {
    const slot = this.slot;
    if (slot) {
      this.slot = undefined;
      slot.taken();
      return Promise.resolve({ value: slot.value, done: false });
    }
    if (this.ended || this.error !== undefined)
      return Promise.resolve({ value: undefined, done: true });
    return new Promise((taker) => {
      this.taker = taker;
    });
  }

  end(): void {
    this.ended = true;
    this.release();
  }

  fail(error: Error): void {
    this.error ??= error;
    this.slot?.failed(error);
    this.slot = undefined;
    this.release();
  }

  private release(): void {
    const taker = this.taker;
    this.taker = undefined;
    taker?.({ value: undefined, done: true });
  }
}
