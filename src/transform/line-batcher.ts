import type { BufferPool } from '../core/buffer-pool.js';
import type { SeriesBlock } from '../core/series.js';
import type { LineBatch, Precision } from '../core/line-batch.js';
import { IntegerWriter, writeFloatAt } from './line-protocol.js';

/**
 * Encodes series columns into line-protocol batches of at most `batchSize` lines, straight into a
 * Buffer: the series prefix bytes are copied once per line, numbers are written as ASCII digits
 * without intermediate strings where possible. A full batch is handed to `emit` and a fresh buffer
 * started (the sink owns the emitted one until its write settles).
 */
export class LineBatcher {
  private buf: Buffer;
  private length = 0;
  private lines = 0;
  private precision: Precision = 's';
  private readonly batchSize: number;
  private readonly query: string;
  private readonly emit: (batch: LineBatch) => void;
  private bytesPerLine = 96;
  private readonly timestamps = new IntegerWriter();

  private readonly pool: BufferPool | undefined;

  /** With a `pool`, batch buffers come from it and each emitted batch's `release` returns it. */
  constructor(opts: {
    batchSize: number;
    query: string;
    emit: (batch: LineBatch) => void;
    pool?: BufferPool;
  }) {
    this.batchSize = opts.batchSize;
    this.query = opts.query;
    this.emit = opts.emit;
    this.pool = opts.pool;
    this.buf = NO_BUFFER;
  }

  /**
   * Appends one line per sample of the block: `<prefix><value> <timestamp>\n`. `prefix` is the
   * encoded series through the field key's `=` (see encodeSeriesPrefix), as UTF-8 bytes. Values
   * are copied from the columns' `valueText` where it has their spelling, else formatted.
   */
  append(prefix: Uint8Array, block: SeriesBlock): void {
    const { timestampsMs, values, valueText } = block.columns;
    const length = block.offset + block.length;
    let i = block.offset;
    if (i === length) return;
    const precision = coarsestPrecision(timestampsMs, i, length);
    if (precision !== this.precision && this.lines > 0) this.flush();
    this.precision = precision;
    const divisor = precision === 's' ? 1000 : 1;
    // prefix + value (a copied spelling is < 256 bytes, a formatted one <= 24) + space +
    // timestamp (<= 16 digits) + newline
    const maxLine = prefix.length + 256 + 18;
    const prefixLength = prefix.length;
    const timestamps = this.timestamps;
    const textBytes = valueText?.bytes;
    const textStart = valueText?.start;
    const textLength = valueText?.length;
    while (i < length) {
      if (this.length + maxLine > this.buf.length) this.grow(maxLine);
      // As many lines as surely fit the buffer and the batch, written without further checks.
      const out = this.buf;
      const run = Math.min(
        length - i,
        this.batchSize - this.lines,
        Math.floor((out.length - this.length) / maxLine),
      );
      const runEnd = i + run;
      let off = this.length;
      for (; i < runEnd; i++) {
        out.set(prefix, off);
        off += prefixLength;
        const spelled = textLength === undefined ? 0 : textLength[i]!;
        if (spelled !== 0) {
          // A byte loop: for a dozen bytes it beats set(subarray()), which allocates a view.
          let from = textStart![i]!;
          const to = from + spelled;
          while (from < to) out[off++] = textBytes![from++]!;
        } else {
          off = writeFloatAt(out, off, values, i);
        }
        out[off++] = 0x20;
        off = timestamps.write(out, off, timestampsMs[i]! / divisor);
        out[off++] = 0x0a;
      }
      this.length = off;
      this.lines += run;
      if (this.lines >= this.batchSize) this.flush();
    }
  }

  /**
   * Appends one line that is not a sample of a block (a rollup window): `write(buf, offset, arg)`
   * writes it up to the timestamp, at most `maxBytes` bytes, and returns the offset after it; the
   * batcher adds ` <timestamp>\n`, the timestamp being `timestampsMs[index]` (read from an array
   * rather than passed: a double argument of a call that is not inlined is boxed, a heap number
   * per line).
   */
  appendLine<A>(
    maxBytes: number,
    timestampsMs: Float64Array,
    index: number,
    write: (buf: Buffer, offset: number, arg: A) => number,
    arg: A,
  ): void {
    const timestampMs = timestampsMs[index]!;
    const precision = Math.floor(timestampMs / 1000) * 1000 === timestampMs ? 's' : 'ms';
    if (precision !== this.precision && this.lines > 0) this.flush();
    this.precision = precision;
    const maxLine = maxBytes + 18;
    if (this.length + maxLine > this.buf.length) this.grow(maxLine);
    const out = this.buf;
    let off = write(out, this.length, arg);
    out[off++] = 0x20;
    off = this.timestamps.write(out, off, precision === 's' ? timestampMs / 1000 : timestampMs);
    out[off++] = 0x0a;
    this.length = off;
    if (++this.lines >= this.batchSize) this.flush();
  }

  /** Emits the pending lines, if any, as a batch. */
  flush(): void {
    if (this.lines === 0) return;
    this.bytesPerLine = this.averageLineBytes();
    const full = this.buf;
    const pool = this.pool;
    const batch: LineBatch = {
      body: full.subarray(0, this.length),
      lines: this.lines,
      precision: this.precision,
      query: this.query,
      ...(pool && { release: () => pool.release(full) }),
    };
    // The next buffer is taken when a line comes: a tier that flushes at a chunk's end (rollups)
    // holds none between chunks, and the pool has the emitted one back by then.
    this.buf = NO_BUFFER;
    this.length = 0;
    this.lines = 0;
    this.emit(batch);
  }

  get pendingLines(): number {
    return this.lines;
  }

  private averageLineBytes(): number {
    return Math.max(32, Math.ceil(this.length / this.lines));
  }

  /** A buffer for a whole batch of lines of this size (and a little more). */
  private batchBytes(bytesPerLine: number): number {
    return Math.ceil(this.batchSize * bytesPerLine * 1.1) + 64;
  }

  private allocate(size: number): Buffer {
    return this.pool ? this.pool.acquire(size) : Buffer.allocUnsafe(size);
  }

  /**
   * To what the whole batch needs at the average line so far, not to double: a first guess of
   * half the lines' size (rollup windows) doubled twice, to 4× the first buffer.
   */
  private grow(atLeast: number): void {
    const batchBytes = this.batchBytes(
      this.lines > 0 ? this.averageLineBytes() : this.bytesPerLine,
    );
    const size = Math.max(this.buf.length + (this.buf.length >> 2), batchBytes);
    const next = this.allocate(Math.max(size, this.length + atLeast));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
}

/** The batcher's buffer between a flush and the next line: none. */
const NO_BUFFER = Buffer.alloc(0);

/**
 * Seconds when every timestamp in `[from, to)` is a whole second (the usual case on a step grid),
 * else ms.
 */
export function coarsestPrecision(timestampsMs: Float64Array, from: number, to: number): Precision {
  for (let i = from; i < to; i++) {
    const ms = timestampsMs[i]!;
    // Not `ms % 1000`: on doubles V8 calls fmod, which made this loop an eighth of encoding.
    if (Math.floor(ms / 1000) * 1000 !== ms) return 'ms';
  }
  return 's';
}
