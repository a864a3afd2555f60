/** An InfluxDB 1.x write target: a database and, optionally, one of its retention policies. */
export interface DatabaseTarget {
  db: string;
  rp?: string;
}

/**
 * `database` or `database/retention_policy` → its parts, split at the first `/`; undefined when
 * either part is empty. The one reading of a 1.x `bucket`, shared by the config checks and the
 * v1 sink.
 */
export function splitDatabaseTarget(bucket: string): DatabaseTarget | undefined {
  const slash = bucket.indexOf('/');
  const db = slash === -1 ? bucket : bucket.slice(0, slash);
  const rp = slash === -1 ? undefined : bucket.slice(slash + 1);
  if (!db || rp === '') return undefined;
  return rp === undefined ? { db } : { db, rp };
}

/**
 * Whether `api: v1` accepts a split target at startup: no blank part and no second `/`. Stricter
 * than the sink, which takes any {@link splitDatabaseTarget} result, also when `api: auto` finds
 * a 1.x server (and then writes `db/rp/x` to the retention policy `rp/x`).
 */
export function isPlainDatabaseTarget(target: DatabaseTarget): boolean {
  const { db, rp } = target;
  return db.trim() !== '' && (rp === undefined || (rp.trim() !== '' && !rp.includes('/')));
}
