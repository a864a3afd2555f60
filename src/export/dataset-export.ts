import type { Labels, SeriesBlock } from '../core/series.js';
import { blockTimestamps, blockValues, firstIndexAtOrAfter } from '../core/series.js';
import { firstGridPoint } from '../core/step-grid.js';
import { ColumnStatsSet, statsSplit, type ColumnStats } from './column-stats.js';
import type { DatasetFormat } from './dataset-file.js';
import { DEFAULT_ROW_GROUP_ROWS, LongLayoutWriter, type ExportSeries } from './long-layout.js';
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
  /** The value columns' names, in the order of each series' `fields`. */
  valueFields: readonly string[];
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

  /**
   * Opens a query's writers. `valueFields` names its value columns (default `['value']`; a rollup
   * tier's `value_mean`, ...); the wide layout takes one only.
   */
  startQuery(query: string, stepMs: number, valueFields?: readonly string[]): void {
    const { dir, format, createdBy, layout, maxColumns } = this.options;
    if (layout === 'wide' && valueFields !== undefined && valueFields.length !== 1) {
      throw new RangeError('The wide layout holds one value column per series.');
    }
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
                ...(valueFields !== undefined && { valueFields }),
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
      valueFields: valueFields ?? ['value'],
      ...(stats && { stats }),
    });
  }

  /** A transform-stage block of the query (its one `value` column). */
  async add(query: string, tags: readonly [string, string][], block: SeriesBlock): Promise<void> {
    if (block.length === 0) return;
    const state = this.state(query);
    let labels = state.tagsToLabels.get(tags);
    if (labels === undefined) {
      labels = Object.fromEntries(tags);
      state.tagsToLabels.set(tags, labels);
      state.series.add(seriesKey(labels));
    }
    await this.addColumns(state, query, labels, blockTimestamps(block), [blockValues(block)]);
  }

  /** A series of the query with columns of its own, one per value field (read from storage). */
  async addSeries(query: string, series: ExportSeries): Promise<void> {
    if (series.timestampsMs.length === 0) return;
    const state = this.state(query);
    state.series.add(seriesKey(series.labels));
    await this.addColumns(state, query, series.labels, series.timestampsMs, series.fields);
  }

  private async addColumns(
    state: QueryState,
    query: string,
    labels: Labels,
    timestampsMs: Float64Array,
    fields: readonly Float64Array[],
  ): Promise<void> {
    for (const part of state.parts) {
      const start = firstIndexAtOrAfter(timestampsMs, part.fromMs);
      const end = firstIndexAtOrAfter(timestampsMs, part.toMs);
      if (start === end) continue;
      // Without splits a series' rows all go to the one part: no views to make.
      const whole = start === 0 && end === timestampsMs.length;
      const series = {
        labels,
        timestampsMs: whole ? timestampsMs : timestampsMs.subarray(start, end),
        fields: whole ? fields : fields.map((f) => f.subarray(start, end)),
      };
      this.written.rows += end - start;
      if (part.long) {
        await part.long.add(series);
        if (part.stats) {
          for (let i = 0; i < series.fields.length; i++) {
            part.stats.add(state.valueFields[i]!, series.fields[i]!);
          }
        }
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

/** A series' identity for counting: its labels, sorted. */
function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort());
}
