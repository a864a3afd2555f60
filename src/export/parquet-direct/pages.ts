import type { Float64Column, StringColumn, TimestampColumn } from '../row-group.js';
import { ByteSink } from './byte-sink.js';
import { deltaBinaryPacked } from './delta-binary-packed.js';
import { HybridEncoder, bitWidthFor } from './rle-hybrid.js';
import { CompactWriter } from './thrift-compact.js';

/** parquet.thrift's Encoding, PageType and Type values used here. */
export const Encoding = {
  PLAIN: 0,
  RLE: 3,
  DELTA_BINARY_PACKED: 5,
  RLE_DICTIONARY: 8,
  BYTE_STREAM_SPLIT: 9,
} as const;
export const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;
export const PhysicalType = { INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6 } as const;

export type Compress = (data: Uint8Array) => Uint8Array;

/** Min/max of a column chunk, PLAIN-encoded, and its null count. */
export interface ChunkStatistics {
  readonly nullCount: number;
  readonly min?: Uint8Array;
  readonly max?: Uint8Array;
}

/** One column chunk's pages (headers and compressed bodies), offsets relative to its start. */
export interface EncodedChunk {
  readonly pages: readonly Uint8Array[];
  readonly physicalType: number;
  readonly encodings: readonly number[];
  /** Rows, nulls included. */
  readonly numValues: number;
  readonly dictionaryPageOffset?: number;
  readonly dataPageOffset: number;
  readonly uncompressedSize: number;
  readonly compressedSize: number;
  readonly statistics?: ChunkStatistics;
}

/**
 * A tag column: a PLAIN dictionary page of the column's dictionary, then one data page of
 * definition levels and RLE_DICTIONARY indices. Both come from the runs of equal codes: given
 * `runStarts` (see RowGroup) one code is read a run, else one integer comparison a row. No
 * string is looked at per row, and the strings once per chunk.
 */
export function stringChunk(
  column: StringColumn,
  rows: number,
  compress: Compress,
  runStarts?: Int32Array,
): EncodedChunk {
  const { codes, dictionary } = column;
  const levels = new HybridEncoder(1);
  const indices = new HybridEncoder(bitWidthFor(Math.max(dictionary.length - 1, 0)));
  const size = dictionary.length;
  const run = (code: number, count: number): void => {
    if (code < 0) levels.run(0, count);
    else {
      if (code >= size) {
        throw new RangeError(`Column ${column.name}: code ${code} outside its dictionary.`);
      }
      levels.run(1, count);
      indices.run(code, count);
    }
  };
  if (runStarts) {
    for (let r = 0; r < runStarts.length; r++) {
      const start = runStarts[r]!;
      run(codes[start]!, (r + 1 < runStarts.length ? runStarts[r + 1]! : rows) - start);
    }
  } else {
    let i = 0;
    while (i < rows) {
      const code = codes[i]!;
      let end = i + 1;
      while (end < rows && codes[end] === code) end++;
      run(code, end - i);
      i = end;
    }
  }
  const dictionaryBody = plainStrings(dictionary);
  const idx = indices.finish();
  const data = pageBody(idx.length + 64);
  appendLevels(data, levels.finish());
  data.byte(bitWidthFor(Math.max(size - 1, 0)));
  data.append(idx);
  const dictionaryPage = page(PageType.DICTIONARY_PAGE, dictionaryBody, size, compress);
  const dataPage = page(PageType.DATA_PAGE, data.view(), rows, compress, Encoding.RLE_DICTIONARY);
  return {
    pages: [dictionaryPage.bytes, dataPage.bytes],
    physicalType: PhysicalType.BYTE_ARRAY,
    encodings: [Encoding.PLAIN, Encoding.RLE, Encoding.RLE_DICTIONARY],
    numValues: rows,
    dictionaryPageOffset: 0,
    dataPageOffset: dictionaryPage.bytes.length,
    uncompressedSize: dictionaryPage.uncompressed + dataPage.uncompressed,
    compressedSize: dictionaryPage.bytes.length + dataPage.bytes.length,
  };
}

/**
 * Timestamps: never null, DELTA_BINARY_PACKED int64 milliseconds (as the parquet-wasm path
 * writes them), PLAIN where deltas are too wide for it; with min/max.
 */
export function timestampChunk(
  column: TimestampColumn,
  rows: number,
  compress: Compress,
): EncodedChunk {
  const ms = column.ms;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < rows; i++) {
    const t = ms[i]!;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  const data = pageBody(rows * 3 + 64);
  appendLevels(data, allDefined(rows));
  const levelsEnd = data.length;
  let encoding: number = Encoding.DELTA_BINARY_PACKED;
  if (!deltaBinaryPacked(data, ms, rows)) {
    data.length = levelsEnd;
    encoding = Encoding.PLAIN;
    // Only for timestamps centuries apart: a BigInt a row is fine here.
    const words = new BigInt64Array(rows);
    for (let i = 0; i < rows; i++) words[i] = BigInt(ms[i]!);
    data.append(new Uint8Array(words.buffer));
  }
  const dataPage = page(PageType.DATA_PAGE, data.view(), rows, compress, encoding);
  return {
    pages: [dataPage.bytes],
    physicalType: PhysicalType.INT64,
    encodings:
      encoding === Encoding.PLAIN ? [Encoding.PLAIN, Encoding.RLE] : [Encoding.RLE, encoding],
    numValues: rows,
    dataPageOffset: 0,
    uncompressedSize: dataPage.uncompressed,
    compressedSize: dataPage.bytes.length,
    ...(rows > 0 && { statistics: { nullCount: 0, min: int64Bytes(min), max: int64Bytes(max) } }),
  };
}

