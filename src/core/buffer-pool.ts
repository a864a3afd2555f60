/**
 * Reuses the large buffers line-protocol batches are encoded into. Without it every batch is a
 * fresh ~0.6 MB allocation: at a million points that is over 100 MB of garbage, and the collector's
 * time showed up as a fifth of promflux's CPU. A buffer goes back into the pool only when nothing
 * refers to it any more: every sink's write of it has settled, including the request body's last
 * byte handed to the kernel (see httpRequest).
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(private readonly maxFree: number) {}

  /** A buffer of at least `size` bytes, reused when one is free. Its contents are garbage. */
  acquire(size: number): Buffer {
    for (let i = this.free.length - 1; i >= 0; i--) {
      const buf = this.free[i]!;
      if (buf.length >= size) {
        this.free.splice(i, 1);
        return buf;
      }
    }
    return Buffer.allocUnsafeSlow(size);
  }

  /** Hands a buffer back; the caller must not touch it afterwards. */
  release(buf: Buffer): void {
    const free = this.free;
    if (free.includes(buf)) return;
    if (free.length < this.maxFree) {
      free.push(buf);
      return;
    }
    // Full: keep the larger buffers. Buffers sized for the first batches (a shorter average line)
    // used to hold their slots for good: batches then missed, and the pool dropped the buffers
    // that fit as they came back. Each of those had lived through a write, long enough to be
    // promoted, and its memory returned only with a mark-compact, which a backfill into a fast
    // sink rarely runs: peak RSS grew with the length of the backfill.
    let smallest = -1;
    for (let i = 0; i < free.length; i++) {
      if (free[i]!.length < (smallest < 0 ? buf.length : free[smallest]!.length)) smallest = i;
    }
    if (smallest >= 0) free[smallest] = buf;
  }

  get freeCount(): number {
    return this.free.length;
  }
}
