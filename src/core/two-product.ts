/** Veltkamp's splitter for doubles: 2^27 + 1. */
const SPLITTER = 134_217_729;

/**
 * `x[a] * x[b]` exactly, as `x[product] + x[error]` (Dekker's product with Veltkamp's split: no
 * FMA needed; exact unless the product overflows or underflows). The numbers live in the array
 * because a double passed to or returned from a call V8 does not inline is boxed, a heap number
 * each: on hot paths (shortest-float.ts) that was most of their garbage.
 */
export function twoProductAt(
  x: Float64Array,
  a: number,
  b: number,
  product: number,
  error: number,
): void {
  const av = x[a]!;
  const bv = x[b]!;
  const p = av * bv;
  let c = SPLITTER * av;
  const ah = c - (c - av);
  const al = av - ah;
  c = SPLITTER * bv;
  const bh = c - (c - bv);
  const bl = bv - bh;
  x[product] = p;
  x[error] = ah * bh - p + ah * bl + al * bh + al * bl;
}

const operands = new Float64Array(4);

/** The rounding error of `fl(a * b)`, so that a × b = fl(a * b) + error exactly. */
export function twoProductError(a: number, b: number): number {
  operands[0] = a;
  operands[1] = b;
  twoProductAt(operands, 0, 1, 2, 3);
  return operands[3]!;
}
