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
 * Writes batches to every sink with at most `maxInFlight` batches outstanding, and up to
 * `maxQueued` more encoded batches waiting their turn (backpressure: submit waits once both are
 * full), and tracks which chunks are fully acknowledged. The queued batches keep the sinks busy
 * while the producer reads and decodes the next chunk: without them, the sinks ran out of work at
 * every chunk boundary. They cost a few batch buffers, far less than a second chunk's columns. `ackedThroughMs` only moves forward over
 * a contiguous prefix of chunks whose every batch every sink acknowledged: it is the watermark.
 * After the first failure no new write starts; `drain()` waits for the outstanding ones, so no
 * promise is ever left floating.
 */
export class WriteWindow {
  private readonly inFlight = new Set<Promise<void>>();
  /** Batches submitted but not started, with their chunk, in submission order. */
  private readonly queued: { batch: LineBatch; chunk: ChunkAck }[] = [];
  /** Resolves a submit waiting for room in the queue. */
  private roomWaiters: (() => void)[] = [];
  private readonly chunks: ChunkAck[] = [];
  private current: ChunkAck | undefined;
  private failureValue: unknown;
  private failed = false;
  private emptiedCount = 0;
  private emptiedAt: number | undefined;
  private idleTotalMs = 0;
  readonly totals: Map<string, SinkTotals>;
  ackedThroughMs: number | undefined;

  constructor(
    private readonly sinks: readonly Sink[],
    private readonly maxInFlight: number,
    private readonly writeOptions: { signal?: AbortSignal; deadlineMs?: number } = {},
    private readonly onAck?: (ackedThroughMs: number) => void,
    private readonly maxQueued = 0,
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

  /** Milliseconds so far between a write settling with no other in flight and the next start. */
  get idleMs(): number {
    return this.idleTotalMs;
  }

  beginChunk(endMs: number): void {
    this.current = { endMs, pending: 0, sealed: false };
    this.chunks.push(this.current);
  }

  /**
   * Starts writing the batch to every sink, or queues it when `maxInFlight` writes are outstanding;
   * waits first while the queue is full too.
   */
  async submit(batch: LineBatch): Promise<void> {
    const chunk = this.current;
    if (!chunk) throw new Error('WriteWindow.submit before beginChunk');
    while (this.isFull() && !this.failed) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    chunk.pending++;
    // After a failure the batch is not written: its chunk stays pending forever, so the watermark
    // can never pass it.
    if (this.failed) {
      batch.release?.();
      return;
    }
    if (this.inFlight.size < this.maxInFlight) this.start(batch, chunk);
    else this.queued.push({ batch, chunk });
  }

  private isFull(): boolean {
    return this.inFlight.size >= this.maxInFlight && this.queued.length >= this.maxQueued;
  }

  private start(batch: LineBatch, chunk: ChunkAck): void {
    if (this.emptiedAt !== undefined) {
      this.idleTotalMs += performance.now() - this.emptiedAt;
      this.emptiedAt = undefined;
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
      batch.release?.();
      this.startQueued();
      if (this.inFlight.size === 0) {
        this.emptiedCount++;
        this.emptiedAt = performance.now();
      }
      this.wakeSubmitters();
    });
    this.inFlight.add(tracked);
  }

  /** Moves queued batches into flight; after a failure, drops them unwritten. */
  private startQueued(): void {
    while (this.queued.length > 0 && (this.failed || this.inFlight.size < this.maxInFlight)) {
      const next = this.queued.shift()!;
      if (this.failed) next.batch.release?.();
      else this.start(next.batch, next.chunk);
    }
  }

  private wakeSubmitters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /** No more batches for the current chunk. */
  endChunk(): void {
    if (this.current) this.current.sealed = true;
    this.current = undefined;
    this.advance();
  }

  /** Waits for every outstanding write to settle. Never rejects: check `hasFailed`. */
  async drain(): Promise<void> {
    // Queued batches start as writes settle, so waiting for the writes in flight empties both.
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
