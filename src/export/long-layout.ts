import type { Labels, SeriesBlock } from '../core/series.js';
import { blockTimestamps, blockValues } from '../core/series.js';
import { tagColumnName } from './column-names.js';
import { DAY_MS, datasetFilePath } from './dataset-path.js';
import { openDatasetFile, placeDatasetFile } from './dataset-file.js';
import type {
  ColumnData,
  ColumnSpec,
  RowGroupFile,
  WriteCounter,
  WrittenFile,
} from './row-group.js';

/** One series' samples for export: ascending timestamps and one column per value field. */
export interface ExportSeries {
  readonly labels: Labels;
  readonly timestampsMs: Float64Array;
  /** One array per value field (`value`, or a rollup's `value_mean`, ...), as long as the timestamps. */
  readonly fields: readonly Float64Array[];
}

/** A transform-stage block as export input; shares the block's memory. */
export function exportSeries(block: SeriesBlock): ExportSeries {
  return {
    labels: block.labels,
    timestampsMs: blockTimestamps(block),
    fields: [blockValues(block)],
  };
}

export const DEFAULT_ROW_GROUP_ROWS = 131_072;

export interface LongLayoutOptions {
  /** The export directory; files go under `[split=S/]query=NAME/date=D/`. */
  dir: string;
  query: string;
  split?: string;
  format: 'parquet' | 'csv';
  /** Value columns, in order; default `['value']`. */
  valueFields?: readonly string[];
  /** Rows per row group (and per CSV write); default 131,072. */
  rowGroupRows?: number;
  /** The Parquet `created_by`, e.g. `promflux 0.3.0`. */
  createdBy: string;
  /**
   * Files hold one epoch-aligned period of this length (a divisor of a day; default a UTC day),
   * named by the samples they hold, or with `nameByPeriod` by the whole period (continuous
   * export: a rerun of the period writes the same name).
   */
  periodMs?: number;
  nameByPeriod?: boolean;
  /** Counts the bytes written (progress). */
  written?: WriteCounter;
}

/**
 * Writes one query's samples in long layout: a row per sample, `timestamp`, `query`, a string
 * column per tag (escaped by `tagColumnName`), then the value fields. Rows go to one file per UTC
 * day, in row groups of `rowGroupRows`; a file is written under a hidden temporary name and renamed
 * when complete, named by the range it holds. A file's tag columns are those of its first row
 * group; a row group bringing a new tag closes the file and opens the next one with the union, so
 * files gain nullable columns as labels appear (read them with `union_by_name`).
 *
 * Memory: one row group per open day. Call `closeBefore` as the range advances to finish days.
 */
export class LongLayoutWriter {
  private readonly days = new Map<number, DayFile>();
  private readonly written: WrittenFile[] = [];
  private readonly paths = new Set<string>();
  private readonly tagsByLabels = new WeakMap<Labels, SeriesTags>();
  private readonly valueFields: readonly string[];
  private readonly rowGroupRows: number;
  private readonly periodMs: number;

  constructor(private readonly options: LongLayoutOptions) {
    this.valueFields = options.valueFields ?? ['value'];
    this.periodMs = options.periodMs ?? DAY_MS;
    if (!Number.isInteger(this.periodMs) || this.periodMs < 1 || DAY_MS % this.periodMs !== 0) {
      throw new RangeError(`periodMs must divide a day (got ${this.periodMs}).`);
    }
    this.rowGroupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
    if (!Number.isInteger(this.rowGroupRows) || this.rowGroupRows < 1) {
      throw new RangeError(`rowGroupRows must be a positive integer (got ${this.rowGroupRows}).`);
    }
    // Checks the query and split names now rather than at the first file.
    datasetFilePath({ ...this.fileName(0, 0, 1), extension: options.format });
  }

  async add(series: ExportSeries): Promise<void> {
    const { timestampsMs: ts, fields } = series;
    if (fields.length !== this.valueFields.length || fields.some((f) => f.length !== ts.length)) {
      throw new RangeError(
        `A series for export needs ${this.valueFields.length} value field(s) as long as its timestamps.`,
      );
    }
    const tags = this.tagsOf(series.labels);
    let start = 0;
    while (start < ts.length) {
      const day = Math.floor(ts[start]! / this.periodMs) * this.periodMs;
      let end = start + 1;
      while (end < ts.length && ts[end]! < day + this.periodMs) end++;
      await this.day(day).append(tags, ts, fields, start, end);
      start = end;
    }
  }

