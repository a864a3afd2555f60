/**
 * Scale-out: replica `index` of `count` owns the queries whose name hashes to it: FNV-1a (32-bit)
 * of the query name's UTF-8 bytes, modulo `count`. Deterministic across restarts and machines, so
 * the replicas together own every query exactly once, and a query keeps its owner (and the
 * owner's watermark) as long as `count` does not change.
 */
export function shardOf(queryName: string, count: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(queryName, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}

export function ownsQuery(queryName: string, shard: { index: number; count: number }): boolean {
  return shard.count <= 1 || shardOf(queryName, shard.count) === shard.index;
}
