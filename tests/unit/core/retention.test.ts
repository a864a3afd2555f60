import { describe, expect, it } from 'vitest';
import type { TierConfig } from '../../../src/config/types.js';
import { RETENTION_MARGIN_MS, retentionCutoffMs } from '../../../src/core/retention.js';

const NOW = 1_700_000_000_000;
const DAY = 86_400_000;

describe('retentionCutoffMs', () => {
  it('keeps an hour of margin inside a finite retention', () => {
    const hot: TierConfig = { name: 'hot', bucket: 'h', retentionMs: 7 * DAY };
    expect(RETENTION_MARGIN_MS).toBe(3_600_000);
    expect(retentionCutoffMs(hot, NOW)).toBe(NOW - 7 * DAY + 3_600_000);
  });

  it('has no cutoff for a tier kept forever or not managed', () => {
    const cold: TierConfig = { name: 'cold', bucket: 'c', retentionMs: 0 };
    const legacy: TierConfig = {
      name: 'raw',
      bucket: 'b',
      retentionMs: 7 * DAY,
      retentionUnmanaged: true,
    };
    expect(retentionCutoffMs(cold, NOW)).toBeUndefined();
    expect(retentionCutoffMs(legacy, NOW)).toBeUndefined();
  });
});
