import type { Labels } from '../../core/series.js';
import type { StoredSeries } from './stored-series.js';

/** A Float64Array that doubles as it fills. */
class Column {
  data = new Float64Array(64);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }

  last(): number {
    return this.length === 0 ? -Infinity : this.data[this.length - 1]!;
  }

  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** One series' points as one field's rows arrive: its timestamps and that field's values. */
interface FieldRun {
  ts: Column;
  values: Column;
}

export interface CollectedSeries {
  tags: Labels;
  /** One run per field (Flux answers a table per series and field). */
  fields: FieldRun[];
}

/**
 * Collects one chunk's points into columns, one series at a time or interleaved, as a server
 * answers them: InfluxQL a row of every field per timestamp, Flux one table per series and field.
 * Points must arrive in ascending time per series and field (both servers sort by time);
 * `build` lines the fields up on their timestamps (NaN where a field has no point).
 */
export class StoredSeriesCollector {
  private readonly series = new Map<string, CollectedSeries>();

  constructor(private readonly fieldCount: number) {}

  /** The series with these tags (empty values are absent tags and left out). */
  seriesFor(tags: Readonly<Record<string, string>>): CollectedSeries {
    const names = Object.keys(tags)
      .filter((k) => tags[k] !== '')
      .sort();
    const key = JSON.stringify(names.map((n) => [n, tags[n]]));
    let pending = this.series.get(key);
    if (!pending) {
      const sorted: Record<string, string> = {};
      for (const n of names) sorted[n] = tags[n]!;
      const fields = Array.from({ length: this.fieldCount }, () => ({
        ts: new Column(),
        values: new Column(),
      }));
      pending = { tags: sorted, fields };
      this.series.set(key, pending);
    }
    return pending;
  }

  /** One field's value at `timeMs`; null (InfluxQL's missing field) adds nothing. */
  add(series: CollectedSeries, field: number, timeMs: number, value: number | null): void {
    if (value === null) return;
    const run = series.fields[field]!;
    if (!(timeMs > run.ts.last())) {
      throw new RangeError(
        `Stored points out of order: ${new Date(timeMs).toISOString()} after ${new Date(run.ts.last()).toISOString()}.`,
      );
    }
    run.ts.push(timeMs);
    run.values.push(value);
  }

  /** Every series with at least one point, sorted by its tags. */
  build(): StoredSeries[] {
    const out: { key: string; series: StoredSeries }[] = [];
    for (const [key, pending] of this.series) {
      const series = alignFields(pending);
      if (series.timestampsMs.length > 0) out.push({ key, series });
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out.map((o) => o.series);
  }
}

/** The fields' runs on one timestamp column: shared as it is when they agree, else merged. */
function alignFields(pending: CollectedSeries): StoredSeries {
  const runs = pending.fields;
  const first = runs[0]!.ts.view();
  const same = runs.every((r) => sameTimes(r.ts.view(), first));
  if (same) {
    return { tags: pending.tags, timestampsMs: first, fields: runs.map((r) => r.values.view()) };
  }
  const times = new Set<number>();
  for (const r of runs) for (const t of r.ts.view()) times.add(t);
  const timestampsMs = Float64Array.from([...times].sort((a, b) => a - b));
  const fields = runs.map((r) => {
    const column = new Float64Array(timestampsMs.length).fill(NaN);
    const ts = r.ts.view();
    const values = r.values.view();
    let j = 0;
    for (let i = 0; i < ts.length; i++) {
      while (timestampsMs[j] !== ts[i]) j++;
      column[j] = values[i]!;
    }
    return column;
  });
  return { tags: pending.tags, timestampsMs, fields };
}

function sameTimes(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
