/**
 * JavaScript's `String(v)` spelling of a double (the shortest decimal that reads back as `v`, the
 * closest of them when several are as short), without building a string, for the values a rollup
 * window's sum and mean usually are: 15 to 17 significant digits (`12345.670000000002`) between
 * 1e-6 and 1e15. `String(v)` there costs ~100 ns and a string that V8's number-string cache keeps
 * alive into the old generation; this writes the digits with double arithmetic only.
 *
 * ECMAScript's Number::toString takes the fewest digits k, and among k-digit decimals the one
 * closest to v. With E = floor(log10 |v|) and p = k - 1 - E, the closest k-digit decimal is
 * N × 10^-p with N = round-half-even(|v| × 10^p), computed exactly (|v| × 10^p as the exact sum
 * of two doubles, Dekker's product). Then:
 * - k = 15: a double's rounding interval (at most one ulp, < 2.3e-16 |v|) is narrower than the
 *   gap between 15-digit decimals (>= 1e-15 |v|), so at most one decimal of 15 or fewer digits
 *   reads back as v, and if the closest 15-digit one does not, none does. If it does, it is the
 *   answer, trailing zeros dropped.
 * - k = 16: several 16-digit decimals may read back as v; the spec takes the closest, N. If N does
 *   not read back, none does (the interval is symmetric around v: the others are further away).
 *   That fails only at a power of two, whose interval is narrower below, but every non-integer
 *   power of two from 1e-6 up (2^-1 ... 2^-19) has at most 14 digits and is settled at k = 15.
 * - k = 17: the closest 17-digit decimal always reads back (half its gap is under half an ulp).
 * "Reads back" is tested exactly, without parsing: N × 10^-p reads back as v when it lies inside
 * v's rounding interval, i.e. |N − v × 10^p| is below half an ulp of v times 10^p (both sides
 * exact sums of doubles).
 * Values outside [1e-6, 1e15) are left to `String(v)` (the caller's fallback).
 */
import { twoProductAt } from '../core/two-product.js';
import { POW10 } from '../extract/prom-value.js';
import { writeInt32 } from './digit-pairs.js';

const TWO_53 = 2 ** 53;
const MIN_VALUE = 1e-6;
const MAX_VALUE = 1e15;
const LOG10_2 = Math.log10(2);

/** The value's bits, for its binary exponent. */
const bits = new Float64Array(1);
const bitWords = new Uint32Array(bits.buffer);
/** 2^(k − OFFSET) for k in [0, 160): half-ulps of the doubles in range (exact, by halving). */
const OFFSET = 100;
const POW2 = ((): number[] => {
  const out = new Array<number>(160);
  out[OFFSET] = 1;
  for (let k = OFFSET + 1; k < out.length; k++) out[k] = out[k - 1]! * 2;
  for (let k = OFFSET - 1; k >= 0; k--) out[k] = out[k + 1]! / 2;
  return out;
})();

/**
 * The exact arithmetic's results. A Float64Array rather than module variables: storing a double
 * in a variable the functions share would allocate a heap number each time.
 */
const r = new Float64Array(8);
/** a × 10^p = r[PRODUCT] + r[PRODUCT_ERR] exactly. */
const PRODUCT = 0;
const PRODUCT_ERR = 1;
/** N = round-half-even(a × 10^p) = r[WHOLE] + r[UP]; a × 10^p − r[WHOLE] = r[FRAC] + r[FRAC_ERR]. */
const WHOLE = 2;
const UP = 3;
const FRAC = 4;
const FRAC_ERR = 5;
/** exactProduct's operands: |v| and the power of ten. */
const ABS = 6;
const POWER = 7;

/**
 * Writes `v = values[index]` exactly as `String(v)` spells it when it can (a double whose
 * magnitude is in [1e-6, 1e15)); returns the new offset, or -1 (nothing written) when the caller
 * must use `String(v)`. The value comes in an array because a double passed to a function that is
 * not inlined (this one is too large) is boxed: a heap number per call.
 */
export function writeShortestFloat(
  buf: Uint8Array,
  offset: number,
  values: Float64Array,
  index: number,
): number {
  const v = values[index]!;
  const a = v < 0 ? -v : v;
  if (!(a >= MIN_VALUE && a < MAX_VALUE)) return -1;
  bits[0] = a;
  const exponent = ((bitWords[1]! >>> 20) & 0x7ff) - 1075;
  // E = floor(log10 a), estimated from the binary exponent (at most one too small), then settled
  // on the exact product: 10^14 <= a × 10^(14 − E) < 10^15.
  let e = Math.floor((exponent + 52) * LOG10_2);
  r[ABS] = a;
  exactProduct(14 - e);
  if (r[PRODUCT]! >= 1e15 && !(r[PRODUCT] === 1e15 && r[PRODUCT_ERR]! < 0)) {
    e++;
    exactProduct(14 - e);
  }
  for (let k = 15; k <= 17; k++) {
    const p = k - 1 - e;
    if (p > 22) return -1;
    if (k > 15) exactProduct(p);
    roundProduct();
    if (k < 17 && !readsBack(exponent, p)) continue;
    if (v < 0) buf[offset++] = 0x2d;
    return writeDigits(buf, offset, k, p);
  }
  return -1;
}

