import { sleep } from './retry.js';

/**
 * A token bucket for points per second (`load.max_points_per_second`), so a large backfill does
 * not starve a production InfluxDB. Bursts up to one second's worth; a batch larger than that waits
 * until its share of time has passed. Clock and sleep are injectable for tests.
 */
export class RateLimiter {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void> = sleep,
  ) {
    this.tokens = perSecond;
    this.lastMs = now();
  }

  /** Resolves once `count` points may be sent. */
  async take(count: number, signal?: AbortSignal): Promise<void> {
    this.refill();
    this.tokens -= count;
    if (this.tokens < 0) {
      await this.wait(Math.ceil((-this.tokens / this.perSecond) * 1000), signal);
      this.refill();
    }
  }

  private refill(): void {
    const nowMs = this.now();
    this.tokens = Math.min(
      this.perSecond,
      this.tokens + ((nowMs - this.lastMs) / 1000) * this.perSecond,
    );
    this.lastMs = nowMs;
  }
}
