/** Veltkamp's splitter for doubles: 2^27 + 1. */
const SPLITTER = 134_217_729;

/**
 * The rounding error of `a * b` given `p = fl(a * b)`, so that a × b = p + error exactly (Dekker's
 * product with Veltkamp's split: no FMA needed; exact unless the product overflows or underflows).
 */
export function twoProductError(a: number, b: number, p: number): number {
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}
