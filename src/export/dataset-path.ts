import { checkQueryName } from './column-names.js';

export const DAY_MS = 86_400_000;

export interface DatasetFile {
  /** `train`, `validation`, ... when the export is split by time. */
  split?: string;
  query: string;
  /** Start of the file's UTC day, in ms. */
  dayMs: number;
  /** The time range the file holds, half-open `[fromMs, toMs)`. */
  fromMs: number;
  toMs: number;
  extension: 'parquet' | 'csv';
  /** 2, 3, ... for a further file of the same range (a file closed early for a new label). */
  part?: number;
}

/**
 * A file's path relative to the export directory, Hive-style:
 * `[split=S/]query=NAME/date=YYYY-MM-DD/<from>_<to>.<ext>`, with `<from>` and `<to>` in basic ISO
 * 8601 UTC (`20240301T000000.000Z`), so names sort by time and hold no `:` (which Hadoop paths
 * and Windows refuse).
 */
export function datasetFilePath(file: DatasetFile): string {
  checkQueryName(file.query);
  if (file.split !== undefined && !/^[a-z][a-z0-9_]*$/.test(file.split)) {
    throw new RangeError(`Split name "${file.split}" must match [a-z][a-z0-9_]*.`);
  }
  if (!(file.fromMs < file.toMs)) {
    throw new RangeError(`A dataset file needs from < to (got ${file.fromMs}, ${file.toMs}).`);
  }
  const parts = file.split === undefined ? [] : [`split=${file.split}`];
  parts.push(`query=${file.query}`, `date=${utcDate(file.dayMs)}`);
  const part = file.part !== undefined && file.part > 1 ? `_${file.part}` : '';
  parts.push(`${compactUtc(file.fromMs)}_${compactUtc(file.toMs)}${part}.${file.extension}`);
  return parts.join('/');
}

/** `YYYY-MM-DD` of the UTC day holding `ms`. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

function compactUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '');
}