/** a × 10^p exactly, as r[PRODUCT] + r[PRODUCT_ERR] (no overflow or underflow here), a = r[ABS]. */
function exactProduct(p: number): void {
  r[POWER] = POW10[p]!;
  twoProductAt(r, ABS, POWER, PRODUCT, PRODUCT_ERR);
}

/** N = round-half-even(r[PRODUCT] + r[PRODUCT_ERR]), as r[WHOLE] + r[UP]. */
function roundProduct(): void {
  const product = r[PRODUCT]!;
  const err = r[PRODUCT_ERR]!;
  const whole = Math.floor(product);
  const frac = product - whole;
  // Knuth's two-sum: s + sErr = frac + err exactly.
  const s = frac + err;
  const bb = s - frac;
  const sErr = frac - (s - bb) + (err - bb);
  let up = Math.round(s);
  // Math.round takes a tie upwards; the exact fraction decides it, then half to even.
  if (s - up === -0.5 && (sErr < 0 || (sErr === 0 && isOdd(whole, up)))) up--;
  r[WHOLE] = whole;
  r[UP] = up;
  r[FRAC] = s;
  r[FRAC_ERR] = sErr;
}

function isOdd(whole: number, up: number): boolean {
  // An integer double of 2^53 or more is even.
  const wholeOdd = whole < TWO_53 && whole % 2 !== 0;
  return wholeOdd !== (up % 2 !== 0);
}

/**
 * Whether N × 10^-p (the last roundProduct) reads back as the value a whose exponent is given:
 * whether N lies strictly inside a's rounding interval scaled by 10^p, |N − a × 10^p| < half an
 * ulp × 10^p. N never lies on an end: an end is a midpoint between two doubles, (2m + 1) / 2^j
 * with 2m + 1 > 2^53, whose decimal has at least 17 significant digits. (A power of two's interval
 * is narrower below, but every power of two in range is settled exactly at k = 15.)
 */
function readsBack(exponent: number, p: number): boolean {
  // N − a × 10^p = (up − s) − sErr; up − s is exact (a difference of nearby numbers).
  let d = r[UP]! - r[FRAC]!;
  let dErr = -r[FRAC_ERR]!;
  const sum = d + dErr;
  const bb = sum - d;
  dErr = d - (sum - bb) + (dErr - bb);
  d = sum;
  if (d < 0) {
    d = -d;
    dErr = -dErr;
  }
  // Half an ulp, 2^(exponent − 1), times 10^p: exact.
  const half = POW2[exponent + OFFSET - 1]! * POW10[p]!;
  return d < half || (d === half && dErr < 0);
}

/**
 * Writes N × 10^-p, N = r[WHOLE] + r[UP] a k-digit number (or 10^k), as String(v) does: the
 * digits, the point after the integer part (`0.000…` before a number below 1), trailing zeros of
 * the fraction dropped. The digits go straight into `buf`, two per division, one place right of
 * where the integer part ends; the integer part (15 digits at most) then moves left over the gap
 * for the point. Digits are written past the returned offset when the fraction ends in zeros:
 * never past where the untrimmed number would end.
 */
function writeDigits(buf: Uint8Array, offset: number, k: number, p: number): number {
  // N = high × 1e8 + low, low in [0, 1e8): exact, as high × 1e8 = high × 5^8 × 2^8 has < 53 bits
  // and what is left is small.
  const whole = r[WHOLE]!;
  let high = Math.floor(whole / 1e8);
  let low = whole - high * 1e8 + r[UP]!;
  while (low < 0) {
    high--;
    low += 1e8;
  }
  while (low >= 1e8) {
    high++;
    low -= 1e8;
  }
  const count = high >= POW10[k - 8]! ? k + 1 : k;
  const pointAt = count - p;
  let dot: number;
  let first: number;
  if (pointAt <= 0) {
    buf[offset] = 48;
    buf[offset + 1] = 0x2e;
    dot = offset + 1;
    first = offset + 2;
    for (let z = pointAt; z < 0; z++) buf[first++] = 48;
  } else {
    dot = offset + pointAt;
    first = offset + 1;
  }
  // The digits at [first, end): high's count − 8, then low's eight.
  const end = writeInt32(buf, writeInt32(buf, first, high | 0, count - 8), low | 0, 8);
  if (pointAt > 0) {
    for (let i = offset; i < dot; i++) buf[i] = buf[i + 1]!;
    buf[dot] = 0x2e;
  }
  let last = end - 1;
  while (last > dot && buf[last] === 48) last--;
  // No fraction left: no point either.
  return last === dot ? dot : last + 1;
}
