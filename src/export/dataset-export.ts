import type { Labels, SeriesBlock } from '../core/series.js';
import { blockTimestamps, blockValues } from '../core/series.js';
import { firstGridPoint } from '../core/step-grid.js';
import type { DatasetFormat } from './dataset-file.js';
import { DEFAULT_ROW_GROUP_ROWS, LongLayoutWriter } from './long-layout.js';
import type { WrittenFile } from './row-group.js';
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
}

/** What one query's export produced, for the manifest. */
export interface QueryExport {
  files: WrittenFile[];
  series: number;
  /** Wide layout: column name → the series it holds. */
  columns?: Record<string, { query: string; labels: Labels }>;
}

interface QueryState {
  tagsToLabels: Map<readonly [string, string][], Labels>;
  series: Set<string>;
  long?: LongLayoutWriter;
  wide?: WideTableBuilder;
}

/**
 * One export's writers, one per query: long layout streams rows to day files as chunks arrive,
 * wide layout builds each query's table in memory and writes it at the end.
 */
export class DatasetExport {
  private readonly queries = new Map<string, QueryState>();

  constructor(private readonly options: DatasetExportOptions) {}

  startQuery(query: string, stepMs: number): void {
    const { dir, format, createdBy, layout, fromMs, toMs, maxColumns } = this.options;
    this.queries.set(query, {
      tagsToLabels: new Map(),
      series: new Set(),
      ...(layout === 'long'
        ? { long: new LongLayoutWriter({ dir, query, format, createdBy }) }
        : {
            wide: new WideTableBuilder(
              { fromMs: firstGridPoint(fromMs, stepMs), toMs, stepMs },
              maxColumns,
            ),
          }),
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
    const series = {
      labels,
      timestampsMs: blockTimestamps(block),
      fields: [blockValues(block)],
    };
    if (state.long) await state.long.add(series);
    else state.wide!.add(query, series);
  }

  /** Every sample up to `endMs` (inclusive) of the query was added: finishes its complete days. */
  async endChunk(query: string, endMs: number): Promise<void> {
    await this.state(query).long?.closeBefore(endMs + 1);
  }

  /** Finishes every file; per query, what was written. */
  async finish(): Promise<Map<string, QueryExport>> {
    const out = new Map<string, QueryExport>();
    for (const [query, state] of this.queries) {
      if (state.long) {
        out.set(query, { files: await state.long.finish(), series: state.series.size });
        continue;
      }
      const table = state.wide!.build();
      const files = await writeWideLayout(
        table,
        { dir: this.options.dir, query },
        {
          format: this.options.format,
          rowGroupRows: DEFAULT_ROW_GROUP_ROWS,
          createdBy: this.options.createdBy,
        },
      );
      out.set(query, { files, series: state.series.size, columns: wideColumnLabels(table) });
    }
    return out;
  }

  /** Removes the temporary files of an export that did not complete. */
  async abort(): Promise<void> {
    for (const state of this.queries.values()) await state.long?.abort();
  }

  private state(query: string): QueryState {
    const state = this.queries.get(query);
    if (!state) throw new Error(`DatasetExport: query ${query} was not started`);
    return state;
  }
}
