/**
 * How much younger than a tier's retention a point must be to be sent. InfluxDB drops whole shard
 * groups by its own clock, and refuses points older than its retention when they arrive; an hour
 * covers clock skew and the time a batch waits for its write.
 */
export const RETENTION_MARGIN_MS = 3_600_000;

/** The part of a TierConfig (config/types.ts, a layer above) the cutoff reads. */
export interface RetentionOf {
  /** 0 = kept forever. */
  retentionMs: number;
  retentionUnmanaged?: true;
}

/**
 * Points (or windows) stamped before this are beyond the tier's retention and not sent to it;
 * undefined when the tier keeps everything (`retention: 0`) or promflux does not manage its
 * retention (the legacy `load.influxdb.bucket`).
 */
export function retentionCutoffMs(tier: RetentionOf, nowMs: number): number | undefined {
  if (tier.retentionUnmanaged || tier.retentionMs <= 0) return undefined;
  return nowMs - tier.retentionMs + RETENTION_MARGIN_MS;
}

/** The shortest finite retention InfluxDB 1.x and 2.x accept (`0` means forever). */
export const MIN_RETENTION_MS = 3_600_000;

/** Whether a finite retention is under what 1.x and 2.x accept. */
export function isRetentionTooShort(retentionMs: number): boolean {
  return retentionMs > 0 && retentionMs < MIN_RETENTION_MS;
}
