import { ByteSink } from './byte-sink.js';

/** Runs at least this long are RLE runs; shorter ones join the bit-packed literals. */
const MIN_RLE_RUN = 8;

/**
 * Parquet's RLE / bit-packed hybrid encoding (Encodings.md), fed runs rather than values: a
 * tag column holds one dictionary index over each series' rows, so a row group is a few hundred
 * runs, not 131,072 values to hash. Long runs become RLE runs; short ones are gathered into
 * bit-packed groups of 8. Bit-packed runs must hold a multiple of 8 values except the last one
 * of the data, so before an RLE run the literals are topped up to a multiple of 8 from it.
 * The output carries no length prefix.
 */
export class HybridEncoder {
  private readonly out = new ByteSink();
  private literals = new Int32Array(64);
  private literalCount = 0;
  private readonly valueBytes: number;
  private pendingValue = 0;
  private pendingCount = 0;

  constructor(private readonly bitWidth: number) {
    if (!Number.isInteger(bitWidth) || bitWidth < 0 || bitWidth > 32) {
      throw new RangeError(`Bit width must be 0..32 (got ${bitWidth}).`);
    }
    this.valueBytes = Math.ceil(bitWidth / 8);
  }

  /** Appends `count` repetitions of `value` (0 <= value < 2^bitWidth). */
  run(value: number, count: number): void {
    if (count <= 0) return;
    if (value === this.pendingValue) {
      this.pendingCount += count;
      return;
    }
    this.emit(this.pendingValue, this.pendingCount);
    this.pendingValue = value;
    this.pendingCount = count;
  }

  finish(): Uint8Array {
    this.emit(this.pendingValue, this.pendingCount);
    this.pendingCount = 0;
    this.flushLiterals();
    return this.out.view();
  }

  private emit(value: number, count: number): void {
    let n = count;
    if (n <= 0) return;
    const topUp = (8 - (this.literalCount % 8)) % 8;
    if (n - topUp < MIN_RLE_RUN) {
      this.addLiterals(value, n);
      return;
    }
    this.addLiterals(value, topUp);
    n -= topUp;
    this.flushLiterals();
    this.out.varint(n * 2);
    this.out.uintLE(value, this.valueBytes);
  }

  private addLiterals(value: number, count: number): void {
    if (this.literalCount + count > this.literals.length) {
      const next = new Int32Array(Math.max(this.literals.length * 2, this.literalCount + count));
      next.set(this.literals.subarray(0, this.literalCount));
      this.literals = next;
    }
    this.literals.fill(value, this.literalCount, this.literalCount + count);
    this.literalCount += count;
  }

  /** Writes the literals as one bit-packed run, the last group padded with zeros. */
  private flushLiterals(): void {
    const count = this.literalCount;
    if (count === 0) return;
    const groups = Math.ceil(count / 8);
    this.out.varint(groups * 2 + 1);
    bitPack(this.out, this.literals, 0, count, groups * 8, this.bitWidth);
    this.literalCount = 0;
  }
}

/** Bits needed for values 0..max (at least 1: some readers mishandle width 0). */
export function bitWidthFor(max: number): number {
  let width = 1;
  while (max >= 2 ** width) width++;
  return width;
}

/**
 * Packs `values[start .. start+count)` at `width` bits each, least significant bit first, then
 * zeros up to `slots` values: the bit packing of the hybrid encoding and of DELTA_BINARY_PACKED.
 * Up to 24 bits a value fits a 32-bit accumulator with the (at most 7) bits not yet written;
 * wider values, up to 2^(53-8), go through a double, where 32-bit bitwise operators would not
 * stay exact.
 */
export function bitPack(
  out: ByteSink,
  values: ArrayLike<number>,
  start: number,
  count: number,
  slots: number,
  width: number,
): void {
  if (width === 0) return;
  const size = Math.ceil((slots * width) / 8);
  out.reserve(size);
  const bytes = out.bytes;
  let at = out.length;
  const end = at + size;
  let acc = 0;
  let bits = 0;
  if (width <= 24) {
    for (let i = start; i < start + count; i++) {
      acc |= values[i]! << bits;
      bits += width;
      while (bits >= 8) {
        bytes[at++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
  } else {
    for (let i = start; i < start + count; i++) {
      acc += values[i]! * 2 ** bits;
      bits += width;
      while (bits >= 8) {
        bytes[at++] = acc % 256;
        acc = Math.floor(acc / 256);
        bits -= 8;
      }
    }
  }
  // The slots past `count` are zeros: the last partial byte, then zero bytes.
  if (bits > 0) bytes[at++] = acc;
  bytes.fill(0, at, end);
  out.length = end;
}
