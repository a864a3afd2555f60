import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../../src/core/buffer-pool.js';

describe('BufferPool', () => {
  it('hands released buffers out again when they are large enough', () => {
    const pool = new BufferPool(2);
    const a = pool.acquire(100);
    expect(a.length).toBeGreaterThanOrEqual(100);
    pool.release(a);
    expect(pool.acquire(200)).not.toBe(a); // too small
    expect(pool.acquire(50)).toBe(a);
  });

  it('keeps at most maxFree buffers and never the same one twice', () => {
    const pool = new BufferPool(2);
    const buffers = [pool.acquire(10), pool.acquire(10), pool.acquire(10)];
    for (const b of buffers) pool.release(b);
    pool.release(buffers[0]!);
    expect(pool.freeCount).toBe(2);
  });

  it('replaces buffers that became too small instead of dropping the ones that fit', () => {
    // A batcher's first buffers follow a guessed line length; later batches need more. With the
    // pool full of the small ones, every round used to allocate a buffer and drop one.
    const pool = new BufferPool(10);
    const seen = new Set<Buffer>();
    const first = [pool.acquire(704_064), pool.acquire(704_064), pool.acquire(704_064)];
    for (const b of first) pool.release(b);
    for (let round = 0; round < 200; round++) {
      const inUse = Array.from({ length: 8 }, () => pool.acquire(709_564));
      for (const b of inUse) seen.add(b);
      for (const b of inUse) pool.release(b);
    }
    expect(seen.size).toBe(8);
    expect(pool.freeCount).toBe(10);
  });

  it('drops a returned buffer smaller than every free one when full', () => {
    const pool = new BufferPool(1);
    const big = pool.acquire(100);
    const small = pool.acquire(10);
    pool.release(big);
    pool.release(small);
    expect(pool.acquire(100)).toBe(big);
  });
});
