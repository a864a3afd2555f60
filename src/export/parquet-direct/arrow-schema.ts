import type { ColumnSpec } from '../row-group.js';
import { FlatBufferBuilder } from './flatbuffer-builder.js';

/** Schema.fbs / Message.fbs values used here. */
const TYPE_FLOATING_POINT = 3;
const TYPE_UTF8 = 5;
const TYPE_TIMESTAMP = 10;
const PRECISION_DOUBLE = 2;
const TIME_UNIT_MILLISECOND = 1;
const METADATA_V5 = 4;
const HEADER_SCHEMA = 1;

/**
 * The `ARROW:schema` key-value entry the parquet-wasm writer puts in its files: the Arrow schema
 * as an IPC schema message, base64. Arrow readers (pyarrow, arrow-rs) take their column types
 * from it, so tag columns come back dictionary-encoded (pandas categoricals) rather than plain
 * strings. Dictionary ids are column indexes, as parquet-encoder.ts uses. Encoded here, in the
 * order apache-arrow's writer builds it (the same bytes: tests compare), so that writing a long
 * layout file does not load apache-arrow.
 */
export function arrowSchemaEntry(columns: readonly ColumnSpec[]): { key: string; value: string } {
  const b = new FlatBufferBuilder();
  const fields = b.offsetVector(columns.map((column, i) => field(b, column, i)));
  b.startObject(4);
  b.addFieldOffset(1, fields);
  const schema = b.endObject();
  b.startObject(5);
  b.addFieldInt16(0, METADATA_V5, 0);
  b.addFieldOffset(2, schema);
  b.addFieldInt8(1, HEADER_SCHEMA, 0);
  const flatbuffer = b.finish(b.endObject());
  // IPC framing: the continuation marker, the metadata length, the metadata padded to 8 bytes.
  const size = (flatbuffer.length + 8 + 7) & ~7;
  const message = new Uint8Array(size);
  const view = new DataView(message.buffer);
  view.setInt32(0, -1, true);
  view.setInt32(4, size - 8, true);
  message.set(flatbuffer, 8);
  return { key: 'ARROW:schema', value: Buffer.from(message).toString('base64') };
}

/** A nullable Field: its type table, then (for tags) its DictionaryEncoding, then the Field. */
function field(b: FlatBufferBuilder, column: ColumnSpec, index: number): number {
  let typeType: number;
  let type: number;
  let dictionary = 0;
  switch (column.kind) {
    case 'timestamp': {
      const timezone = b.createString('UTC');
      b.startObject(2);
      b.addFieldInt16(0, TIME_UNIT_MILLISECOND, 0);
      b.addFieldOffset(1, timezone);
      type = b.endObject();
      typeType = TYPE_TIMESTAMP;
      break;
    }
    case 'string': {
      b.startObject(2); // Int32 indices
      b.addFieldInt32(0, 32, 0);
      b.addFieldInt8(1, 1, 0);
      const indexType = b.endObject();
      b.startObject(4);
      b.addFieldInt64(0, index, 0);
      b.addFieldOffset(1, indexType);
      dictionary = b.endObject();
      b.startObject(0); // Utf8 values
      type = b.endObject();
      typeType = TYPE_UTF8;
      break;
    }
    case 'float64':
      b.startObject(1);
      b.addFieldInt16(0, PRECISION_DOUBLE, 0);
      type = b.endObject();
      typeType = TYPE_FLOATING_POINT;
      break;
  }
  const children = b.offsetVector([]);
  const name = column.name === '' ? 0 : b.createString(column.name);
  b.startObject(7);
  b.addFieldOffset(3, type);
  b.addFieldInt8(2, typeType, 0);
  b.addFieldOffset(5, children);
  b.addFieldInt8(1, 1, 0);
  b.addFieldOffset(0, name);
  b.addFieldOffset(4, dictionary);
  return b.endObject();
}
