import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../../src/core/buffer-pool.js';
import { seriesBlock } from '../../../src/core/series.js';
import type { LineBatch } from '../../../src/core/line-batch.js';
import { LineBatcher, coarsestPrecision } from '../../../src/transform/line-batcher.js';

function collect(batchSize: number) {
  const batches: LineBatch[] = [];
  const batcher = new LineBatcher({ batchSize, query: 'q', emit: (b) => batches.push(b) });
  return { batches, batcher };
}

describe('LineBatcher', () => {
  it('writes one line per sample in the coarsest exact precision', () => {
    const { batches, batcher } = collect(10);
    batcher.append(Buffer.from('m,t=a value='), seriesBlock({}, [1000, 2000], [1, 0.5]));
    batcher.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.body.toString()).toBe('m,t=a value=1 1\nm,t=a value=0.5 2\n');
    expect(batches[0]).toMatchObject({ lines: 2, precision: 's', query: 'q' });
  });

  it('switches to milliseconds for sub-second timestamps, in a batch of their own', () => {
    const { batches, batcher } = collect(10);
    batcher.append(Buffer.from('m value='), seriesBlock({}, [1000], [1]));
    batcher.append(Buffer.from('m value='), seriesBlock({}, [1500], [2]));
    batcher.flush();
    expect(batches.map((b) => [b.precision, b.body.toString()])).toEqual([
      ['s', 'm value=1 1\n'],
      ['ms', 'm value=2 1500\n'],
    ]);
  });

  it('cuts batches at batchSize lines and grows for long prefixes', () => {
    const { batches, batcher } = collect(3);
    const prefix = Buffer.from(`m,long=${'x'.repeat(500)} value=`);
    const ts = Float64Array.from({ length: 7 }, (_, i) => (i + 1) * 1000);
    batcher.append(prefix, seriesBlock({}, ts, ts));
    batcher.flush();
    expect(batches.map((b) => b.lines)).toEqual([3, 3, 1]);
    const all = batches.map((b) => b.body.toString()).join('');
    expect(all.split('\n').filter(Boolean)).toHaveLength(7);
    expect(all.endsWith(`${prefix.toString()}7000 7\n`)).toBe(true);
  });

  it('detects precision', () => {
    expect(coarsestPrecision(Float64Array.of(0, 15000), 0, 2)).toBe('s');
    expect(coarsestPrecision(Float64Array.of(15000, 15001), 0, 2)).toBe('ms');
    expect(coarsestPrecision(Float64Array.of(15000, 15001), 0, 1)).toBe('s');
    expect(coarsestPrecision(Float64Array.of(15001, 15000), 1, 2)).toBe('s');
  });

  it('detects precision as `% 1000` would, for any safe integer or fraction', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.maxSafeNat(),
          fc.maxSafeNat().map((n) => Math.floor(n / 1000) * 1000),
          fc.double({ min: 0, max: 2e12, noNaN: true }),
        ),
        (ms) => {
          const expected = ms % 1000 === 0 ? 's' : 'ms';
          expect(coarsestPrecision(Float64Array.of(ms), 0, 1)).toBe(expected);
        },
      ),
    );
  });

  it('writes only the samples in the block window', () => {
    const { batches, batcher } = collect(10);
    const columns = {
      timestampsMs: Float64Array.of(1000, 2000, 3500, 4000),
      values: Float64Array.of(1, 2, 3, 4),
    };
    batcher.append(Buffer.from('m value='), {
      labels: {},
      columns,
      offset: 1,
      length: 2,
      nullValues: 0,
    });
    batcher.flush();
    expect(batches.map((b) => [b.precision, b.body.toString()])).toEqual([
      ['ms', 'm value=2 2000\nm value=3 3500\n'],
    ]);
  });

  describe('batch buffers from a pool', () => {
    /** A batcher on a pool that records the size of every buffer asked of it. */
    function pooledBatcher(batchSize: number) {
      const pool = new BufferPool(4);
      const sizes: number[] = [];
      const acquire = pool.acquire.bind(pool);
      pool.acquire = (size: number) => {
        sizes.push(size);
        return acquire(size);
      };
      const batches: LineBatch[] = [];
      const batcher = new LineBatcher({
        batchSize,
        query: 'q',
        pool,
        emit: (b) => batches.push(b),
      });
      return { pool, sizes, batches, batcher };
    }

    it('takes a buffer only when a line comes, and the one just written back after a flush', () => {
      const { pool, sizes, batches, batcher } = pooledBatcher(10);
      expect(sizes).toHaveLength(0);
      batcher.append(Buffer.from('m value='), seriesBlock({}, [1000], [1]));
      batcher.flush();
      expect(sizes).toHaveLength(1);
      expect(batches[0]!.body.toString()).toBe('m value=1 1\n');
      // Written and released before the next line: the batcher holds nothing meanwhile.
      batches[0]!.release!();
      expect(pool.freeCount).toBe(1);
      batcher.append(Buffer.from('m value='), seriesBlock({}, [2000], [2]));
      expect(pool.freeCount).toBe(0);
      batcher.flush();
      // The same buffer again: the second batch is where the first was.
      expect(sizes).toHaveLength(2);
      expect(batches[1]!.body.toString()).toBe('m value=2 2\n');
      expect(batches[1]!.body.buffer).toBe(batches[0]!.body.buffer);
    });

    it('grows once to what the batch needs at the average line, not by doubling', () => {
      const { sizes, batches, batcher } = pooledBatcher(1000);
      // Lines of ~300 bytes, three times the first guess of the line length.
      const prefix = Buffer.from(`m,t=${'x'.repeat(280)} value=`);
      const ts = Float64Array.from({ length: 1000 }, (_, i) => (i + 1) * 1000);
      batcher.append(prefix, seriesBlock({}, ts, ts));
      expect(batches).toHaveLength(1);
      const lineBytes = batches[0]!.body.length / 1000;
      // The first guess, then one buffer for the whole batch (old: 96, 192, 384 kB).
      expect(sizes).toHaveLength(2);
      expect(sizes[1]!).toBeGreaterThanOrEqual(batches[0]!.body.length);
      expect(sizes[1]!).toBeLessThan(1000 * lineBytes * 1.2);
    });
  });
});