/**
 * Doubles: BYTE_STREAM_SPLIT of the non-null values (all first bytes, then all second bytes...),
 * with min/max ignoring NaN (-0 as the minimum and +0 as the maximum of zeros, as the format
 * asks) and the null count.
 */
export function float64Chunk(
  column: Float64Column,
  rows: number,
  compress: Compress,
): EncodedChunk {
  const { values, valid } = column;
  const levels = new HybridEncoder(1);
  let present: Float64Array;
  if (valid) {
    present = new Float64Array(rows);
    let n = 0;
    let i = 0;
    while (i < rows) {
      const v = valid[i] !== 0;
      let end = i + 1;
      while (end < rows && (valid[end] !== 0) === v) end++;
      levels.run(v ? 1 : 0, end - i);
      if (v) for (let j = i; j < end; j++) present[n++] = values[j]!;
      i = end;
    }
    present = present.subarray(0, n);
  } else {
    levels.run(1, rows);
    present = values.subarray(0, rows);
  }
  const n = present.length;
  const data = pageBody(n * 8 + 16);
  appendLevels(data, levels.finish());
  data.reserve(n * 8);
  byteStreamSplit(present, data.bytes, data.length);
  data.length += n * 8;
  let min = Infinity;
  let max = -Infinity;
  let seen = false;
  for (let i = 0; i < n; i++) {
    const v = present[i]!;
    if (v !== v) continue;
    seen = true;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (seen && min === 0) min = -0;
  if (seen && max === 0) max = 0;
  const dataPage = page(
    PageType.DATA_PAGE,
    data.view(),
    rows,
    compress,
    Encoding.BYTE_STREAM_SPLIT,
  );
  return {
    pages: [dataPage.bytes],
    physicalType: PhysicalType.DOUBLE,
    encodings: [Encoding.RLE, Encoding.BYTE_STREAM_SPLIT],
    numValues: rows,
    dataPageOffset: 0,
    uncompressedSize: dataPage.uncompressed,
    compressedSize: dataPage.bytes.length,
    statistics: {
      nullCount: rows - n,
      ...(seen && { min: float64Bytes(min), max: float64Bytes(max) }),
    },
  };
}

/**
 * Writes byte `k` of every double to stream `k` (all first bytes, then all second bytes...) in
 * one pass, a double read as two little-endian words. Machines are little-endian (Node's
 * supported targets all are), so a word's low byte is the double's first.
 */
function byteStreamSplit(values: Float64Array, out: Uint8Array, at: number): void {
  const n = values.length;
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    out[at + i] = lo;
    out[at + n + i] = lo >>> 8;
    out[at + 2 * n + i] = lo >>> 16;
    out[at + 3 * n + i] = lo >>> 24;
    out[at + 4 * n + i] = hi;
    out[at + 5 * n + i] = hi >>> 8;
    out[at + 6 * n + i] = hi >>> 16;
    out[at + 7 * n + i] = hi >>> 24;
  }
}

/**
 * The data pages' bodies are built in one buffer, reused: `page` compresses a body into a new
 * array before the next one starts, and writers run on one thread. A fresh megabyte-sized array
 * a column chunk cost page faults and collections.
 */
const bodies = new ByteSink(1 << 16);

function pageBody(capacity: number): ByteSink {
  bodies.length = 0;
  bodies.reserve(capacity);
  return bodies;
}

/** A page: its Thrift header, then its zstd body. `uncompressed` counts the header too. */
function page(
  type: number,
  body: Uint8Array,
  numValues: number,
  compress: Compress,
  encoding: number = Encoding.PLAIN,
): { bytes: Uint8Array; uncompressed: number } {
  const compressed = compress(body);
  const w = new CompactWriter().i32(1, type).i32(2, body.length).i32(3, compressed.length);
  if (type === PageType.DICTIONARY_PAGE) {
    w.struct(7, (d) => d.i32(1, numValues).i32(2, Encoding.PLAIN));
  } else {
    w.struct(5, (d) =>
      d.i32(1, numValues).i32(2, encoding).i32(3, Encoding.RLE).i32(4, Encoding.RLE),
    );
  }
  const header = w.stop().finish();
  const bytes = new Uint8Array(header.length + compressed.length);
  bytes.set(header);
  bytes.set(compressed, header.length);
  return { bytes, uncompressed: header.length + body.length };
}

/** Data page v1 definition levels: a 4-byte length, then the hybrid-encoded levels. */
function appendLevels(sink: ByteSink, levels: Uint8Array): void {
  sink.uintLE(levels.length, 4);
  sink.append(levels);
}

function allDefined(rows: number): Uint8Array {
  const levels = new HybridEncoder(1);
  levels.run(1, rows);
  return levels.finish();
}

/**
 * PLAIN byte arrays: each string's UTF-8 length, then its bytes. Written straight into one
 * buffer sized for the worst case (3 bytes a UTF-16 unit): a dictionary can hold thousands of
 * strings a row group, and an array per string cost more than the encoding.
 */
function plainStrings(dictionary: readonly string[]): Uint8Array {
  let capacity = 0;
  for (const text of dictionary) capacity += 4 + text.length * 3;
  const out = Buffer.allocUnsafe(capacity);
  let at = 0;
  for (const text of dictionary) {
    const written = out.write(text, at + 4, 'utf8');
    out.writeUInt32LE(written, at);
    at += 4 + written;
  }
  return out.subarray(0, at);
}

function int64Bytes(ms: number): Uint8Array {
  return new Uint8Array(new BigInt64Array([BigInt(ms)]).buffer);
}

function float64Bytes(v: number): Uint8Array {
  return new Uint8Array(new Float64Array([v]).buffer);
}
