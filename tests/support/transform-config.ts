import type { TransformConfig } from '../../src/config/types.js';

/** A transform that keeps every series as it is, into measurement `m` and field `value`. */
export function plainTransform(over: Partial<TransformConfig> = {}): TransformConfig {
  return {
    validMetrics: [],
    measurement: 'm',
    field: 'value',
    labels: { drop: [], keep: [], rename: {} },
    staticTags: {},
    maxFutureSkewMs: 600_000,
    ...over,
  };
}
