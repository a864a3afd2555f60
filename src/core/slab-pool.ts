/** Free column memory a Prometheus client keeps between chunks (the rest is left to the GC). */
export const COLUMN_POOL_BYTES = 32 * 1024 * 1024;

/**
 * Reuses the ArrayBuffers behind the decoder's sample columns from one range-query chunk to the
 * next. Each chunk otherwise allocates tens of megabytes that become garbage a moment later; the
 * collector lets such external memory pile up (tens of MB) before it runs, which made peak RSS grow
 * with the length of a backfill. Buffers are kept by exact byte size (the decoder asks for powers
 * of two), up to `maxFreeBytes` in all.
 */
export class SlabPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;

  constructor(private readonly maxFreeBytes: number) {}

  /** An ArrayBuffer of exactly `bytes` bytes; a reused one holds stale data. */
  acquire(bytes: number): ArrayBuffer {
    const reused = this.free.get(bytes)?.pop();
    if (reused) {
      this.freeBytes -= bytes;
      return reused;
    }
    return new ArrayBuffer(bytes);
  }

  /** Hands a buffer back; nothing may use views on it afterwards. */
  release(buffer: ArrayBuffer): void {
    const bytes = buffer.byteLength;
    if (this.freeBytes + bytes > this.maxFreeBytes) return;
    let list = this.free.get(bytes);
    if (!list) this.free.set(bytes, (list = []));
    list.push(buffer);
    this.freeBytes += bytes;
  }

  get pooledBytes(): number {
    return this.freeBytes;
  }
}
