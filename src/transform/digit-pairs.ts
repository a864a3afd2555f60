/** ASCII of 00..99, two bytes each: integers are written two digits per division. */
export const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) =>
  i % 2 === 0 ? 48 + Math.floor(i / 20) : 48 + (((i - 1) / 2) % 10),
);

const INT_POWERS_OF_TEN = Int32Array.of(1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9);

/**
 * Writes a non-negative int32 as at least `minDigits` ASCII digits (zero-padded); returns the new
 * offset. In int32 arithmetic: V8 divides an int32 by a constant with a multiplication, a double
 * by a division.
 */
export function writeInt32(buf: Uint8Array, offset: number, n: number, minDigits: number): number {
  let digits = minDigits;
  while (digits < 10 && n >= INT_POWERS_OF_TEN[digits]!) digits++;
  let pos = offset + digits;
  let rest = n;
  while (pos > offset + 1) {
    const q = (rest / 100) | 0;
    const pair = (rest - q * 100) * 2;
    buf[--pos] = DIGIT_PAIRS[pair + 1]!;
    buf[--pos] = DIGIT_PAIRS[pair]!;
    rest = q;
  }
  if (pos > offset) buf[--pos] = 48 + rest;
  return offset + digits;
}
