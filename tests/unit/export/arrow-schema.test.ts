/**
 * The `ARROW:schema` entry is encoded by hand (so the long layout never loads apache-arrow); it
 * must be the very bytes apache-arrow's own IPC writer produces for the same schema, which is
 * what the wide layout's files (parquet-wasm, fed by apache-arrow) carry.
 */
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../scripts/lib/openmetrics-fixture.js';
import { arrowSchemaEntry } from '../../../src/export/parquet-direct/arrow-schema.js';
import type { ColumnSpec } from '../../../src/export/row-group.js';

/** What apache-arrow writes: the schema message of an empty table's IPC stream. */
function arrowWritten(columns: readonly ColumnSpec[]): string {
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
  // The schema message, then the 8-byte end-of-stream marker.
  return Buffer.from(stream.subarray(0, stream.length - 8)).toString('base64');
}

const long = (tags: readonly string[], values = ['value']): ColumnSpec[] => [
  { name: 'timestamp', kind: 'timestamp' },
  { name: 'query', kind: 'string' },
  ...tags.map((name) => ({ name, kind: 'string' as const })),
  ...values.map((name) => ({ name, kind: 'float64' as const })),
];

describe('arrowSchemaEntry', () => {
  it.each([
    ['no tags', long([])],
    ['one tag', long(['instance'])],
    ['six tags', long(['container', 'env', 'instance', 'job', 'pod', 'region'])],
    ['rollup fields', long(['job'], ['value_mean', 'value_min', 'value_max', 'value_count'])],
    ['unicode and escaped names', long(['label_date', 'é_ü', 'a'.repeat(300)])],
    ['a lone float column', [{ name: 'v', kind: 'float64' }] as ColumnSpec[]],
    ['an empty name', [{ name: '', kind: 'string' }] as ColumnSpec[]],
    ['no columns', [] as ColumnSpec[]],
  ])('writes the bytes apache-arrow writes: %s', (_, columns) => {
    expect(arrowSchemaEntry(columns)).toEqual({
      key: 'ARROW:schema',
      value: arrowWritten(columns),
    });
  });

  it('writes the bytes apache-arrow writes for seeded random schemas (dictionary ids past 2^8)', () => {
    const random = mulberry32(15);
    const kinds = ['timestamp', 'string', 'float64'] as const;
    for (let n = 0; n < 40; n++) {
      const width = Math.floor(random() * (n < 5 ? 400 : 30));
      const columns: ColumnSpec[] = Array.from({ length: width }, (_, i) => ({
        name: `c${i}_${'x'.repeat(Math.floor(random() * 12))}`,
        kind: kinds[Math.floor(random() * 3)]!,
      }));
      expect(arrowSchemaEntry(columns).value).toBe(arrowWritten(columns));
    }
  });
});
