import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkQueryName, tagColumnName, wideColumnName } from '../../../src/export/column-names.js';
import { datasetFilePath } from '../../../src/export/dataset-path.js';

describe('tagColumnName', () => {
  it.each([
    ['job', 'job'],
    ['date', 'date_'],
    ['date_', 'date__'],
    ['Date', 'Date_'],
    ['QUERY__', 'QUERY___'],
    ['timestamp', 'timestamp_'],
    ['split', 'split_'],
    ['value', 'value_'],
    ['values', 'values'],
    ['_date', '_date'],
  ])('%s → %s', (tag, column) => {
    expect(tagColumnName(tag)).toBe(column);
  });

  it('escapes the value fields of a rollup tier too', () => {
    expect(tagColumnName('value_mean', ['value_mean', 'value_max'])).toBe('value_mean_');
    expect(tagColumnName('value_mean')).toBe('value_mean');
  });

  it('is injective and never yields a reserved or value-field name', () => {
    const name = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,12}$/);
    const reservedish = fc.constantFrom(
      'date',
      'Date',
      'query',
      'value',
      'split',
      'timestamp',
      'value_max',
    );
    const tag = fc.oneof(
      name,
      fc.tuple(reservedish, fc.nat(3)).map(([r, n]) => r + '_'.repeat(n)),
    );
    const fields = ['value_max'];
    fc.assert(
      fc.property(tag, tag, (a, b) => {
        if (a !== b) expect(tagColumnName(a, fields)).not.toBe(tagColumnName(b, fields));
        const lower = tagColumnName(a, fields).toLowerCase();
        expect(['timestamp', 'value', 'query', 'date', 'split', 'value_max']).not.toContain(lower);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('wideColumnName', () => {
  it('keeps [a-z0-9_] only, starts with a letter and tells apart series that sanitize alike', () => {
    const a = wideColumnName('CPU load', { instance: 'Host:9100', job: 'node' });
    const b = wideColumnName('CPU load', { instance: 'host_9100', job: 'node' });
    expect(a).toMatch(/^cpu_load_host_9100_node_[0-9a-f]{12}$/);
    expect(b).toMatch(/^cpu_load_host_9100_node_[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(wideColumnName('9x', {})).toMatch(/^s_9x_[0-9a-f]{12}$/);
  });

  it('does not depend on label order', () => {
    expect(wideColumnName('q', { a: '1', b: '2' })).toBe(wideColumnName('q', { b: '2', a: '1' }));
  });
});

describe('datasetFilePath', () => {
  it('builds Hive-style partitions named by the half-open range', () => {
    const day = Date.UTC(2024, 2, 1);
    expect(
      datasetFilePath({
        query: 'cpu',
        dayMs: day,
        fromMs: day,
        toMs: day + 3_600_000,
        extension: 'parquet',
      }),
    ).toBe('query=cpu/date=2024-03-01/20240301T000000.000Z_20240301T010000.000Z.parquet');
    expect(
      datasetFilePath({
        split: 'train',
        query: 'cpu',
        dayMs: day,
        fromMs: day + 15_000,
        toMs: day + 30_001,
        extension: 'csv',
        part: 2,
      }),
    ).toBe('split=train/query=cpu/date=2024-03-01/20240301T000015.000Z_20240301T000030.001Z_2.csv');
  });

  it('refuses names that would break the partition path', () => {
    expect(() => checkQueryName('a/b')).toThrow(
      /Query name "a\/b" cannot name an export partition/,
    );
    expect(() => checkQueryName('x=1')).toThrow(/cannot name/);
    expect(() =>
      datasetFilePath({ query: 'q', dayMs: 0, fromMs: 5, toMs: 5, extension: 'csv' }),
    ).toThrow(/from < to/);
  });
});
