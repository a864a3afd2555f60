import { ConfigError } from './errors.js';

/** An InfluxDB 1.x write target: a database and, optionally, one of its retention policies. */
export interface DatabaseTarget {
  db: string;
  rp?: string;
}

/**
 * `database` or `database/retention_policy` → its parts; undefined when a part is blank or there
 * is a second `/`. The one reading of a 1.x `bucket`: config checks (`api: v1`), the sink (also
 * once `api: auto` finds 1.x), provisioning and the stored-series reader all go through it, so a
 * target none of them can mis-split (`db/rp/x` is not the policy `rp/x`).
 */
export function splitDatabaseTarget(bucket: string): DatabaseTarget | undefined {
  const parts = bucket.split('/');
  if (parts.length > 2 || parts.some((part) => part.trim() === '')) return undefined;
  const [db, rp] = parts as [string, string | undefined];
  return rp === undefined ? { db } : { db, rp };
}

/** Why `bucket` is no 1.x target: the one message every path gives. */
export function invalidDatabaseTargetMessage(bucket: string): string {
  return `"${bucket}" is not a valid InfluxDB 1.x target: use "database" or "database/retention_policy".`;
}

/** {@link splitDatabaseTarget}, or a {@link ConfigError} at `path` (exit 2). */
export function parseDatabaseTarget(bucket: string, path = 'load.influxdb.bucket'): DatabaseTarget {
  const target = splitDatabaseTarget(bucket);
  if (!target) throw new ConfigError([{ path, message: invalidDatabaseTargetMessage(bucket) }]);
  return target;
}
