import * as arrow from 'apache-arrow';
import type { ColumnSpec } from '../row-group.js';

/**
 * The `ARROW:schema` key-value entry the parquet-wasm writer puts in its files: the Arrow schema
 * as an IPC schema message, base64. Arrow readers (pyarrow, arrow-rs) take their column types
 * from it, so tag columns come back dictionary-encoded (pandas categoricals) rather than plain
 * strings. Built once per file; dictionary ids are column indexes, as parquet-encoder.ts uses.
 */
export function arrowSchemaEntry(columns: readonly ColumnSpec[]): { key: string; value: string } {
  const fields = columns.map((column, i) => {
    switch (column.kind) {
      case 'timestamp':
        return new arrow.Field(column.name, new arrow.TimestampMillisecond('UTC'), true);
      case 'string':
        return new arrow.Field(
          column.name,
          new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32(), i),
          true,
        );
      case 'float64':
        return new arrow.Field(column.name, new arrow.Float64(), true);
    }
  });
  const stream = arrow.RecordBatchStreamWriter.writeAll(
    new arrow.Table(new arrow.Schema(fields)),
  ).toUint8Array(true);
  // An empty table's stream is its schema message, then the 8-byte end-of-stream marker.
  const message = stream.subarray(0, stream.length - 8);
  return { key: 'ARROW:schema', value: Buffer.from(message).toString('base64') };
}
