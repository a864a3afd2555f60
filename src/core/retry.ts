import { PromfluxError } from './errors.js';

/** Exponential backoff with full jitter: delay_n = random(jitter part) of min(max, initial * multiplier^n). */
export interface RetryPolicy {
  /** Total attempts including the first. 1 = no retry. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  /** 0 = no jitter, 1 = full jitter (delay drawn uniformly from [0, backoff]). */
  jitter: number;
}

/** What the caller says about a failed attempt. */
export type RetryDecision =
  | { retry: false }
  /** `afterMs` is a server's hint (Retry-After); the wait is max(backoff, hint). */
  | { retry: true; afterMs?: number };

export interface RetryOptions {
  policy: RetryPolicy;
  classify: (err: unknown) => RetryDecision;
  /** Epoch ms after which no new attempt starts: retries never outlive the cycle's deadline. */
  deadlineMs?: number;
  signal?: AbortSignal;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  random?: () => number;
  now?: () => number;
}

export function backoffDelayMs(
  policy: RetryPolicy,
  retryIndex: number,
  random: () => number,
): number {
  const exp = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * Math.pow(policy.multiplier, retryIndex),
  );
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(exp * (1 - jitter) + exp * jitter * random());
}

export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: RetryOptions,
): Promise<T> {
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(opts.signal);
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.policy.maxAttempts) throw err;
      const decision = opts.classify(err);
      if (!decision.retry) throw err;
      const backoff = backoffDelayMs(opts.policy, attempt - 1, random);
      const delay = Math.max(backoff, decision.afterMs ?? 0);
      if (opts.deadlineMs !== undefined && now() + delay > opts.deadlineMs) throw err;
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay, opts.signal);
    }
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new PromfluxError('ABORTED', 'Operation aborted.', { cause: signal.reason });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new PromfluxError('ABORTED', 'Operation aborted.', { cause: signal.reason }));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new PromfluxError('ABORTED', 'Operation aborted.', { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Parses an HTTP Retry-After header: delta-seconds or an HTTP date. Returns milliseconds to wait,
 * or undefined when absent or unparseable. (influxdb-client-js reads it as milliseconds: we don't.)
 */
export function parseRetryAfterMs(
  header: string | undefined | null,
  nowMs = Date.now(),
): number | undefined {
  if (header === undefined || header === null) return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
