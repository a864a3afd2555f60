/**
 * A one-slot rendezvous between a producer (`put`) and a consumer (`take`), so at most one value
 * waits between them: the Parquet encoder thread hands record batches to the streaming writer
 * through it.
 */
export class Handoff<T> {
  private slot: { value: T; taken: () => void; failed: (e: Error) => void } | undefined;
  private taker: ((next: IteratorResult<T, undefined>) => void) | undefined;
  private ended = false;
  private error: Error | undefined;

  put(value: T): Promise<void> {
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.taker) {
      const taker = this.taker;
      this.taker = undefined;
      taker({ value, done: false });
      return Promise.resolve();
    }
    return new Promise((taken, failed) => {
      this.slot = { value, taken, failed };
    });
  }

  take(): Promise<IteratorResult<T, undefined>> {
    const slot = this.slot;
    if (slot) {
      this.slot = undefined;
      slot.taken();
      return Promise.resolve({ value: slot.value, done: false });
    }
    if (this.ended || this.error !== undefined)
      return Promise.resolve({ value: undefined, done: true });
    return new Promise((taker) => {
      this.taker = taker;
    });
  }

  end(): void {
    this.ended = true;
    this.release();
  }

  fail(error: Error): void {
    this.error ??= error;
    this.slot?.failed(error);
    this.slot = undefined;
    this.release();
  }

  private release(): void {
    const taker = this.taker;
    this.taker = undefined;
    taker?.({ value: undefined, done: true });
  }
}
