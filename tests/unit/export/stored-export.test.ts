import { describe, expect, it } from 'vitest';
import type { QueryConfig, TierConfig, TransformConfig } from '../../../src/config/types.js';
import { columnsOf, fieldsToRead, storedColumnOptions } from '../../../src/export/stored-export.js';

const TRANSFORM = { field: 'value' } as TransformConfig;
const RAW: TierConfig = { name: 'hot', bucket: 'm/hot', retentionMs: 0 };
const WARM: TierConfig = { name: 'warm', bucket: 'm/warm', retentionMs: 0, resolutionMs: 300_000 };
const query = (expr: string, extra: Partial<QueryConfig> = {}): QueryConfig => ({
  name: 'q',
  expr,
  stepMs: 15_000,
  tags: {},
  ...extra,
});

const GAUGE = ['value_count', 'value_sum', 'value_min', 'value_max', 'value_last', 'value_mean'];
const COUNTER = ['value_increase', 'value_resets', 'value_first', 'value_last', 'value_count'];

describe('storedColumnOptions', () => {
  it('raw tier: the query field', () => {
    expect(storedColumnOptions(query('up', { field: 'v' }), TRANSFORM, RAW)).toEqual([['v']]);
  });

  it('rollup tier: the kind set or decided without metadata is the only option', () => {
    expect(storedColumnOptions(query('sum(up)'), TRANSFORM, WARM)).toEqual([GAUGE]);
    expect(storedColumnOptions(query('x_total', { kind: 'gauge' }), TRANSFORM, WARM)).toEqual([
      GAUGE,
    ]);
    expect(storedColumnOptions(query('up', { kind: 'counter' }), TRANSFORM, WARM)).toEqual([
      COUNTER,
    ]);
  });

  it('rollup tier, auto on a bare selector: metadata may have decided, so both kinds, suffix rule first', () => {
    expect(storedColumnOptions(query('x_total'), TRANSFORM, WARM)).toEqual([COUNTER, GAUGE]);
    expect(storedColumnOptions(query('up{job="a"}'), TRANSFORM, WARM)).toEqual([GAUGE, COUNTER]);
  });

  it('refuses kind: counter on an expression, as the config check does', () => {
    expect(() =>
      storedColumnOptions(query('rate(x_total[5m])', { kind: 'counter' }), TRANSFORM, WARM),
    ).toThrow('kind: counter needs a bare selector');
  });
});

describe('columnsOf', () => {
  const options = [GAUGE, COUNTER];
  const read = fieldsToRead(options);
  const series = (present: string[]) => ({
    tags: {},
    timestampsMs: Float64Array.of(0),
    fields: read.map((f) => Float64Array.of(present.includes(f) ? 1 : NaN)),
  });

  it('picks the option the stored window holds every field of, as indexes into what was read', () => {
    expect(read).toEqual([...GAUGE, 'value_increase', 'value_resets', 'value_first']);
    expect(columnsOf(options, read, series(GAUGE))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(columnsOf(options, read, series(COUNTER))).toEqual([6, 7, 8, 4, 0]);
    expect(columnsOf(options, read, series(['value_count']))).toBeUndefined();
  });
});
