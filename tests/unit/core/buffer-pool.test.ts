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
});
