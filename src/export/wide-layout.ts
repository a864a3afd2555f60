import { UsageError } from '../core/errors.js';
import type { Labels } from '../core/series.js';
import { wideColumnName } from './column-names.js';
import { openDatasetFile, placeDatasetFile, type FileFormatOptions } from './dataset-file.js';
import { DAY_MS, datasetFilePath, utcDayStart } from './dataset-path.js';
import type { ExportSeries } from './long-layout.js';
import type { ColumnData, ColumnSpec, WrittenFile } from './row-group.js';

export const DEFAULT_MAX_COLUMNS = 10_000;

/** The wide layout's rows: `fromMs`, `fromMs + stepMs`, ... before `toMs`. */
export interface WideGrid {
  readonly fromMs: number;
  readonly toMs: number;
  readonly stepMs: number;
}

export interface WideColumn {
  readonly name: string;
  readonly query: string;
  readonly labels: Labels;
  readonly values: Float64Array;
  /** 1 where the series has a sample at that grid timestamp, 0 where the cell is null. */
  readonly valid: Uint8Array;
}

export interface WideTable {
  readonly timestampsMs: Float64Array;
  /** Sorted by name. */
  readonly columns: readonly WideColumn[];
}

/**
 * Builds the wide layout in memory: one row per grid timestamp, one float64 column per series,
 * null where the series has no sample. Series may arrive in pieces (one per chunk). More series
 * than `maxColumns` is refused when the next one arrives, before its column is allocated.
 */
export class WideTableBuilder {
  private readonly byName = new Map<string, WideColumn>();
  private readonly rows: number;

  constructor(
    private readonly grid: WideGrid,
    private readonly maxColumns = DEFAULT_MAX_COLUMNS,
  ) {
    const { fromMs, toMs, stepMs } = grid;
    if (!(stepMs > 0) || !(fromMs < toMs)) {
      throw new RangeError(
        `A wide grid needs from < to and a positive step (got ${fromMs}, ${toMs}, ${stepMs}).`,
      );
    }
    this.rows = Math.ceil((toMs - fromMs) / stepMs);
  }

  add(query: string, series: ExportSeries): void {
    const name = wideColumnName(query, series.labels);
    let column = this.byName.get(name);
    if (!column) {
      if (this.byName.size >= this.maxColumns) {
        throw new UsageError(
          `The wide layout would need more than ${this.maxColumns} columns (one per series); ` +
            `export with --layout long, narrow the queries, or raise --max-columns.`,
        );
      }
      column = {
        name,
        query,
        labels: series.labels,
        values: new Float64Array(this.rows),
        valid: new Uint8Array(this.rows),
      };
      this.byName.set(name, column);
    } else if (column.query !== query || !sameLabels(column.labels, series.labels)) {
      throw new RangeError(
        `Two series share the wide column name ${name}; refusing to merge them.`,
      );
    }
    const { fromMs, toMs, stepMs } = this.grid;
    const values = series.fields[0]!;
    series.timestampsMs.forEach((t, i) => {
      if (t < fromMs || t >= toMs) return;
      const row = (t - fromMs) / stepMs;
      if (!Number.isInteger(row)) {
        throw new RangeError(
          `Sample at ${new Date(t).toISOString()} of ${name} is not on the ${stepMs} ms grid from ${new Date(fromMs).toISOString()}.`,
        );
      }
      column.values[row] = values[i]!;
      column.valid[row] = 1;
    });
  }

  build(): WideTable {
    const timestampsMs = new Float64Array(this.rows);
    for (let i = 0; i < this.rows; i++) timestampsMs[i] = this.grid.fromMs + i * this.grid.stepMs;
    const columns = [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    return { timestampsMs, columns };
  }
}

/** The manifest's column → series map. */
export function wideColumnLabels(
  table: WideTable,
): Record<string, { query: string; labels: Labels }> {
  return Object.fromEntries(
    table.columns.map((c) => [c.name, { query: c.query, labels: c.labels }]),
  );
}

/**
 * Writes a wide table as one file per UTC day under `[split=S/]query=NAME/date=D/`, every file
 * with every column (all-null columns keep their float64 type), in row groups of `rowGroupRows`.
 */
export async function writeWideLayout(
  table: WideTable,
  target: { dir: string; query: string; split?: string },
  options: FileFormatOptions,
): Promise<WrittenFile[]> {
  const schema: ColumnSpec[] = [
    { name: 'timestamp', kind: 'timestamp' },
    ...table.columns.map((c) => ({ name: c.name, kind: 'float64' as const })),
  ];
  const ts = table.timestampsMs;
  const written: WrittenFile[] = [];
  let start = 0;
  while (start < ts.length) {
    const dayMs = utcDayStart(ts[start]!);
    let end = start;
    while (end < ts.length && ts[end]! < dayMs + DAY_MS) end++;
    const name = {
      query: target.query,
      dayMs,
      fromMs: ts[start]!,
      toMs: ts[end - 1]! + 1,
      extension: options.format,
      ...(target.split !== undefined && { split: target.split }),
    };
    const path = datasetFilePath(name);
    const { tmp, file } = await openDatasetFile(target.dir, path, `${dayMs}-wide`, schema, options);
    try {
      for (let at = start; at < end; at += options.rowGroupRows) {
        const to = Math.min(end, at + options.rowGroupRows);
        const columns: ColumnData[] = [
          { kind: 'timestamp', name: 'timestamp', ms: ts.subarray(at, to) },
          ...table.columns.map((c): ColumnData => ({
            kind: 'float64',
            name: c.name,
            values: c.values.subarray(at, to),
            valid: c.valid.subarray(at, to),
          })),
        ];
        await file.write({ rows: to - at, columns });
      }
    } catch (error) {
      await file.abort();
      throw error;
    }
    const { bytes, sha256 } = await file.close();
    await placeDatasetFile(tmp, target.dir, path);
    written.push({
      path,
      rows: end - start,
      bytes,
      sha256,
      fromMs: name.fromMs,
      toMs: name.toMs,
      columns: schema,
    });
    start = end;
  }
  return written;
}

function sameLabels(a: Labels, b: Labels): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
