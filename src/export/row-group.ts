/**
 * One row group of an export file, columnar: what the Parquet and CSV writers take. Columns are
 * typed arrays of `rows` entries (longer arrays are read up to `rows`); no object per row.
 */
export interface RowGroup {
  readonly rows: number;
  readonly columns: readonly ColumnData[];
  /**
   * Optional, ascending from 0: rows where a run starts, every string column holding one code
   * from a run's start to the next one's (the long layout's runs of one series). Encoders then
   * work per run, not per row. Runs of equal codes may follow each other.
   */
  readonly runStarts?: Int32Array;
}

export type ColumnData = TimestampColumn | StringColumn | Float64Column;

/** Integer milliseconds since the epoch, UTC. Never null. */
export interface TimestampColumn {
  readonly kind: 'timestamp';
  readonly name: string;
  readonly ms: Float64Array;
}

/** Dictionary-encoded strings: row `i` is `dictionary[codes[i]]`, or null where `codes[i] < 0`. */
export interface StringColumn {
  readonly kind: 'string';
  readonly name: string;
  readonly codes: Int32Array;
  readonly dictionary: readonly string[];
}

/** Doubles; row `i` is null where `valid` is given and `valid[i] === 0`. */
export interface Float64Column {
  readonly kind: 'float64';
  readonly name: string;
  readonly values: Float64Array;
  readonly valid?: Uint8Array;
}

export type ColumnKind = ColumnData['kind'];

export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
}

/** What a finished file holds, for the manifest. `path` is relative to the export directory. */
export interface WrittenFile {
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
  readonly sha256: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly columns: readonly ColumnSpec[];
}

/** A file being written: row groups in, then `close` (renames into place) or `abort`. */
export interface RowGroupFile {
  write(group: RowGroup): Promise<void>;
  /** Finishes the file under its temporary name; returns its size and SHA-256. */
  close(): Promise<{ bytes: number; sha256: string }>;
  /** Stops writing and removes the temporary file. */
  abort(): Promise<void>;
}

/** Running totals of an export, for its progress display; files add the bytes they write. */
export interface WriteCounter {
  rows: number;
  bytes: number;
}

/** Throws unless `runStarts`, if given, starts at row 0 and ascends strictly within the rows. */
export function checkRunStarts(group: RowGroup): void {
  const starts = group.runStarts;
  if (!starts || group.rows === 0) return;
  let ok = starts[0] === 0 && starts[starts.length - 1]! < group.rows;
  for (let r = 1; ok && r < starts.length; r++) ok = starts[r]! > starts[r - 1]!;
  if (!ok) throw new RangeError("A row group's run starts must ascend from 0 within its rows.");
}

export function schemaOf(group: RowGroup): ColumnSpec[] {
  return group.columns.map((c) => ({ name: c.name, kind: c.kind }));
}

/** Throws unless the row group's columns are the file's, by name and kind, in order. */
export function checkSchema(group: RowGroup, specs: readonly ColumnSpec[]): void {
  group.columns.forEach((column, i) => {
    const spec = specs[i];
    if (!spec || spec.name !== column.name || spec.kind !== column.kind) {
      throw new RangeError(
        `Row group column ${i} (${column.name}) does not match the file schema.`,
      );
    }
  });
  if (group.columns.length !== specs.length) {
    throw new RangeError('A row group has fewer columns than the file schema.');
  }
}
