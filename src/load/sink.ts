import type { LineBatch } from '../core/line-batch.js';
import type { Logger } from '../core/logger.js';
import type { DeadLetterFile } from './dead-letter.js';
import type { WriteFailureReason } from './write-failure-reason.js';

/**
 * The load stage's contract. A sink owns its HTTP transport, batching limits, retries, 413 splitting,
 * 400 bisection and dead-lettering; the pipeline only hands it encoded batches in order and waits.
 */

export interface WriteReport {
  /** Lines the server acknowledged as written. */
  written: number;
  /** Lines the server refused as malformed (400/422) and that went to the dead-letter file. */
  rejected: number;
  /**
   * Lines the server dropped as older than its retention policy (`partial write: points beyond
   * retention policy dropped=N`): never retried, bisected or dead-lettered; the batch still counts
   * as acknowledged, since no later attempt could store them.
   */
  skippedBeyondRetention: number;
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

/** What every InfluxDB sink needs from its creator. */
export interface SinkDeps {
  deadLetter: DeadLetterFile;
  logger: Logger;
  /** Secret-free sink name for logs, metrics and dead letters (default `influxdb`). */
  name?: string;
  /** Observer called before each retry wait (metrics, tests). */
  onRetry?: (event: RetryEvent) => void;
  /** Observer called after each write request (metrics: duration, status class). */
  onRequest?: (event: RequestEvent) => void;
}

/** Reported before each retry wait (for logs, metrics and tests). */
export interface RetryEvent {
  sink: string;
  query: string;
  /** The attempt that failed, 1-based. */
  attempt: number;
  delayMs: number;
  status?: number;
  reason: string;
}

/** Reported after each write request that got an answer or failed on the network (not on abort). */
export interface RequestEvent {
  sink: string;
  query: string;
  /** HTTP status; undefined when no response arrived (connection error, timeout). */
  status?: number;
  durationMs: number;
  /** Why the request failed; undefined when it succeeded (2xx). */
  failure?: WriteFailureReason;
}
