/**
 * DELTA_BINARY_PACKED and the bit packing under it, decoded by a plain reader written from
 * Encodings.md: every miniblock width from 0 to 44 bits (the narrow and the wide packing paths),
 * partial last blocks and miniblocks, and the refusal of wider deltas leaving the sink as it was.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../scripts/lib/openmetrics-fixture.js';
import { ByteSink } from '../../../src/export/parquet-direct/byte-sink.js';
import { deltaBinaryPacked } from '../../../src/export/parquet-direct/delta-binary-packed.js';
import { bitPack } from '../../../src/export/parquet-direct/rle-hybrid.js';

/** Reads an unsigned LEB128 varint, exact up to 2^53. */
function varint(bytes: Uint8Array, at: { i: number }): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const b = bytes[at.i++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 128;
  }
}

const unzigzag = (n: number) => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

/** `count` values of `width` bits, least significant bit first, from byte `at`. */
function unpack(bytes: Uint8Array, at: number, count: number, width: number): number[] {
  const out: number[] = [];
  for (let v = 0; v < count; v++) {
    let value = 0;
    for (let bit = 0; bit < width; bit++) {
      const pos = v * width + bit;
      if ((bytes[at + Math.floor(pos / 8)]! >> (pos % 8)) & 1) value += 2 ** bit;
    }
    out.push(value);
  }
  return out;
}

function decodeDelta(bytes: Uint8Array): { values: number[]; end: number } {
  const at = { i: 0 };
  const block = varint(bytes, at);
  const miniblocks = varint(bytes, at);
  const count = varint(bytes, at);
  const values = [unzigzag(varint(bytes, at))];
  const per = block / miniblocks;
  while (values.length < count) {
    const min = unzigzag(varint(bytes, at));
    const widths = [...bytes.subarray(at.i, at.i + miniblocks)];
    at.i += miniblocks;
    for (const width of widths) {
      if (values.length >= count) break;
      for (const d of unpack(bytes, at.i, per, width)) {
        if (values.length < count) values.push(values[values.length - 1]! + min + d);
      }
      at.i += (per * width) / 8;
    }
  }
  return { values: values.slice(0, count), end: at.i };
}

describe('deltaBinaryPacked', () => {
  it('round-trips deltas of every width from 0 to 44 bits, counts not a multiple of 128', () => {
    const random = mulberry32(44);
    for (let width = 0; width <= 44; width++) {
      for (const count of [1, 2, 33, 128, 129, 1000]) {
        const values = new Float64Array(count);
        values[0] = 1.7e12;
        for (let i = 1; i < count; i++) {
          // Deltas spanning [-2^(width-1), 2^(width-1)): after the block minimum, `width` bits.
          const delta = width === 0 ? 15_000 : Math.floor(random() * 2 ** width) - 2 ** (width - 1);
          values[i] = values[i - 1]! + delta;
        }
        const sink = new ByteSink(16);
        sink.byte(0xaa); // a prefix the encoder must leave alone
        expect(deltaBinaryPacked(sink, values, count)).toBe(true);
        expect(sink.view()[0]).toBe(0xaa);
        const { values: decoded, end } = decodeDelta(sink.view().subarray(1));
        expect(end).toBe(sink.length - 1);
        expect(decoded).toEqual([...values]);
      }
    }
  });

  it('refuses deltas wider than 44 bits and leaves the sink as it was', () => {
    const values = Float64Array.from([0, 15_000, 15_000 + 2 ** 45, 2 ** 45]);
    const sink = new ByteSink(4);
    sink.byte(7);
    expect(deltaBinaryPacked(sink, values, values.length)).toBe(false);
    expect([...sink.view()]).toEqual([7]);
  });
});

describe('bitPack', () => {
  it('packs every width from 1 to 44 bits, padding the unused slots with zeros', () => {
    const random = mulberry32(8);
    for (let width = 1; width <= 44; width++) {
      const count = 1 + Math.floor(random() * 40);
      const values = Array.from({ length: count }, () => Math.floor(random() * 2 ** width));
      values[0] = 2 ** width - 1; // all bits set
      const slots = Math.ceil(count / 8) * 8;
      const sink = new ByteSink(512);
      sink.bytes.fill(0xee); // stale bytes where the padding goes
      sink.byte(0xff);
      bitPack(sink, [0, ...values], 1, count, slots, width);
      expect(sink.length).toBe(1 + Math.ceil((slots * width) / 8));
      expect(unpack(sink.view(), 1, slots, width)).toEqual([
        ...values,
        ...new Array<number>(slots - count).fill(0),
      ]);
    }
  });
});
