import type { ByteSink } from './byte-sink.js';
import { bitPack } from './rle-hybrid.js';

const BLOCK = 128;
const MINIBLOCKS = 4;
const MINIBLOCK = BLOCK / MINIBLOCKS;
/** Widest bit packing `bitPack` keeps exact; wider deltas go PLAIN. */
const MAX_WIDTH = 44;

/**
 * DELTA_BINARY_PACKED (Encodings.md) of integer-valued doubles: blocks of 128 deltas, each less
 * its block's smallest delta, in 4 bit-packed miniblocks of 32. Within a row group timestamps
 * climb by the step over each series' run, so most miniblocks have width 0 and cost one byte
 * per 32 rows. Returns false, writing nothing, where a delta needs more than 44 bits (timestamps
 * over 500 years apart), for the caller to write PLAIN instead.
 */
export function deltaBinaryPacked(out: ByteSink, values: Float64Array, count: number): boolean {
  const deltas = new Float64Array(Math.max(count - 1, 0));
  for (let i = 1; i < count; i++) deltas[i - 1] = values[i]! - values[i - 1]!;
  const widths = new Uint8Array(MINIBLOCKS);
  const mins = new Float64Array(Math.ceil(deltas.length / BLOCK));
  for (let b = 0; b < mins.length; b++) {
    const start = b * BLOCK;
    const end = Math.min(start + BLOCK, deltas.length);
    let min = Infinity;
    for (let i = start; i < end; i++) if (deltas[i]! < min) min = deltas[i]!;
    mins[b] = min;
    for (let i = start; i < end; i++) {
      deltas[i] = deltas[i]! - min;
      if (deltas[i]! >= 2 ** MAX_WIDTH) return false;
    }
  }
  out.varint(BLOCK);
  out.varint(MINIBLOCKS);
  out.varint(count);
  out.varint(zigzag(count > 0 ? values[0]! : 0));
  for (let b = 0; b < mins.length; b++) {
    const start = b * BLOCK;
    const end = Math.min(start + BLOCK, deltas.length);
    out.varint(zigzag(mins[b]!));
    widths.fill(0);
    for (let m = 0; m < MINIBLOCKS; m++) {
      const from = start + m * MINIBLOCK;
      let max = 0;
      for (let i = from; i < Math.min(from + MINIBLOCK, end); i++)
        if (deltas[i]! > max) max = deltas[i]!;
      let width = 0;
      while (max >= 2 ** width) width++;
      widths[m] = width;
    }
    for (let m = 0; m < MINIBLOCKS; m++) out.byte(widths[m]!);
    // Miniblocks past the last value have no body (their widths are written, as zeros).
    for (let m = 0; m < MINIBLOCKS; m++) {
      const from = start + m * MINIBLOCK;
      if (from >= end) break;
      bitPack(out, deltas, from, Math.min(MINIBLOCK, end - from), MINIBLOCK, widths[m]!);
    }
  }
  return true;
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}
