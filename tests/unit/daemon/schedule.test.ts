import { describe, expect, it } from 'vitest';
import { createSchedule } from '../../../src/daemon/schedule.js';

describe('createSchedule', () => {
  it('without a cron expression, starts cycles interval_seconds apart', () => {
    const schedule = createSchedule({ intervalSeconds: 300 });
    expect(schedule.nextStartMs(1_000)).toBe(301_000);
    expect(schedule.description).toBe('every 300s');
  });

  it('with one, starts cycles on its next tick after the current cycle started', () => {
    const schedule = createSchedule({ intervalSeconds: 300, schedule: '*/2 * * * * *' });
    try {
      const startedMs = Date.now();
      const next = schedule.nextStartMs(startedMs);
      expect(next).toBeGreaterThan(startedMs);
      expect(next - startedMs).toBeLessThanOrEqual(2000);
      expect(next % 2000).toBe(0);
      expect(schedule.description).toBe('on the cron schedule "*/2 * * * * *"');
    } finally {
      schedule.close();
    }
  });
});
