import { describe, expect, it } from 'vitest';
import { rollupFieldNames } from '../../../src/core/metric-kind.js';
import type { LineBatch } from '../../../src/core/line-batch.js';
import { LineBatcher } from '../../../src/transform/line-batcher.js';
import {
  encodeSeriesKey,
  encodeSeriesPrefix,
  escapeTag,
} from '../../../src/transform/line-protocol.js';
import type { WindowAggregate } from '../../../src/transform/rollup.js';
import { RollupLineWriter } from '../../../src/transform/rollup-lines.js';
import { parseLine } from '../../support/line-protocol-parser.js';

const START = 1_700_000_100_000;

function window(fields: Partial<WindowAggregate>): WindowAggregate {
  return {
    startMs: START,
    count: 0,
    sum: 0,
    min: 0,
    max: 0,
    first: 0,
    last: 0,
    increase: 0,
    resets: 0,
    ...fields,
  };
}

function encode(
  writer: RollupLineWriter,
  key: string,
  windows: WindowAggregate[],
  batchSize = 100,
): LineBatch[] {
  const batches: LineBatch[] = [];
  const batcher = new LineBatcher({ batchSize, query: 'q', emit: (b) => batches.push(b) });
  for (const w of windows) writer.append(batcher, new Uint8Array(Buffer.from(key)), w);
  batcher.flush();
  return batches;
}

const KEY = encodeSeriesKey('up', [
  ['job', 'node'],
  ['instance', 'a:9100'],
]);

describe('RollupLineWriter', () => {
  it('writes a gauge window: integer count, float sum/min/max/last/mean, stamped at its start', () => {
    const w = window({ count: 3, sum: 6.5, min: 1, max: 3.5, last: 2 });
    const [batch] = encode(new RollupLineWriter('gauge', 'value'), KEY, [w]);
    expect(batch!.precision).toBe('s');
    expect(batch!.body.toString()).toBe(
      'up,instance=a:9100,job=node value_count=3i,value_sum=6.5,value_min=1,value_max=3.5,' +
        'value_last=2,value_mean=2.1666666666666665 1700000100\n',
    );
  });

  it("writes a counter window under the query's field: float increase, integer resets and count", () => {
    const w = window({ count: 20, increase: 1234.5, resets: 1, first: 100, last: -0 });
    const [batch] = encode(new RollupLineWriter('counter', 'requests'), KEY, [w]);
    expect(batch!.body.toString()).toBe(
      'up,instance=a:9100,job=node requests_increase=1234.5,requests_resets=1i,' +
        'requests_first=100,requests_last=0,requests_count=20i 1700000100\n',
    );
  });

  it('keeps the raw tier’s measurement and tags, and escapes the field key', () => {
    const tags: [string, string][] = [['path', '/a b,c']];
    const key = encodeSeriesKey('http requests', tags);
    expect(encodeSeriesPrefix('http requests', tags, 'my value')).toBe(`${key} my\\ value=`);
    const [batch] = encode(new RollupLineWriter('gauge', 'my value'), key, [
      window({ count: 1, sum: 2, min: 2, max: 2, last: 2 }),
    ]);
    const line = batch!.body.toString();
    const raw = parseLine(`${encodeSeriesPrefix('http requests', tags, 'my value')}2 1`);
    const rollup = parseLine(line.trimEnd());
    expect([rollup.measurement, rollup.tags]).toEqual([raw.measurement, raw.tags]);
    expect(rollup.fieldKey).toBe('my value_count');
    expect(line).toContain(' my\\ value_count=1i,my\\ value_sum=2,');
  });

  it('cuts batches at batch_size and stamps a window that is not on a whole second in ms', () => {
    const windows = [0, 1, 2].map((k) =>
      window({ startMs: START + k * 500, count: 1, sum: k, min: k, max: k, last: k }),
    );
    const batches = encode(new RollupLineWriter('gauge', 'value'), KEY, windows, 2);
    expect(batches.map((b) => [b.lines, b.precision])).toEqual([
      [1, 's'],
      [1, 'ms'],
      [1, 's'],
    ]);
    expect(batches[1]!.body.toString()).toMatch(/ 1700000100500\n$/);
    const sameSecond = [0, 1, 2].map((k) =>
      window({ startMs: START + k * 60_000, count: 1, sum: k, min: k, max: k, last: k }),
    );
    const cut = encode(new RollupLineWriter('gauge', 'value'), KEY, sameSecond, 2);
    expect(cut.map((b) => b.lines)).toEqual([2, 1]);
  });

  it('grows its buffer for series keys longer than the running line estimate', () => {
    const key = encodeSeriesKey('m', [['k', 'x'.repeat(5000)]]);
    const windows = [0, 1, 2].map((k) =>
      window({ startMs: START + k * 60_000, count: 2, sum: 3, min: 1, max: 2, last: 2 }),
    );
    const [batch] = encode(new RollupLineWriter('gauge', 'value'), key, windows);
    const lines = batch!.body.toString().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toBe(
      `${key} value_count=2i,value_sum=3,value_min=1,value_max=2,value_last=2,value_mean=1.5 1700000220`,
    );
  });

  it('writes the fields rollupFieldNames names, in its order (what the stored-series reader asks for)', () => {
    for (const kind of ['gauge', 'counter'] as const) {
      const [batch] = encode(new RollupLineWriter(kind, 'rtt'), KEY, [window({ count: 1 })]);
      // KEY has no space: the fields are the line's second part.
      const fields = batch!.body.toString().split(' ')[1]!.split(',');
      expect(fields.map((f) => f.split('=')[0])).toEqual(rollupFieldNames(kind, 'rtt'));
    }
  });

  it('writes every field name as the plain template, whatever its length or bytes', () => {
    // Field names of each length mod 4 (and multi-byte ones) give separators of every size:
    // whole words and tails of 0-3 bytes.
    const fields = ['v', 'va', 'val', 'valu', 'value', 'välue', 'my value', 'a,b=c', 'µs_99'];
    const windows = [1, 2, 3].map((k) =>
      window({
        startMs: START + k * 300_000,
        count: 20 * k,
        sum: 9733.100000000002 * k,
        min: -0.25 * k,
        max: 1e21 * k,
        first: 0.1 * k,
        last: 1.5e-7 * k,
        increase: 12345.670000000002 * k,
        resets: k,
      }),
    );
    for (const field of fields) {
      const f = escapeTag(field);
      const gauge = encode(new RollupLineWriter('gauge', field), KEY, windows);
      const counter = encode(new RollupLineWriter('counter', field), KEY, windows);
      const stamp = (w: WindowAggregate): number => w.startMs / 1000;
      expect(gauge.map((b) => b.body.toString()).join('')).toBe(
        windows
          .map(
            (w) =>
              `${KEY} ${f}_count=${w.count}i,${f}_sum=${w.sum},${f}_min=${w.min},` +
              `${f}_max=${w.max},${f}_last=${w.last},${f}_mean=${w.sum / w.count} ${stamp(w)}\n`,
          )
          .join(''),
      );
      expect(counter.map((b) => b.body.toString()).join('')).toBe(
        windows
          .map(
            (w) =>
              `${KEY} ${f}_increase=${w.increase},${f}_resets=${w.resets}i,${f}_first=${w.first},` +
              `${f}_last=${w.last},${f}_count=${w.count}i ${stamp(w)}\n`,
          )
          .join(''),
      );
    }
  });
});
