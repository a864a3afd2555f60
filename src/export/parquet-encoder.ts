import * as arrow from 'apache-arrow';
import {
  Compression,
  Encoding,
  EnabledStatistics,
  Table as WasmTable,
  WriterPropertiesBuilder,
  transformParquetStream,
  type RecordBatch,
  type WriterProperties,
} from 'parquet-wasm';
import { YoungGarbageCollector } from '../core/young-garbage.js';
import { Handoff } from './handoff.js';
import { checkSchema, type ColumnData, type ColumnSpec, type RowGroup } from './row-group.js';

export interface ParquetEncoderOptions {
  /** Rows per row group; each `write` should hand at most this many. */
  rowGroupRows: number;
  /** Written as the file's `created_by`, e.g. `promflux 0.3.0`. */
  createdBy: string;
}

const UTC_MS = new arrow.TimestampMillisecond('UTC');
const TWO_POW_32 = 4_294_967_296;

/**
 * A row group leaves garbage outside the JS heap: its arrays, the Arrow buffers and the IPC stream
 * that carry it into wasm, a few MB each. V8 schedules collections by JS-heap allocation, so
 * without help tens of MB of them waited. A young-generation collection every 8 MB of them
 * (about every row group; 1-2 ms each) frees them.
 */
const garbage = new YoungGarbageCollector(8 * 1024 * 1024);

/**
 * Encodes row groups into Parquet bytes through parquet-wasm's streaming writer: zstd,
 * dictionary-encoded strings, BYTE_STREAM_SPLIT doubles, delta-encoded timestamps as
 * TIMESTAMP(MILLIS, isAdjustedToUTC), min/max statistics per column chunk of the timestamps and
 * values (enough to skip row groups by time or value). Bytes go to `output` in order, as the
 * writer produces them. Memory holds about one row group at a time. The same row groups give the
 * same bytes. Every column's Arrow type is fixed by `columns`, so an all-null column is typed.
 *
 * CPU-bound: the export runs it in a worker thread (parquet-worker.ts).
 */
export class ParquetEncoder {
  private readonly input = new Handoff<RecordBatch>();
  private readonly drained: Promise<void>;
  private failure: Error | undefined;

  constructor(
    private readonly columns: readonly ColumnSpec[],
    options: ParquetEncoderOptions,
    output: (chunk: Uint8Array) => void,
  ) {
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
    const stream = transformParquetStream(batches, writerProperties(columns, options));
    this.drained = (async () => {
      for await (const chunk of (await stream) as ReadableStream<Uint8Array>) output(chunk);
    })();
    // A failed writer rejects the pending and the next `write`; `close` rethrows it.
    this.drained.catch((error: unknown) => {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.input.fail(this.failure);
    });
  }

  /** Resolves once the writer took the row group (it encodes it while the next one comes). */
  async write(group: RowGroup): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (group.rows === 0) return;
    const batches = toRecordBatches(group, this.columns);
    // Now, not after the writer took them: the next row group may be here already.
    garbage.add(group.rows * this.columns.length * 8);
    for (const batch of batches) await this.input.put(batch);
  }

  /** Resolves once every byte of the file went to `output`. */
  async close(): Promise<void> {
    this.input.end();
    await this.drained;
  }

  async abort(): Promise<void> {
    this.input.fail(new Error('Parquet file aborted.'));
    await this.drained.catch(() => undefined);
  }
}

function writerProperties(
  columns: readonly ColumnSpec[],
  options: ParquetEncoderOptions,
): WriterProperties {
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
  // No statistics for tag columns: the writer compares every row's string for them (~40% of a
  // string column's cost), and they would prune nothing, since rows come a chunk of each series
  // after the other, so every row group spans nearly every tag value.
  for (const { name } of columns.filter((c) => c.kind === 'string')) {
    builder = builder.setColumnStatisticsEnabled(name, EnabledStatistics.None);
  }
  return builder.build();
}

/** The Arrow record batches (normally one) of a row group, moved into wasm memory. */
function toRecordBatches(group: RowGroup, specs: readonly ColumnSpec[]): RecordBatch[] {
  checkSchema(group, specs);
  const vectors: Record<string, arrow.Vector> = {};
  group.columns.forEach((column, i) => {
    // Arrow needs a dictionary id per column; the column's index is one.
    vectors[column.name] = arrow.makeVector(arrowData(column, group.rows, i));
  });
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