  /**
   * A series' tag columns and values, sorted by label name. Callers hand the same labels object
   * for each chunk of a series, so this is worked out once per series, not once per chunk.
   */
  private tagsOf(labels: Labels): SeriesTags {
    let tags = this.tagsByLabels.get(labels);
    if (!tags) {
      const names = Object.keys(labels).sort();
      tags = {
        columns: names.map((name) => tagColumnName(name, this.valueFields)),
        values: names.map((name) => labels[name]!),
      };
      this.tagsByLabels.set(labels, tags);
    }
    return tags;
  }

  /** Finishes the files of every period that ends at or before `ms`; returns those files. */
  async closeBefore(ms: number): Promise<WrittenFile[]> {
    const before = this.written.length;
    for (const [day, file] of [...this.days].sort((a, b) => a[0] - b[0])) {
      if (day + this.periodMs > ms) continue;
      this.days.delete(day);
      await file.finish();
    }
    return this.written.slice(before);
  }

  /** Finishes every file; returns all files written, sorted by path. */
  async finish(): Promise<WrittenFile[]> {
    await this.closeBefore(Infinity);
    return [...this.written].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Removes the temporary files of unfinished days (files already renamed stay). */
  async abort(): Promise<void> {
    const open = [...this.days.values()];
    this.days.clear();
    for (const file of open) await file.abort();
  }

  private day(dayMs: number): DayFile {
    let file = this.days.get(dayMs);
    if (!file) {
      file = new DayFile(dayMs, this.valueFields, this.rowGroupRows, this.options.query, this);
      this.days.set(dayMs, file);
    }
    return file;
  }

  private fileName(dayMs: number, fromMs: number, toMs: number) {
    const { query, split } = this.options;
    return { query, dayMs, fromMs, toMs, ...(split !== undefined && { split }) };
  }

  /** @internal Opens a temporary file for a day's next file. */
  openTemp(dayMs: number, seq: number, columns: readonly ColumnSpec[]) {
    return openDatasetFile(
      this.options.dir,
      this.relativePath(dayMs, dayMs, dayMs + 1, 1),
      `${dayMs}-${seq}`,
      columns,
      {
        format: this.options.format,
        directParquet: true,
        rowGroupRows: this.rowGroupRows,
        createdBy: this.options.createdBy,
        ...(this.options.written && { written: this.options.written }),
      },
    );
  }

  /** @internal Renames a closed temporary file into place and records it. */
  async commit(tmp: string, found: Omit<WrittenFile, 'path'>, dayMs: number): Promise<void> {
    const record = this.options.nameByPeriod
      ? { ...found, fromMs: dayMs, toMs: dayMs + this.periodMs }
      : found;
    let part = 1;
    let path = this.relativePath(dayMs, record.fromMs, record.toMs, part);
    while (this.paths.has(path))
      path = this.relativePath(dayMs, record.fromMs, record.toMs, ++part);
    this.paths.add(path);
    await placeDatasetFile(tmp, this.options.dir, path);
    this.written.push({ path, ...record });
  }

  private relativePath(dayMs: number, fromMs: number, toMs: number, part: number): string {
    return datasetFilePath({
      ...this.fileName(dayMs, fromMs, toMs),
      part,
      extension: this.options.format,
    });
  }
}

/** A series' tag columns (escaped label names, sorted) and its value in each. */
interface SeriesTags {
  readonly columns: readonly string[];
  readonly values: readonly string[];
}

interface TagColumn {
  codes: Int32Array;
  readonly dictionary: string[];
  readonly index: Map<string, number>;
}

/** One UTC day's rows: the row group being filled, and the file being written. */
class DayFile {
  private rows = 0;
  private readonly timestamps: Float64Array;
  private readonly fields: Float64Array[];
  private tags = new Map<string, TagColumn>();
  /** Code arrays of earlier row groups, for the next ones' tags (the file is done with them). */
  private readonly spareCodes: Int32Array[] = [];
  /** The `query` column's codes (all 0) and a tag absent from a row group (all null). */
  private queryCodes: Int32Array | undefined;
  private nullCodes: Int32Array | undefined;
  /** Where each `append` call's rows start in the row group: one series, so one code a tag. */
  private runStarts = new Int32Array(1024);
  private runs = 0;
  /** The row group's first and last timestamps (a series' timestamps ascend). */
  private minMs = Infinity;
  private maxMs = -Infinity;
  private open:
    | {
        tmp: string;
        file: RowGroupFile;
        tags: readonly string[];
        rows: number;
        fromMs: number;
        toMs: number;
      }
    | undefined;
  private seq = 0;

  constructor(
    private readonly dayMs: number,
    private readonly valueFields: readonly string[],
    private readonly capacity: number,
    private readonly query: string,
    private readonly writer: LongLayoutWriter,
  ) {
    this.timestamps = new Float64Array(capacity);
    this.fields = valueFields.map(() => new Float64Array(capacity));
  }

