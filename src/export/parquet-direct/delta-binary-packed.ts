import type { ByteSink } from './byte-sink.js';
import { bitPack } from './rle-hybrid.js';

const BLOCK = 128;
const MINIBLOCKS = 4;
const MINIBLOCK = BLOCK / MINIBLOCKS;
/** Widest bit packing `bitPack` keeps exact; wider deltas go PLAIN. */
const MAX_WIDTH = 44;
const LIMIT = 2 ** MAX_WIDTH;
const UINT32_END = 2 ** 32;

/**
 * DELTA_BINARY_PACKED (Encodings.md) of integer-valued doubles: blocks of 128 deltas, each less
 * its block's smallest delta, in 4 bit-packed miniblocks of 32. Within a row group timestamps
 * climb by the step over each series' run, so most miniblocks have width 0 and cost one byte
 * per 32 rows. Returns false, leaving `out` as it was, where a delta needs more than 44 bits
 * (timestamps over 500 years apart), for the caller to write PLAIN instead.
 */
export function deltaBinaryPacked(out: ByteSink, values: Float64Array, count: number): boolean {
  const initial = out.length;
  const block = new Float64Array(BLOCK);
  out.varint(BLOCK);
  out.varint(MINIBLOCKS);
  out.varint(count);
  out.varint(zigzag(count > 0 ? values[0]! : 0));
  for (let start = 1; start < count; start += BLOCK) {
    const n = Math.min(BLOCK, count - start);
    let min = Infinity;
    for (let i = 0; i < n; i++) {
      const delta = values[start + i]! - values[start + i - 1]!;
      block[i] = delta;
      if (delta < min) min = delta;
    }
    out.varint(zigzag(min));
    const widthsAt = out.length;
    out.reserve(MINIBLOCKS);
    out.length += MINIBLOCKS;
    for (let m = 0; m < MINIBLOCKS; m++) {
      const from = m * MINIBLOCK;
      const to = Math.min(from + MINIBLOCK, n);
      let max = 0;
      for (let i = from; i < to; i++) {
        const v = block[i]! - min;
        block[i] = v;
        if (v > max) max = v;
      }
      if (max >= LIMIT) {
        out.length = initial;
        return false;
      }
      let width = 32 - Math.clz32(max);
      if (max >= UINT32_END) {
        width = 33;
        while (max >= 2 ** width) width++;
      }
      out.bytes[widthsAt + m] = width;
      // Miniblocks past the last value have no body (their widths are written, as zeros).
      if (from < n) bitPack(out, block, from, to - from, MINIBLOCK, width);
    }
  }
  return true;
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}
