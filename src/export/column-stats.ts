/** What `--stats` records for one numeric column. */
export interface ColumnStats {
  /** Finite values counted; nulls, NaN and ±Inf are left out. */
  count: number;
  /** null when `count` is 0. */
  mean: number | null;
  /** Sample standard deviation (n − 1), as pandas, Polars and DuckDB's `stddev`; null below 2 values. */
  std: number | null;
  min: number | null;
  max: number | null;
}

/**
 * Mean, standard deviation, min and max of one column, streamed: each batch is reduced in two
 * passes (its mean, then its squared deviations), then merged into the running figures with Chan's
 * pairwise update, so nothing is kept per row and a large mean does not cancel the variance as a
 * running sum of squares would. The result depends only on the values and their batch order,
 * which an export fixes, so the same export gives the same figures.
 */
export class ColumnStatsAccumulator {
  private count = 0;
  private mean = 0;
  /** Sum of squared deviations from `mean`. */
  private m2 = 0;
  private min = Infinity;
  private max = -Infinity;

  /** Adds `values[i]` for every `i` where `valid` is absent or `valid[i] !== 0`. */
  add(values: Float64Array, valid?: Uint8Array): void {
    let n = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if ((valid && valid[i] === 0) || !Number.isFinite(v)) continue;
      n++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (n === 0) return;
    const mean = sum / n;
    let m2 = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if ((valid && valid[i] === 0) || !Number.isFinite(v)) continue;
      m2 += (v - mean) * (v - mean);
    }
    const total = this.count + n;
    const delta = mean - this.mean;
    this.mean += (delta * n) / total;
    this.m2 += m2 + (delta * delta * this.count * n) / total;
    this.count = total;
    if (min < this.min) this.min = min;
    if (max > this.max) this.max = max;
  }

  result(): ColumnStats {
    const n = this.count;
    return {
      count: n,
      mean: n > 0 ? this.mean : null,
      std: n > 1 ? Math.sqrt(this.m2 / (n - 1)) : null,
      min: n > 0 ? this.min : null,
      max: n > 0 ? this.max : null,
    };
  }
}

/** One accumulator per column name; `result()` lists the columns by name. */
export class ColumnStatsSet {
  private readonly columns = new Map<string, ColumnStatsAccumulator>();

  add(column: string, values: Float64Array, valid?: Uint8Array): void {
    let acc = this.columns.get(column);
    if (!acc) {
      acc = new ColumnStatsAccumulator();
      this.columns.set(column, acc);
    }
    acc.add(values, valid);
  }

  result(): Record<string, ColumnStats> {
    return Object.fromEntries(
      [...this.columns.keys()].sort().map((name) => [name, this.columns.get(name)!.result()]),
    );
  }
}

/**
 * The split whose rows the statistics describe: the one named `train`, else the first (splits
 * are in time order, and a model trains on the past). Undefined without splits: all rows.
 */
export function statsSplit(splits: readonly { name: string }[] | undefined): string | undefined {
  if (!splits || splits.length === 0) return undefined;
  return (splits.find((s) => s.name === 'train') ?? splits[0]!).name;
}
