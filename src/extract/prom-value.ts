/**
 * Prometheus sends sample values as strings: Go `strconv.FormatFloat(v, 'f'|'e', -1, 64)`, or
 * exactly `"NaN"`, `"+Inf"`, `"-Inf"`. JavaScript's `Number("+Inf")` is NaN and `Number("")` is 0,
 * so the text is matched against the grammar first and the specials are mapped explicitly.
 * Compatible APIs vary in how they spell the specials, so `inf`, `Infinity`, `nan` are accepted in
 * any case, with or without a sign.
 */
import { twoProductError } from '../core/two-product.js';

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL = /^([+-]?)(?:(inf(?:inity)?)|nan)$/i;

/** Parses a Prometheus sample value. Throws a `RangeError` when the text is not a number. */
export function parsePromValue(text: string): number {
  if (DECIMAL.test(text)) return Number(text);
  const special = SPECIAL.exec(text);
  if (special) {
    if (special[2] === undefined) return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  throw new RangeError(`Invalid sample value ${JSON.stringify(text.slice(0, 40))}.`);
}

/** Powers of ten that are exact doubles: `m / 10^k` is correctly rounded for m < 2^53, k <= 22. */
export const POW10: readonly number[] = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
const TWO_POW_53 = 9007199254740992;
/** POW2[e] = 2^(e - 1075): the gap between doubles whose biased exponent is e. */
const POW2 = Float64Array.from({ length: 2047 }, (_, e) => Math.pow(2, e - 1075));
const scratch = new Float64Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/**
 * The double nearest to the decimal `(hi * 10^r + lo) / 10^k`, for `hi < 2^53`, `lo < 10^r`,
 * `r <= 4`, `k <= 22`: up to 19 significant digits, e.g. Go's 17-digit shortest forms of rates
 * (`0.016666666666666666`), which `m / 10^k` cannot do exactly because m exceeds 2^53.
 * Returns NaN when it cannot decide cheaply (the caller then uses `Number(text)`).
 *
 * How: an approximation x, then the exact residual `m - x * 10^k` (Dekker's error-free products)
 * says whether x is the nearest double, or its neighbour is. Near-ties are left undecided.
 */
export function decimalToDouble(hi: number, r: number, lo: number, k: number): number {
  const p10r = POW10[r]!;
  const p10k = POW10[k]!;
  const m = hi * p10r + lo;
  if (m < TWO_POW_53) return m / p10k;
  let x = m / p10k;
  if (x === 0) return 0;
  // R = m - x * 10^k, exactly enough: Q + F = hi * 10^r and P + E = x * 10^k are exact.
  const q = hi * p10r;
  const f = twoProductError(hi, p10r);
  const p = x * p10k;
  const e = twoProductError(x, p10k);
  let residual = q - p + lo + (f - e);
  scratch[0] = x;
  const exponent = (scratchBits[1]! >>> 20) & 0x7ff;
  if (exponent === 0 || exponent === 0x7ff) return NaN;
  // Powers of two have a smaller gap below them: leave them to Number().
  if ((scratchBits[1]! & 0xfffff) === 0 && scratchBits[0] === 0) return NaN;
  const ulp = POW2[exponent]!;
  const gap = ulp * p10k; // exact: a power of two times an exact power of ten
  const half = gap / 2;
  for (let step = 0; step < 2; step++) {
    const a = Math.abs(residual);
    if (a < half * (1 - 1e-9)) return x;
    if (a < half * (1 + 1e-9)) return NaN;
    const dir = residual > 0 ? 1 : -1;
    const next = x + dir * ulp;
    scratch[0] = next;
    if (((scratchBits[1]! >>> 20) & 0x7ff) !== exponent) return NaN;
    x = next;
    residual -= dir * gap;
  }
  return NaN;
}
