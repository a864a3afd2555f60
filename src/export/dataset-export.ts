import type { Labels, SeriesBlock } from '../core/series.js';
import { blockTimestamps, blockValues, firstIndexAtOrAfter } from '../core/series.js';
import { firstGridPoint } from '../core/step-grid.js';
import { ColumnStatsSet, statsSplit, type ColumnStats } from './column-stats.js';
import type { DatasetFormat } from './dataset-file.js';
import { DEFAULT_ROW_GROUP_ROWS, LongLayoutWriter } from './long-layout.js';
import type { WriteCounter, WrittenFile } from './row-group.js';
import type { SplitRange } from './splits.js';
import { WideTableBuilder, wideColumnLabels, writeWideLayout } from './wide-layout.js';

export type DatasetLayout = 'long' | 'wide';

export interface DatasetExportOptions {
  dir: string;
  format: DatasetFormat;
  layout: DatasetLayout;
  /** Half-open `[fromMs, toMs)`. */
  fromMs: number;
  toMs: number;
  maxColumns: number;
  createdBy: string;
  /** Time splits (`split=NAME/` directories); rows outside every split (the gaps) are left out. */
  splits?: readonly SplitRange[];
  /** Per-column statistics of the training split (of all rows without splits), for `--stats`. */
  stats?: boolean;
}

/** What one query's export produced, for the manifest. */
export interface QueryExport {
  files: WrittenFile[];
  series: number;
  /** Wide layout: column name → the series it holds. */
  columns?: Record<string, { query: string; labels: Labels }>;
  /** With `stats`: per value column, over the training split's rows. */
  stats?: Record<string, ColumnStats>;
}

interface QueryState {
  tagsToLabels: Map<readonly [string, string][], Labels>;
  series: Set<string>;
  parts: Part[];
  stats?: ColumnStatsSet;
}

/** The rows of one split (or of the whole range) of one query, and their writer. */
interface Part {
  split?: string;
  fromMs: number;
  toMs: number;
  long?: LongLayoutWriter;
  wide?: WideTableBuilder;
  /** Set on the part whose rows the statistics describe. */
  stats?: ColumnStatsSet;
}

/**
 * One export's writers, one per query: long layout streams rows to day files as chunks arrive,
 * wide layout builds each query's table in memory and writes it at the end.
 */
export class DatasetExport {
  private readonly queries = new Map<string, QueryState>();
  /** Samples handed to the files (rows in long layout) and bytes written so far. */
  readonly written: WriteCounter = { rows: 0, bytes: 0 };

  constructor(private readonly options: DatasetExportOptions) {}

  startQuery(query: string, stepMs: number): void {
    const { dir, format, createdBy, layout, maxColumns } = this.options;
    const ranges = this.options.splits ?? [this.options];
    const statsFrom = statsSplit(this.options.splits);
    const stats = this.options.stats ? new ColumnStatsSet() : undefined;
    const parts = ranges.map((r): Part => {
      const split = 'name' in r ? r.name : undefined;
      return {
        ...(split !== undefined && { split }),
        ...(stats && split === statsFrom && { stats }),
        fromMs: r.fromMs,
        toMs: r.toMs,
        ...(layout === 'long'
          ? {
              long: new LongLayoutWriter({
                dir,
                query,
                format,
                createdBy,
                written: this.written,
                ...(split !== undefined && { split }),
              }),
            }
          : {
              wide: new WideTableBuilder(
                { fromMs: firstGridPoint(r.fromMs, stepMs), toMs: r.toMs, stepMs },
                maxColumns,
              ),
            }),
      };
    });
    this.queries.set(query, {
      tagsToLabels: new Map(),
      series: new Set(),
      parts,
      ...(stats && { stats }),
    });
  }

  async add(query: string, tags: readonly [string, string][], block: SeriesBlock): Promise<void> {
    if (block.length === 0) return;
    const state = this.state(query);
    let labels = state.tagsToLabels.get(tags);
    if (labels === undefined) {
      labels = Object.fromEntries(tags);
      state.tagsToLabels.set(tags, labels);
      state.series.add(JSON.stringify([...tags].sort()));
    }
    const timestampsMs = blockTimestamps(block);
    const values = blockValues(block);
    for (const part of state.parts) {
      const start = firstIndexAtOrAfter(timestampsMs, part.fromMs);
      const end = firstIndexAtOrAfter(timestampsMs, part.toMs);
      if (start === end) continue;
      const value = values.subarray(start, end);
      const series = { labels, timestampsMs: timestampsMs.subarray(start, end), fields: [value] };
      this.written.rows += end - start;
      if (part.long) {
        await part.long.add(series);
        part.stats?.add('value', value);
      } else part.wide!.add(query, series);
    }
  }

  /** Every sample up to `endMs` (inclusive) of the query was added: finishes its complete days. */
  async endChunk(query: string, endMs: number): Promise<void> {
    for (const part of this.state(query).parts) await part.long?.closeBefore(endMs + 1);
  }

  /** Finishes every file; per query, what was written. */
  async finish(): Promise<Map<string, QueryExport>> {
    const out = new Map<string, QueryExport>();
    for (const [query, state] of this.queries) {
      const files: WrittenFile[] = [];
      let columns: QueryExport['columns'];
      for (const part of state.parts) {
        if (part.long) {
          files.push(...(await part.long.finish()));
          continue;
        }
        const table = part.wide!.build();
        if (part.stats) for (const c of table.columns) part.stats.add(c.name, c.values, c.valid);
        const target = {
          dir: this.options.dir,
          query,
          ...(part.split !== undefined && { split: part.split }),
        };
        files.push(
          ...(await writeWideLayout(table, target, {
            format: this.options.format,
            rowGroupRows: DEFAULT_ROW_GROUP_ROWS,
            createdBy: this.options.createdBy,
            written: this.written,
          })),
        );
        columns = { ...columns, ...wideColumnLabels(table) };
      }
      files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      const sorted = columns && Object.fromEntries(Object.entries(columns).sort());
      out.set(query, {
        files,
        series: state.series.size,
        ...(sorted && { columns: sorted }),
        ...(state.stats && { stats: state.stats.result() }),
      });
    }
    return out;
  }

  /** Removes the temporary files of an export that did not complete. */
  async abort(): Promise<void> {
    for (const state of this.queries.values()) {
      for (const part of state.parts) await part.long?.abort();
    }
  }

  private state(query: string): QueryState {
    const state = this.queries.get(query);
    if (!state) throw new Error(`DatasetExport: query ${query} was not started`);
    return state;
  }
}
