import type { Sink, WriteReport } from '../load/sink.js';
import type { LineBatch } from '../core/line-batch.js';

export interface SinkTotals {
  written: number;
  rejected: number;
  skippedBeyondRetention: number;
  requests: number;
  retries: number;
}

interface ChunkAck {
  endMs: number;
  pending: number;
  sealed: boolean;
}

/**
 * Writes batches to every sink with at most `maxInFlight` batches outstanding (backpressure: submit
 * waits), and tracks which chunks are fully acknowledged. `ackedThroughMs` only moves forward over
 * a contiguous prefix of chunks whose every batch every sink acknowledged: it is the watermark.
 * After the first failure no new write starts; `drain()` waits for the outstanding ones, so no
 * promise is ever left floating.
 */
export class WriteWindow {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly chunks: ChunkAck[] = [];
  private current: ChunkAck | undefined;
  private failureValue: unknown;
  private failed = false;
  private emptiedCount = 0;
  readonly totals: Map<string, SinkTotals>;
  ackedThroughMs: number | undefined;

  constructor(
    private readonly sinks: readonly Sink[],
    private readonly maxInFlight: number,
    private readonly writeOptions: { signal?: AbortSignal; deadlineMs?: number } = {},
    private readonly onAck?: (ackedThroughMs: number) => void,
  ) {
    this.totals = new Map(
      sinks.map((s) => [
        s.name,
        { written: 0, rejected: 0, skippedBeyondRetention: 0, requests: 0, retries: 0 },
      ]),
    );
  }

  get failure(): unknown {
    return this.failureValue;
  }

  get hasFailed(): boolean {
    return this.failed;
  }

  /** Batches written now and not yet acknowledged by every sink. */
  get writesInFlight(): number {
    return this.inFlight.size;
  }

  /**
   * Times a write settled with no other in flight: each is a moment the sinks had nothing of
   * ours to work on (the last one of a run included). Counted, not timed, for the debug log.
   */
  get emptied(): number {
    return this.emptiedCount;
  }

  beginChunk(endMs: number): void {
    this.current = { endMs, pending: 0, sealed: false };
    this.chunks.push(this.current);
  }

  /** Starts writing the batch to every sink; waits first while the window is full. */
  async submit(batch: LineBatch): Promise<void> {
    const chunk = this.current;
    if (!chunk) throw new Error('WriteWindow.submit before beginChunk');
    while (this.inFlight.size >= this.maxInFlight && !this.failed) {
      await Promise.race(this.inFlight);
    }
    chunk.pending++;
    // After a failure the batch is not written: its chunk stays pending forever, so the watermark
    // can never pass it.
    if (this.failed) {
      batch.release?.();
      return;
    }
    const write = this.writeToAll(batch).then(
      () => {
        chunk.pending--;
        this.advance();
      },
      (err: unknown) => {
        if (!this.failed) {
          this.failed = true;
          this.failureValue = err;
        }
      },
    );
    const tracked = write.finally(() => {
      this.inFlight.delete(tracked);
      if (this.inFlight.size === 0) this.emptiedCount++;
      batch.release?.();
    });
    this.inFlight.add(tracked);
  }

  /** No more batches for the current chunk. */
  endChunk(): void {
    if (this.current) this.current.sealed = true;
    this.current = undefined;
    this.advance();
  }

  /** Waits for every outstanding write to settle. Never rejects: check `hasFailed`. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async writeToAll(batch: LineBatch): Promise<void> {
    const reports = await Promise.all(this.sinks.map((s) => s.write(batch, this.writeOptions)));
    reports.forEach((report, i) => this.count(this.sinks[i]!.name, report));
  }

  private count(sink: string, report: WriteReport): void {
    const totals = this.totals.get(sink)!;
    totals.written += report.written;
    totals.rejected += report.rejected;
    totals.skippedBeyondRetention += report.skippedBeyondRetention;
    totals.requests += report.requests;
    totals.retries += report.retries;
  }

  private advance(): void {
    let moved = false;
    while (this.chunks.length > 0 && this.chunks[0]!.sealed && this.chunks[0]!.pending === 0) {
      this.ackedThroughMs = this.chunks.shift()!.endMs;
      moved = true;
    }
    if (moved && this.ackedThroughMs !== undefined) this.onAck?.(this.ackedThroughMs);
  }
}
