import { promisify } from 'node:util';
import { constants as zlibConstants, gzip } from 'node:zlib';

import { describeError } from '../core/errors.js';
import { headerValue } from '../core/http-client.js';
import { parseRetryAfterMs } from '../core/retry.js';
import type { Precision } from '../core/line-batch.js';
import { isCertificateError } from '../core/tls-errors.js';
import type { RequestEvent } from './sink.js';
import { classifyWriteOutcome, type WriteOutcome } from './write-outcome.js';
import { writeFailureReason, type WriteFailureReason } from './write-failure-reason.js';

const gzipAsync = promisify(gzip);

/** One HTTP response, whatever the status. */
export interface RawResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends one write request. Resolves for every HTTP status; rejects only when no response arrived
 * (network error, timeout, abort). `contentEncoding` is set when `body` is already gzipped.
 */
export type PostFn = (
  body: Buffer,
  precision: Precision,
  signal: AbortSignal | undefined,
  contentEncoding: 'gzip' | undefined,
) => Promise<RawResponse>;

/** One request's classified outcome, with the text a retry or a failure reports. */
export interface WriteAttempt {
  outcome: WriteOutcome;
  /** Undefined when no response arrived. */
  status: number | undefined;
  /** `HTTP 503: <body>`, or the network error. */
  reason: string;
  /** The network error, when there was one. */
  cause?: unknown;
}

export interface WriteServiceOptions {
  /** The sink's secret-free name, for request events. */
  name: string;
  post: PostFn;
  /** Gzip request bodies (`Content-Encoding: gzip`). */
  gzip?: boolean;
  onRequest?: (event: RequestEvent) => void;
}

/**
 * The service under the write policy (BatchWriter): encodes a body and sends it once, reporting
 * every request and classifying what came back (write-outcome.ts). It never retries, splits or
 * waits; the policy decides what an outcome means for the batch.
 */
export class WriteService {
  private readonly opts: WriteServiceOptions;

  constructor(options: WriteServiceOptions) {
    this.opts = options;
  }

  /** The request body for `lines`: gzipped at the fastest level when configured. */
  encode(lines: Buffer): Promise<Buffer> {
    return this.opts.gzip
      ? gzipAsync(lines, { level: zlibConstants.Z_BEST_SPEED })
      : Promise.resolve(lines);
  }

  /**
   * One request of `lines` lines (`payload` from {@link encode}). Rejects only when aborted; every
   * other result, a network error included, is an outcome.
   */
  async send(
    payload: Buffer,
    batch: { query: string; precision: Precision },
    lines: number,
    signal: AbortSignal | undefined,
  ): Promise<WriteAttempt> {
    const startedAt = performance.now();
    let res: RawResponse;
    try {
      res = await this.opts.post(
        payload,
        batch.precision,
        signal,
        this.opts.gzip ? 'gzip' : undefined,
      );
    } catch (err) {
      if (signal?.aborted) throw err;
      const durationMs = performance.now() - startedAt;
      const reason = describeError(err);
      const outcome = classifyWriteOutcome(
        { networkError: true, certificateError: isCertificateError(err) ? reason : undefined },
        lines,
      );
      this.report(batch.query, undefined, durationMs, writeFailureReason(undefined, outcome, err));
      return { outcome, status: undefined, reason, cause: err };
    }
    const status = res.status;
    const durationMs = performance.now() - startedAt;
    const outcome = classifyWriteOutcome(
      {
        status,
        body: res.body,
        headers: res.headers,
        retryAfterMs: parseRetryAfterMs(headerValue(res.headers, 'retry-after')),
      },
      lines,
    );
    this.report(batch.query, status, durationMs, writeFailureReason(status, outcome));
    return { outcome, status, reason: `HTTP ${status}: ${shortBody(res.body)}` };
  }

  private report(
    query: string,
    status: number | undefined,
    durationMs: number,
    failure: WriteFailureReason | undefined,
  ): void {
    this.opts.onRequest?.({ sink: this.opts.name, query, status, durationMs, failure });
  }
}

function shortBody(body: string): string {
  const text = body.trim().replace(/\s+/g, ' ');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text || '(empty body)';
}
