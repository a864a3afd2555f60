import type { TierConfig } from './types.js';

/** The name of the one raw tier that `load.influxdb.bucket` alone configures. */
export const LEGACY_TIER_NAME = 'raw';

interface TierDocument {
  name: string;
  bucket: string;
  retention: number;
  resolution?: number | undefined;
}

/**
 * The storage tiers, in the order written: `load.tiers`, or the one raw tier `bucket` means,
 * whose retention promflux does not manage (created kept forever, else left as it is).
 */
export function resolveTiers(
  tiers: readonly TierDocument[] | undefined,
  bucket: string | undefined,
): TierConfig[] {
  if (!tiers) {
    return [
      { name: LEGACY_TIER_NAME, bucket: bucket ?? '', retentionMs: 0, retentionUnmanaged: true },
    ];
  }
  return tiers.map((t) => ({
    name: t.name,
    bucket: t.bucket,
    retentionMs: t.retention,
    ...(t.resolution !== undefined && { resolutionMs: t.resolution }),
  }));
}

/**
 * The bucket `load.influxdb.bucket` stands for once tiers are resolved (what `check` probes with
 * the sink): the first raw tier's, else, in a configuration of rollup tiers only, the first tier's.
 */
export function primaryBucket(tiers: readonly TierConfig[]): string {
  return (tiers.find((t) => t.resolutionMs === undefined) ?? tiers[0])?.bucket ?? '';
}
