import { whenAborted } from '../core/abort-fanout.js';
import { MAX_TIMER_MS } from '../core/time.js';
import { describeError, isAbortError, SinkError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { withRetry, type RetryPolicy } from '../core/retry.js';
import type { DeadLetterFile } from './dead-letter.js';
import { lineOffsets, linesOf } from './line-offsets.js';
import type { RequestEvent, RetryEvent, WriteReport } from './sink.js';
import type { LineBatch } from '../core/line-batch.js';
import type { WriteOutcome } from './write-outcome.js';
import { WriteService, type PostFn } from './write-service.js';

export type { PostFn, RawResponse } from './write-service.js';

export interface BatchWriterOptions {
  /** The sink's secret-free name, for messages, logs and dead letters. */
  name: string;
  post: PostFn;
  retry: RetryPolicy;
  deadLetter: DeadLetterFile;
  logger: Logger;
  /** Gzip request bodies (`Content-Encoding: gzip`). */
  gzip?: boolean;
  /** Lines per request; larger batches are written in consecutive chunks. */
  maxLinesPerRequest?: number;
  onRetry?: (event: RetryEvent) => void;
  onRequest?: (event: RequestEvent) => void;
  /** Injected for tests: jitter source and clock of the retry policy. */
  random?: () => number;
  now?: () => number;
}

/** A retryable outcome, thrown inside `withRetry` so that it waits and tries again. */
class RetryableAttempt extends Error {
  constructor(
    readonly outcome: Extract<WriteOutcome, { action: 'retry' }>,
    readonly status: number | undefined,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
    this.name = 'RetryableAttempt';
  }
}

/** Per-write state: the body's line offsets, the running report and the combined abort signal. */
interface WriteContext {
  batch: LineBatch;
  /**
   * offsets[i] = byte offset where line i starts; offsets[lineCount] = body length. Undefined until
   * needed: a batch that fits one request and is accepted never has its lines looked at.
   */
  offsets: number[] | undefined;
  lineCount: number;
  report: WriteReport;
  /** The caller's signal, or one that also aborts at the deadline. */
  signal: AbortSignal | undefined;
  deadlineMs: number | undefined;
  deadlinePassed: () => boolean;
  callerAborted: () => boolean;
}

/**
 * The write policy: owns everything between "here is a batch" and "the server has it" but the
 * request itself: retries with backoff and Retry-After (never past the deadline), 413 splitting,
 * 400/422 bisection down to the offending lines, dead-lettering those lines. One request (encoding,
 * sending, classifying the answer) is the {@link WriteService}'s job, as in Vector's split of
 * encoder, service and retry logic. InfluxDB 1.x and 2.x sinks differ only in the `post` function
 * they pass in.
 */
export class BatchWriter {
  private readonly opts: BatchWriterOptions;
  private readonly service: WriteService;

  constructor(options: BatchWriterOptions) {
    this.opts = options;
    this.service = new WriteService(options);
  }

  /**
   * Writes every line of `batch`, or rejects with a `SinkError` (the caller then treats the whole
   * batch as unwritten). Lines the server refuses as malformed are dead-lettered and counted in
   * `rejected`; they never block the lines behind them.
   */
  async write(
    batch: LineBatch,
    options: { signal?: AbortSignal; deadlineMs?: number } = {},
  ): Promise<WriteReport> {
    const report: WriteReport = {
      written: 0,
      rejected: 0,
      skippedBeyondRetention: 0,
      requests: 0,
      retries: 0,
    };
    const max = this.opts.maxLinesPerRequest;
    const oneRequest = batch.lines > 0 && (max === undefined || batch.lines <= max);
    const offsets = oneRequest ? undefined : this.offsetsOf(batch);
    const lineCount = offsets ? offsets.length - 1 : batch.lines;
    if (lineCount === 0 || batch.body.length === 0) return report;

    const { signal: callerSignal, deadlineMs } = options;
    const deadline =
      deadlineMs === undefined
        ? undefined
        : new WriteDeadline(deadlineMs - (this.opts.now ?? Date.now)(), callerSignal);
    const ctx: WriteContext = {
      batch,
      offsets,
      lineCount,
      report,
      signal: deadline?.signal ?? callerSignal,
      deadlineMs,
      deadlinePassed: () => deadline?.passed === true,
      callerAborted: () => callerSignal?.aborted === true,
    };
    try {
      const chunk = Math.max(1, this.opts.maxLinesPerRequest ?? lineCount);
      for (let from = 0; from < lineCount; from += chunk) {
        await this.writeLines(ctx, from, Math.min(lineCount, from + chunk));
      }
      return report;
    } catch (err) {
      throw this.toSinkError(err, ctx);
    } finally {
      deadline?.dispose();
    }
  }

  /** Writes lines [from, to): one request, then split, bisect, dead-letter or fail as classified. */
  private async writeLines(ctx: WriteContext, from: number, to: number): Promise<void> {
    let lines = to - from;
    // Without offsets, [from, to) is the whole body (one request for the whole batch).
    const body = ctx.offsets
      ? ctx.batch.body.subarray(ctx.offsets[from], ctx.offsets[to])
      : ctx.batch.body;
    const { outcome, status } = await this.send(ctx, body, lines);
    if (outcome.action !== 'accept' && !ctx.offsets) {
      // Splitting, bisecting or dead-lettering needs the lines: as the body has them.
      ctx.offsets = this.offsetsOf(ctx.batch);
      ctx.lineCount = ctx.offsets.length - 1;
      to = ctx.lineCount;
      lines = to - from;
    }
    switch (outcome.action) {
      case 'accept': {
        const skipped = outcome.beyondRetention ?? 0;
        ctx.report.written += lines - skipped;
        ctx.report.skippedBeyondRetention += skipped;
        if (skipped > 0) {
          this.opts.logger.warn(
            { sink: this.opts.name, query: ctx.batch.query, lines: skipped },
            `InfluxDB dropped ${skipped} point(s) older than its retention policy; they are counted as skipped.`,
          );
        }
        return;
      }
      case 'split':
      case 'bisect': {
        if (lines < 2) break; // the classifier never asks this; a lone line is rejected below
        if (outcome.action === 'split') {
          this.opts.logger.warn(
            { sink: this.opts.name, query: ctx.batch.query, lines, bytes: body.length },
            'InfluxDB refused the request as too large (413); writing it in halves.',
          );
        }
        // Halves are written in order: a later line for the same point must still win.
        const mid = from + Math.floor(lines / 2);
        await this.writeLines(ctx, from, mid);
        await this.writeLines(ctx, mid, to);
        return;
      }
      case 'reject':
        await this.deadLetter(ctx, from, to, outcome.reason, status);
        return;
      case 'fail':
        throw new SinkError(outcome.code, `${this.prefix(ctx, lines)}: ${outcome.reason}`, status);
      case 'retry':
        break; // send() only returns final outcomes
    }
    await this.deadLetter(ctx, from, to, `unexpected outcome "${outcome.action}"`, status);
  }

  /** One request with retries. Returns the first non-retry outcome. */
  private async send(
    ctx: WriteContext,
    body: Buffer,
    lines: number,
  ): Promise<{ outcome: WriteOutcome; status?: number }> {
    const policy = this.opts.retry;
    const payload = await this.service.encode(body);
    let attempts = 0;
    try {
      return await withRetry(
        async () => {
          attempts++;
          ctx.report.requests++;
          const attempt = await this.service.send(payload, ctx.batch, lines, ctx.signal);
          const { outcome, status } = attempt;
          if (outcome.action === 'retry') {
            throw new RetryableAttempt(
              outcome,
              status,
              attempt.reason,
              attempt.cause === undefined ? undefined : { cause: attempt.cause },
            );
          }
          return { outcome, status };
        },
        {
          policy,
          deadlineMs: ctx.deadlineMs,
          signal: ctx.signal,
          random: this.opts.random,
          now: this.opts.now,
          classify: (err) =>
            err instanceof RetryableAttempt && !ctx.signal?.aborted
              ? { retry: true, afterMs: err.outcome.afterMs }
              : { retry: false },
          onRetry: (err, attempt, delayMs) => {
            ctx.report.retries++;
            const attemptErr = err as RetryableAttempt;
            const event: RetryEvent = {
              sink: this.opts.name,
              query: ctx.batch.query,
              attempt,
              delayMs,
              status: attemptErr.status,
              reason: attemptErr.message,
            };
            this.opts.logger.warn(event, `Write attempt failed; retrying in ${delayMs} ms.`);
            this.opts.onRetry?.(event);
          },
        },
      );
    } catch (err) {
      if (err instanceof RetryableAttempt && !ctx.signal?.aborted) {
        const gaveUpEarly = attempts < policy.maxAttempts;
        throw new SinkError(
          gaveUpEarly ? 'DEADLINE_EXCEEDED' : 'SINK_WRITE_FAILED',
          gaveUpEarly
            ? `${this.prefix(ctx, lines)}: gave up after ${attempts} attempt(s) because the next retry would pass the deadline; last error: ${err.message}`
            : `${this.prefix(ctx, lines)}: failed after ${attempts} attempt(s); last error: ${err.message}`,
          err.status,
          { cause: err.cause ?? err },
        );
      }
      throw err;
    }
  }

  /** The batch's line offsets; warns when the body does not hold the lines it declares. */
  private offsetsOf(batch: LineBatch): number[] {
    const offsets = lineOffsets(batch.body);
    const actual = offsets.length - 1;
    if (actual !== batch.lines) {
      this.opts.logger.warn(
        { sink: this.opts.name, query: batch.query, declared: batch.lines, actual },
        'Batch line count does not match its body; using the lines found in the body.',
      );
    }
    return offsets;
  }

  private async deadLetter(
    ctx: WriteContext,
    from: number,
    to: number,
    error: string,
    status: number | undefined,
  ): Promise<void> {
    const offsets = ctx.offsets ?? this.offsetsOf(ctx.batch);
    const lines = linesOf(ctx.batch.body, offsets, from, to);
    const deadLetter = this.opts.deadLetter;
    try {
      await deadLetter.append({
        sink: this.opts.name,
        query: ctx.batch.query,
        lines,
        error,
        status,
      });
    } catch (err) {
      throw new SinkError(
        'SINK_WRITE_FAILED',
        `${this.prefix(ctx, lines.length)}: InfluxDB rejected ${lines.length} line(s) and they could not be saved to the dead-letter file ${deadLetter.path}: ${describeError(err)}`,
        status,
        { cause: err },
      );
    }
    ctx.report.rejected += lines.length;
    this.opts.logger.error(
      {
        sink: this.opts.name,
        query: ctx.batch.query,
        lines: lines.length,
        status,
        error,
        deadLetterPath: deadLetter.path,
      },
      `InfluxDB rejected ${lines.length} line(s) as malformed; they were written to the dead-letter file.`,
    );
  }

  private toSinkError(err: unknown, ctx: WriteContext): SinkError {
    const lines = ctx.lineCount;
    // A definitive answer (401, 404, dead-letter failure) stays what it is, even near the deadline.
    if (err instanceof SinkError) return err;
    if (ctx.deadlinePassed()) {
      return new SinkError(
        'DEADLINE_EXCEEDED',
        `${this.prefix(ctx, lines)}: the write deadline passed before InfluxDB acknowledged the batch.`,
        undefined,
        { cause: err },
      );
    }
    if (ctx.callerAborted() || isAbortError(err)) {
      return new SinkError('ABORTED', `${this.prefix(ctx, lines)}: aborted.`, undefined, {
        cause: err,
      });
    }
    return new SinkError(
      'SINK_WRITE_FAILED',
      `${this.prefix(ctx, lines)}: ${describeError(err)}`,
      undefined,
      {
        cause: err,
      },
    );
  }

  private prefix(ctx: WriteContext, lines: number): string {
    return `Could not write ${lines} line(s) of query "${ctx.batch.query}" to ${this.opts.name}`;
  }
}

/**
 * One write's deadline: a signal that aborts when the deadline passes or the caller's signal
 * aborts, until {@link dispose}. Not `AbortSignal.any`: see core/abort-fanout.ts.
 */
class WriteDeadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void) | undefined;
  passed = false;

  constructor(
    leftMs: number,
    private readonly caller: AbortSignal | undefined,
  ) {
    if (caller?.aborted) this.controller.abort(caller.reason);
    else if (caller) this.unsubscribe = whenAborted(caller, this.onCallerAbort);
    if (leftMs <= 0) this.expire();
    // Node fires a longer timer after 1 ms; a deadline that far out never comes first anyway.
    else if (leftMs <= MAX_TIMER_MS) this.timer = setTimeout(this.expire, leftMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.unsubscribe?.();
  }

  private readonly onCallerAbort = (): void => this.controller.abort(this.caller?.reason);

  private readonly expire = (): void => {
    this.passed = true;
    this.controller.abort(new Error('deadline'));
  };
}
