/**
 * The `load` section: the InfluxDB sink, its storage tiers and their provisioning, the continuous
 * export, the dead-letter file, the write rate limit.
 */
import { z } from 'zod';
import { boolean, duration, httpUrl, integer, leaf, nonEmptyText, oneOf, text } from '../leaf.js';
import { headerMap } from '../maps.js';
import { retry, RETRY_DEFAULTS, tls } from '../blocks.js';

export const INFLUX_APIS = ['auto', 'v2', 'v1'] as const;

const influxdb = z
  .strictObject({
    url: httpUrl('http://localhost:8086'),
    api: oneOf(INFLUX_APIS).prefault('auto'),
    token: text().optional(),
    token_file: nonEmptyText('a file path').optional(),
    org: text('an organization name').optional(),
    // Required unless load.tiers is set (checks/tiers.ts): alone it is the one raw tier.
    bucket: nonEmptyText(
      'a bucket name; for InfluxDB 1.x "database" or "database/retention_policy"',
    ).optional(),
    username: text('a user name').optional(),
    password: text().optional(),
    password_file: nonEmptyText('a file path').optional(),
    timeout: duration({ positive: true, timer: true }).prefault('30s'),
    batch_size: integer(1, 1_000_000).prefault(5000),
    gzip: boolean().prefault(false),
    headers: headerMap(),
    tls: tls(),
    retry: retry(RETRY_DEFAULTS.influxdb),
  })
  .prefault({});

export const TIER_NAME = /^[A-Za-z0-9_.-]+$/;

/** One storage tier: raw points without `resolution`, rollups with it. */
const tier = z.strictObject({
  name: leaf<string>('a tier name of letters, digits, "_", "." and "-"', (input) => {
    if (typeof input === 'string' && TIER_NAME.test(input)) return { value: input };
    return { error: 'must be a tier name of letters, digits, "_", "." and "-" (e.g. hot)' };
  }),
  bucket: nonEmptyText(
    'a bucket name; for InfluxDB 1.x "database/retention_policy", or "database" kept forever',
  ),
  // 0 keeps the data forever; the 1h floor and whole seconds are checked in checks/tiers.ts.
  retention: duration(),
  resolution: duration({ positive: true, wholeMs: true }).optional(),
});

export const EXPORT_FORMATS = ['parquet', 'csv'] as const;

/** Continuous export: the daemon also writes each complete hour of clean samples as a dataset. */
const continuousExport = z.strictObject({
  dir: nonEmptyText('a directory path (relative to the config file)'),
  format: oneOf(EXPORT_FORMATS).prefault('parquet'),
});

export const load = z
  .strictObject({
    influxdb,
    tiers: z
      .array(tier, { error: 'must be a list of tiers ({name, bucket, retention, resolution})' })
      .min(1, {
        error: 'must list at least one tier (or leave it out and set load.influxdb.bucket)',
      })
      .optional(),
    provision: boolean().prefault(false),
    export: continuousExport.optional(),
    dead_letter_path: nonEmptyText('a file path').optional(),
    max_points_per_second: integer(1).optional(),
  })
  .prefault({});
