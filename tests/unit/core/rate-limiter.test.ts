import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../src/core/rate-limiter.js';

describe('RateLimiter', () => {
  it('lets a second of points through at once, then holds the average to the rate', async () => {
    let nowMs = 0;
    const waits: number[] = [];
    const limiter = new RateLimiter(
      1000,
      () => nowMs,
      (ms) => {
        waits.push(ms);
        nowMs += ms;
        return Promise.resolve();
      },
    );
    await limiter.take(1000); // the initial burst
    expect(waits).toEqual([]);
    for (let i = 0; i < 10; i++) await limiter.take(500);
    // 5000 more points at 1000/s: 5 seconds of waiting in all.
    expect(waits.reduce((a, b) => a + b, 0)).toBe(5000);
    expect(nowMs).toBe(5000);
  });

  it('does not wait when the rate is not reached', async () => {
    let nowMs = 0;
    const limiter = new RateLimiter(
      100,
      () => nowMs,
      () => Promise.reject(new Error('should not wait')),
    );
    for (let i = 0; i < 5; i++) {
      await limiter.take(50);
      nowMs += 600;
    }
  });
});
