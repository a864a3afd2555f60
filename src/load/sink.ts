import type { LineBatch } from '../core/line-batch.js';

/**
 * The load stage's contract. A sink owns its HTTP transport, batching limits, retries, 413 splitting,
 * 400 bisection and dead-lettering; the pipeline only hands it encoded batches in order and waits.
 */

export interface WriteReport {
  /** Lines the server acknowledged as written. */
  written: number;
  /** Lines the server refused as malformed (400/422) and that went to the dead-letter file. */
  rejected: number;
  /** HTTP requests made, including retries and split/bisect requests. */
  requests: number;
  retries: number;
}

export interface SinkCheckResult {
  ok: boolean;
  /**
   * Short human sentences, one per check made (`reachable: InfluxDB 1.6.7 (v1 API)`), in order;
   * the checks stop at the first that fails, so when `ok` is false only the last one failed.
   */
  details: string[];
}

export interface Sink {
  /** Stable, secret-free name for logs and metric labels (`influxdb`, `influxdb:warm`). */
  readonly name: string;
  /**
   * Writes one batch. Resolves once the server acknowledged every line that was not rejected as
   * malformed (rejected lines are dead-lettered and counted, never retried). Rejects with a
   * `SinkError` when the batch could not be written within the retry policy or the deadline; the
   * caller must then treat the whole batch as unwritten (re-writing later is harmless: points are
   * idempotent).
   */
  write(
    batch: LineBatch,
    options?: { signal?: AbortSignal; deadlineMs?: number },
  ): Promise<WriteReport>;
  /** Connectivity, authentication and target (bucket / database) check, for `promflux check`. */
  check(): Promise<SinkCheckResult>;
  /** Releases sockets and files. Pending writes are not abandoned silently: call after awaiting them. */
  close(): Promise<void>;
}