  async append(
    tags: SeriesTags,
    ts: Float64Array,
    fields: readonly Float64Array[],
    start: number,
    end: number,
  ): Promise<void> {
    while (start < end) {
      const n = Math.min(end - start, this.capacity - this.rows);
      const at = this.rows;
      if (this.runs === this.runStarts.length) {
        const grown = new Int32Array(this.runs * 2);
        grown.set(this.runStarts);
        this.runStarts = grown;
      }
      this.runStarts[this.runs++] = at;
      this.minMs = Math.min(this.minMs, ts[start]!);
      this.maxMs = Math.max(this.maxMs, ts[start + n - 1]!);
      this.timestamps.set(ts.subarray(start, start + n), at);
      fields.forEach((field, f) => this.fields[f]!.set(field.subarray(start, start + n), at));
      for (let t = 0; t < tags.columns.length; t++) {
        const column = this.tagColumn(tags.columns[t]!);
        const value = tags.values[t]!;
        let code = column.index.get(value);
        if (code === undefined) {
          code = column.dictionary.push(value) - 1;
          column.index.set(value, code);
        }
        column.codes.fill(code, at, at + n);
      }
      this.rows += n;
      start += n;
      if (this.rows === this.capacity) await this.flush();
    }
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.commitOpen();
  }

  async abort(): Promise<void> {
    await this.open?.file.abort();
    this.open = undefined;
  }

  private tagColumn(name: string): TagColumn {
    let column = this.tags.get(name);
    if (!column) {
      const codes = (this.spareCodes.pop() ?? new Int32Array(this.capacity)).fill(-1);
      column = { codes, dictionary: [], index: new Map() };
      this.tags.set(name, column);
    }
    return column;
  }

  /** Hands the row group to the file (opening the next file if it brings a new tag). */
  private async flush(): Promise<void> {
    const rows = this.rows;
    if (rows === 0) return;
    const groupTags = [...this.tags.keys()];
    if (this.open && groupTags.some((t) => !this.open!.tags.includes(t))) await this.commitOpen();
    if (!this.open) {
      const tags = [...new Set([...(this.lastTags ?? []), ...groupTags])].sort();
      const { tmp, file } = await this.writer.openTemp(this.dayMs, this.seq++, this.schema(tags));
      this.open = { tmp, file, tags, rows: 0, fromMs: Infinity, toMs: -Infinity };
    }
    const open = this.open;
    const columns: ColumnData[] = [
      { kind: 'timestamp', name: 'timestamp', ms: this.timestamps },
      {
        kind: 'string',
        name: 'query',
        codes: (this.queryCodes ??= new Int32Array(this.capacity)),
        dictionary: [this.query],
      },
      ...open.tags.map((name): ColumnData => {
        const column = this.tags.get(name);
        return column
          ? { kind: 'string', name, codes: column.codes, dictionary: column.dictionary }
          : {
              kind: 'string',
              name,
              codes: (this.nullCodes ??= new Int32Array(this.capacity).fill(-1)),
              dictionary: [],
            };
      }),
      ...this.valueFields.map((name, f): ColumnData => ({
        kind: 'float64',
        name,
        values: this.fields[f]!,
      })),
    ];
    const { minMs, maxMs } = this;
    // The file is done with the arrays once `write` resolves: the next group refills them.
    const used = this.tags;
    const runStarts = this.runStarts.subarray(0, this.runs);
    this.tags = new Map();
    this.rows = 0;
    this.runs = 0;
    this.minMs = Infinity;
    this.maxMs = -Infinity;
    await open.file.write({ rows, columns, runStarts });
    for (const column of used.values()) this.spareCodes.push(column.codes);
    open.rows += rows;
    open.fromMs = Math.min(open.fromMs, minMs);
    open.toMs = Math.max(open.toMs, maxMs + 1);
  }

  private lastTags: readonly string[] | undefined;

  private async commitOpen(): Promise<void> {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    this.lastTags = open.tags;
    const { bytes, sha256 } = await open.file.close();
    await this.writer.commit(
      open.tmp,
      {
        rows: open.rows,
        bytes,
        sha256,
        fromMs: open.fromMs,
        toMs: open.toMs,
        columns: this.schema(open.tags),
      },
      this.dayMs,
    );
  }

  private schema(tags: readonly string[]): ColumnSpec[] {
    return [
      { name: 'timestamp', kind: 'timestamp' },
      { name: 'query', kind: 'string' },
      ...tags.map((name) => ({ name, kind: 'string' as const })),
      ...this.valueFields.map((name) => ({ name, kind: 'float64' as const })),
    ];
  }
}
