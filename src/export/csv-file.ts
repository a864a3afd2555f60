import { HashedFile } from './hashed-file.js';
import type { ColumnData, ColumnSpec, RowGroup, RowGroupFile, WriteCounter } from './row-group.js';

/**
 * The same rows as the Parquet files, as RFC 4180 CSV: a header, CRLF line ends, fields quoted
 * when they hold `"`, `,`, CR or LF. Timestamps are ISO 8601 UTC with milliseconds
 * (`2024-03-01T00:00:15.000Z`); doubles print as the shortest text that reads back the same
 * double; null is the empty field (an empty tag value prints as `""`, so the two stay apart).
 */
export class CsvFile implements RowGroupFile {
  private constructor(
    private readonly file: HashedFile,
    private readonly columns: readonly ColumnSpec[],
  ) {}

  /** `written`, when given, counts the bytes written (progress). */
  static async create(
    path: string,
    columns: readonly ColumnSpec[],
    written?: WriteCounter,
  ): Promise<CsvFile> {
    const csv = new CsvFile(await HashedFile.create(path, written), columns);
    await csv.append(columns.map((c) => csvField(c.name)).join(',') + '\r\n');
    return csv;
  }

  async write(group: RowGroup): Promise<void> {
    group.columns.forEach((column, i) => {
      if (this.columns[i]?.name !== column.name) {
        throw new RangeError(
          `Row group column ${i} (${column.name}) does not match the CSV header.`,
        );
      }
    });
    const lines: string[] = [];
    for (let row = 0; row < group.rows; row++) {
      lines.push(group.columns.map((column) => formatCell(column, row)).join(','));
      if (lines.length === 4096) await this.append(lines.splice(0).join('\r\n') + '\r\n');
    }
    if (lines.length > 0) await this.append(lines.join('\r\n') + '\r\n');
  }

  close(): Promise<{ bytes: number; sha256: string }> {
    return this.file.close();
  }

  abort(): Promise<void> {
    return this.file.abort();
  }

  private append(text: string): Promise<void> {
    return this.file.append([Buffer.from(text, 'utf8')]);
  }
}

function formatCell(column: ColumnData, row: number): string {
  switch (column.kind) {
    case 'timestamp':
      return new Date(column.ms[row]!).toISOString();
    case 'float64':
      return column.valid && column.valid[row] === 0 ? '' : formatDouble(column.values[row]!);
    case 'string': {
      const code = column.codes[row]!;
      if (code < 0) return '';
      const text = column.dictionary[code]!;
      return text === '' ? '""' : csvField(text);
    }
  }
}

/** pandas and Polars read `inf`, `-inf` and `NaN`; JavaScript would print `Infinity`. */
function formatDouble(v: number): string {
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return String(v);
}

export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
