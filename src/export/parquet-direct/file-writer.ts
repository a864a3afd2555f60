import {
  checkRunStarts,
  checkSchema,
  type ColumnData,
  type ColumnSpec,
  type RowGroup,
} from '../row-group.js';
import {
  float64Chunk,
  stringChunk,
  timestampChunk,
  type Compress,
  type EncodedChunk,
} from './pages.js';
import { arrowSchemaEntry } from './arrow-schema.js';
import { CompactWriter } from './thrift-compact.js';
import { loadZstd, zstd } from './zstd.js';

export interface DirectParquetOptions {
  /** Written as the file's `created_by`, e.g. `promflux 0.3.0`. */
  createdBy: string;
}

const MAGIC = new TextEncoder().encode('PAR1');
const ZSTD_CODEC = 6;
const REPETITION_OPTIONAL = 1;
const CONVERTED_UTF8 = 0;
const CONVERTED_TIMESTAMP_MILLIS = 9;

interface ChunkRecord {
  readonly name: string;
  readonly chunk: EncodedChunk;
  /** Absolute file offset of the chunk's first page. */
  readonly offset: number;
}

interface GroupRecord {
  readonly rows: number;
  readonly chunks: readonly ChunkRecord[];
}

/**
 * Writes Parquet for the export's row groups (timestamp, string tags, float64 values) straight
 * from their typed arrays: no Arrow, no IPC, no per-row string hashing. The schema is what the
 * parquet-wasm path writes (every column OPTIONAL; TIMESTAMP(MILLIS, UTC) int64; STRING
 * byte arrays, dictionary-encoded; BYTE_STREAM_SPLIT doubles; zstd; min/max statistics on
 * timestamps and values only), one dictionary page and one data page per column chunk.
 * Synchronous once created; bytes go to `output` in file order, a row group at a time.
 */
export class DirectParquetWriter {
  private offset = 0;
  private readonly groups: GroupRecord[] = [];
  private closed = false;

  static async create(
    columns: readonly ColumnSpec[],
    options: DirectParquetOptions,
    output: (chunk: Uint8Array) => void,
    compress: Compress = zstd,
  ): Promise<DirectParquetWriter> {
    await loadZstd();
    return new DirectParquetWriter(columns, options, output, compress);
  }

  private constructor(
    private readonly columns: readonly ColumnSpec[],
    private readonly options: DirectParquetOptions,
    private readonly output: (chunk: Uint8Array) => void,
    private readonly compress: Compress,
  ) {
    this.emit(MAGIC);
  }

  write(group: RowGroup): void {
    if (this.closed) throw new Error('Parquet file already closed.');
    checkSchema(group, this.columns);
    checkRunStarts(group);
    if (group.rows === 0) return;
    const chunks: ChunkRecord[] = [];
    for (const column of group.columns) {
      const chunk = this.encode(column, group.rows, group.runStarts);
      chunks.push({ name: column.name, chunk, offset: this.offset });
      for (const page of chunk.pages) this.emit(page);
    }
    this.groups.push({ rows: group.rows, chunks });
  }

  /** Writes the footer; the file is complete once this returns. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const footer = this.fileMetaData();
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footer.length, true);
    tail.set(MAGIC, 4);
    this.emit(footer);
    this.emit(tail);
  }

  private encode(column: ColumnData, rows: number, runStarts?: Int32Array): EncodedChunk {
    switch (column.kind) {
      case 'timestamp':
        return timestampChunk(column, rows, this.compress);
      case 'string':
        return stringChunk(column, rows, this.compress, runStarts);
      case 'float64':
        return float64Chunk(column, rows, this.compress);
    }
  }

  private emit(bytes: Uint8Array): void {
    this.offset += bytes.length;
    this.output(bytes);
  }

  private fileMetaData(): Uint8Array {
    const w = new CompactWriter();
    w.i32(1, 1);
    w.structList(2, [undefined, ...this.columns], (s, spec) => {
      if (!spec) {
        s.string(4, 'schema').i32(5, this.columns.length);
        return;
      }
      schemaElement(s, spec);
    });
    w.i64(
      3,
      this.groups.reduce((n, g) => n + g.rows, 0),
    );
    w.structList(4, this.groups, (r, group) => {
      r.structList(1, group.chunks, (c, { name, chunk, offset }) => {
        c.i64(2, 0);
        c.struct(3, (m) => columnMetaData(m, name, chunk, offset));
      });
      r.i64(
        2,
        group.chunks.reduce((n, c) => n + c.chunk.uncompressedSize, 0),
      );
      r.i64(3, group.rows);
      r.i64(5, group.chunks[0]!.offset);
      r.i64(
        6,
        group.chunks.reduce((n, c) => n + c.chunk.compressedSize, 0),
      );
    });
    w.structList(5, [arrowSchemaEntry(this.columns)], (kv, { key, value }) =>
      kv.string(1, key).string(2, value),
    );
    w.string(6, this.options.createdBy);
    // Every column sorts by its type's order (TypeDefinedOrder), so readers trust min/max.
    w.structList(7, this.columns, (o) => o.struct(1, () => undefined));
    return w.stop().finish();
  }
}

function schemaElement(s: CompactWriter, spec: ColumnSpec): void {
  switch (spec.kind) {
    case 'timestamp':
      s.i32(1, 2)
        .i32(3, REPETITION_OPTIONAL)
        .string(4, spec.name)
        .i32(6, CONVERTED_TIMESTAMP_MILLIS)
        .struct(10, (l) =>
          l.struct(8, (t) => t.bool(1, true).struct(2, (u) => u.struct(1, () => undefined))),
        );
      return;
    case 'string':
      s.i32(1, 6)
        .i32(3, REPETITION_OPTIONAL)
        .string(4, spec.name)
        .i32(6, CONVERTED_UTF8)
        .struct(10, (l) => l.struct(1, () => undefined));
      return;
    case 'float64':
      s.i32(1, 5).i32(3, REPETITION_OPTIONAL).string(4, spec.name);
      return;
  }
}

function columnMetaData(m: CompactWriter, name: string, chunk: EncodedChunk, offset: number) {
  m.i32(1, chunk.physicalType)
    .i32List(2, chunk.encodings)
    .stringList(3, [name])
    .i32(4, ZSTD_CODEC)
    .i64(5, chunk.numValues)
    .i64(6, chunk.uncompressedSize)
    .i64(7, chunk.compressedSize)
    .i64(9, offset + chunk.dataPageOffset);
  if (chunk.dictionaryPageOffset !== undefined) m.i64(11, offset + chunk.dictionaryPageOffset);
  const stats = chunk.statistics;
  if (stats) {
    m.struct(12, (st) => {
      // The deprecated max/min (1, 2) too, for older readers: signed order is right for both.
      if (stats.max) st.binary(1, stats.max);
      if (stats.min) st.binary(2, stats.min);
      st.i64(3, stats.nullCount);
      if (stats.max) st.binary(5, stats.max);
      if (stats.min) st.binary(6, stats.min);
    });
  }
}
