import type http from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { PromfluxError, QueryError, type ErrorCode } from '../core/errors.js';
import {
  authorizationHeader,
  createAgent,
  joinUrl,
  type HttpEndpointOptions,
} from '../core/http.js';
import {
  anySignal,
  deadlineSignal,
  headerValue,
  requestErrorMessage as safeMessage,
  RestartableTimeout,
  streamRequest,
  type StreamingResponse,
} from '../core/http-client.js';
import type { Logger } from '../core/logger.js';
import { redactUrl } from '../core/redact.js';
import {
  parseRetryAfterMs,
  withRetry,
  type RetryDecision,
  type RetryPolicy,
} from '../core/retry.js';
import { formatDuration } from '../core/time.js';
import { DecodeError, LabelSetCache, LabelStringCache, MatrixDecoder } from './matrix-decoder.js';
import type { MatrixResult, RangeRequest } from './types.js';
import { COLUMN_POOL_BYTES, SlabPool } from '../core/slab-pool.js';
import { YoungGarbageCollector } from '../core/young-garbage.js';

/** Response bytes read between two young-generation collections (see YoungGarbageCollector). */
const RESPONSE_GARBAGE_BYTES = 4 * 1024 * 1024;

export interface PrometheusClientOptions {
  endpoint: HttpEndpointOptions;
  /** Extra form parameters for every range query (Thanos `dedup`, `partial_response`, ...). */
  params: Record<string, string>;
  retry: RetryPolicy;
  userAgent?: string;
  /**
   * Response compression. `auto` (default): identity on loopback, where decompressing costs more
   * CPU than the bytes do, gzip elsewhere.
   */
  compression?: 'auto' | 'gzip' | 'identity';
  /** Fail a response with more series than this (a memory guard). Default: no limit. */
  maxSeriesPerResponse?: number;
  /** Retries are logged here (warn). */
  logger?: Logger;
  /** Jitter source for retries (tests). */
  random?: () => number;
  /** Observer called after each range-query attempt that was not aborted (metrics). */
  onRequest?: (event: QueryRequestEvent) => void;
}

/** One `query_range` attempt: how long it took and, when it failed, Prometheus' errorType. */
export interface QueryRequestEvent {
  query: string;
  durationMs: number;
  /** `bad_data`, `execution`, `timeout`, `network`, `http_503`, `decode`...; absent on success. */
  errorType?: string;
}

export interface QueryRangeOptions {
  signal?: AbortSignal;
  /** Epoch ms: no attempt starts, and none runs, past it. */
  deadlineMs?: number;
  /**
   * The response body is read only once this settles. Sent early, a query is evaluated while an
   * earlier chunk is being processed, and its body waits in the socket and in the server instead of
   * as decoded columns in promflux. The timeout stops while the body waits and starts again from
   * zero when it is read (a deadline keeps running).
   */
  bodyGate?: Promise<void>;
}

/** Prometheus errorTypes a retry may fix. */
const RETRYABLE_ERROR_TYPES = new Set(['timeout', 'canceled', 'internal', 'unavailable']);
const BODY_HEAD_CHARS = 200;

/**
 * A range query that failed. `retryable` says whether another attempt may succeed; `retryAfterMs`
 * carries the server's Retry-After. Messages name the query and the URL, never headers.
 */
export class PrometheusRequestError extends QueryError {
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(
    code: ErrorCode,
    query: string,
    errorType: string,
    message: string,
    details: { retryable: boolean; status?: number; retryAfterMs?: number },
  ) {
    super(code, query, errorType, message);
    this.retryable = details.retryable;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** The retry decision for an error thrown by one query attempt. */
export function classifyQueryError(err: unknown): RetryDecision {
  if (err instanceof PrometheusRequestError && err.retryable) {
    return err.retryAfterMs === undefined
      ? { retry: true }
      : { retry: true, afterMs: err.retryAfterMs };
  }
  return { retry: false };
}

/**
 * The Prometheus HTTP API client (also Thanos, Mimir, VictoriaMetrics). Range queries stream the
 * response body into a {@link MatrixDecoder} as it arrives; one keep-alive agent serves all
 * requests. Call {@link close} when done.
 */
export class PrometheusClient {
  private readonly endpoint: HttpEndpointOptions;
  private readonly params: Record<string, string>;
  private readonly retry: RetryPolicy;
  private readonly agent: http.Agent;
  /** For the operator-facing calls only (see core/http-client.ts); created on first use. */
  private axios: Promise<AxiosInstance> | undefined;
  private readonly headers: Record<string, string>;
  private readonly gzip: boolean;
  private readonly maxSeries: number | undefined;
  private readonly logger: Logger | undefined;
  private readonly random: (() => number) | undefined;
  private readonly onRequest: ((event: QueryRequestEvent) => void) | undefined;
  private readonly labelCache = new LabelStringCache();
  private readonly labelSetCache = new LabelSetCache();
  /**
   * Column memory shared by this client's responses: enough for the chunks a query keeps in
   * flight and in hand (see extractRange), reused as the caller releases results.
   */
  private readonly slabPool = new SlabPool(COLUMN_POOL_BYTES);
  private readonly responseGarbage = new YoungGarbageCollector(RESPONSE_GARBAGE_BYTES);
  private readonly safeUrl: string;

  constructor(opts: PrometheusClientOptions) {
    this.endpoint = opts.endpoint;
    this.params = opts.params;
    this.retry = opts.retry;
    this.maxSeries = opts.maxSeriesPerResponse;
    this.logger = opts.logger;
    this.random = opts.random;
    this.onRequest = opts.onRequest;
    this.safeUrl = redactUrl(opts.endpoint.url);
    const compression = opts.compression ?? 'auto';
    this.gzip = compression === 'auto' ? !isLoopback(opts.endpoint.url) : compression === 'gzip';
    // No socket limit: requests are bounded by extract.concurrency, and a prefetched request keeps
    // its socket while its body waits its turn, so a limit could leave the head's retry waiting for
    // a socket that only the requests queued behind it hold.
    this.agent = createAgent(opts.endpoint.url, opts.endpoint.tls, Infinity);
    const authorization = authorizationHeader(opts.endpoint.auth);
    this.headers = {
      ...opts.endpoint.headers,
      'User-Agent': opts.userAgent ?? 'promflux',
      ...(authorization ? { Authorization: authorization } : {}),
    };
  }

  /**
   * Runs a range query: POST `/api/v1/query_range`, retried on network errors, timeouts, 5xx and
   * Prometheus' transient errorTypes. Throws {@link PrometheusRequestError}: `QUERY_BAD_DATA`
   * (never retried), `QUERY_EXECUTION` (not retried; the caller splits "too many samples"), or
   * `QUERY_FAILED`; {@link DecodeError} for a malformed body; `ABORTED` / `DEADLINE_EXCEEDED`.
   */
  async queryRange(req: RangeRequest, opts: QueryRangeOptions = {}): Promise<MatrixResult> {
    const form = new URLSearchParams(this.params);
    form.set('query', req.expr);
    form.set('start', formatPromSeconds(req.startMs));
    form.set('end', formatPromSeconds(req.endMs));
    form.set('step', formatPromStep(req.stepMs));
    const body = form.toString();
    return withRetry(() => this.observedAttempt(req, body, opts), {
      policy: this.retry,
      classify: classifyQueryError,
      deadlineMs: opts.deadlineMs,
      signal: opts.signal,
      random: this.random,
      onRetry: (err, attempt, delayMs) =>
        this.logger?.warn(
          {
            query: req.name,
            attempt,
            delayMs,
            status: err instanceof PrometheusRequestError ? err.status : undefined,
            reason: err instanceof Error ? err.message : String(err),
          },
          `Range query attempt failed; retrying in ${delayMs} ms.`,
        ),
    });
  }

  /** `/-/ready`: whether Prometheus serves queries, and what it said. Never throws. */
  async ready(): Promise<{ ready: boolean; detail: string }> {
    try {
      const res = await this.getText('/-/ready');
      const text = bodyHead(res.data);
      return { ready: res.status === 200, detail: `HTTP ${res.status}${text ? `: ${text}` : ''}` };
    } catch (err) {
      return { ready: false, detail: `${this.safeUrl} is unreachable: ${safeMessage(err)}` };
    }
  }

  /**
   * `/api/v1/status/buildinfo`: the server's version, or undefined when it has no such API
   * (older or compatible servers). Throws when the server cannot be reached.
   */
  async buildInfo(): Promise<{ version: string } | undefined> {
    let res: AxiosResponse<string>;
    try {
      res = await this.getText('/api/v1/status/buildinfo');
    } catch (err) {
      throw new PromfluxError(
        'QUERY_FAILED',
        `${this.safeUrl} is unreachable: ${safeMessage(err)}`,
      );
    }
    if (res.status !== 200) return undefined;
    try {
      const doc = JSON.parse(res.data) as { status?: unknown; data?: { version?: unknown } };
      const version = doc.data?.version;
      return doc.status === 'success' && typeof version === 'string' ? { version } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private async observedAttempt(
    req: RangeRequest,
    body: string,
    opts: QueryRangeOptions,
  ): Promise<MatrixResult> {
    const gate = { waitedMs: 0 };
    if (!this.onRequest) return this.attemptQueryRange(req, body, opts, gate);
    const startedAt = performance.now();
    const report = (errorType?: string): void =>
      this.onRequest?.({
        query: req.name,
        // The server's time, not the time the body waited for its turn.
        durationMs: performance.now() - startedAt - gate.waitedMs,
        ...(errorType !== undefined && { errorType }),
      });
    try {
      const result = await this.attemptQueryRange(req, body, opts, gate);
      report();
      return result;
    } catch (err) {
      if (err instanceof QueryError) report(err.errorType);
      else if (err instanceof DecodeError) report('decode');
      throw err;
    }
  }

  private async attemptQueryRange(
    req: RangeRequest,
    body: string,
    opts: QueryRangeOptions,
    gate: { waitedMs: number },
  ): Promise<MatrixResult> {
    const url = new URL(joinUrl(this.endpoint.url, '/api/v1/query_range'));
    const timeoutMs = this.endpoint.timeoutMs > 0 ? this.endpoint.timeoutMs : Infinity;
    let deadline: AbortSignal | undefined;
    let deadlineLeftMs = Infinity;
    if (opts.deadlineMs !== undefined) {
      deadlineLeftMs = opts.deadlineMs - Date.now();
      if (deadlineLeftMs <= 0) {
        throw new PromfluxError('DEADLINE_EXCEEDED', `No time left for query "${req.name}".`);
      }
      deadline = deadlineSignal(deadlineLeftMs);
    }
    // The timeout stops while the body waits its turn; the deadline keeps running.
    const timeout = new RestartableTimeout(timeoutMs);
    const signal = anySignal([opts.signal, deadline, timeout.signal]);
    let stream: Readable | undefined;
    try {
      const res = await streamRequest({
        method: 'POST',
        url,
        body,
        agent: this.agent,
        signal,
        headers: {
          ...this.headers,
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
          'Accept-Encoding': this.gzip ? 'gzip' : 'identity',
        },
      });
      stream = res.data;
      if (opts.bodyGate) {
        const waitStarted = performance.now();
        timeout.stop();
        await untilOpen(opts.bodyGate, signal);
        gate.waitedMs += performance.now() - waitStarted;
        timeout.start();
      }
      return await this.readQueryResponse(req, res);
    } catch (err) {
      if (opts.signal?.aborted) {
        throw new PromfluxError('ABORTED', `Query "${req.name}" aborted.`, {
          cause: opts.signal.reason,
        });
      }
      if (deadline?.aborted) {
        throw new PromfluxError(
          'DEADLINE_EXCEEDED',
          `Query "${req.name}" did not finish before the deadline (${deadlineLeftMs} ms left).`,
        );
      }
      if (timeout.signal.aborted) {
        throw new PrometheusRequestError(
          'QUERY_FAILED',
          req.name,
          'timeout',
          `no complete response from ${this.safeUrl} within ${timeoutMs} ms`,
          { retryable: true },
        );
      }
      if (err instanceof PromfluxError) throw err;
      throw new PrometheusRequestError(
        'QUERY_FAILED',
        req.name,
        'network',
        `request to ${this.safeUrl} failed: ${safeMessage(err)}`,
        { retryable: true },
      );
    } finally {
      timeout.stop();
      if (stream && !stream.readableEnded) stream.destroy();
    }
  }

  private async readQueryResponse(
    req: RangeRequest,
    res: StreamingResponse,
  ): Promise<MatrixResult> {
    const status = res.status;
    const ok = status >= 200 && status < 300;
    const retryAfterMs = parseRetryAfterMs(headerValue(res.headers, 'retry-after'));
    const httpError = (head: string): PrometheusRequestError =>
      new PrometheusRequestError(
        'QUERY_FAILED',
        req.name,
        `http_${status}`,
        `HTTP ${status} from ${this.safeUrl}${head ? `: ${head}` : ''}`,
        { retryable: isRetryableStatus(status), status, retryAfterMs },
      );
    if (status >= 300 && status < 400) {
      throw httpError(
        `redirected to ${redactUrl(headerValue(res.headers, 'location') ?? '?')}; set the URL to where the API is served`,
      );
    }
    const body = this.decodedBody(res);
    const head = new BodyHead();
    if (!ok && !/json/i.test(headerValue(res.headers, 'content-type') ?? '')) {
      await head.fill(body);
      throw httpError(head.text());
    }
    const decoder = new MatrixDecoder({
      maxSeries: this.maxSeries,
      labelCache: this.labelCache,
      labelSetCache: this.labelSetCache,
      slabPool: this.slabPool,
    });
    let decoded;
    let bytesRead = 0;
    try {
      for await (const chunk of body) {
        head.add(chunk as Buffer);
        decoder.push(chunk as Buffer);
        bytesRead += (chunk as Buffer).length;
      }
      decoded = decoder.end();
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      await head.fill(body).catch(() => undefined);
      if (!ok) throw httpError(head.text());
      throw new DecodeError(
        `Malformed response to query "${req.name}" from ${this.safeUrl} (HTTP ${status}): ` +
          `${err.message} The body starts: ${JSON.stringify(head.text())}`,
        err.offset,
      );
    } finally {
      if (body !== res.data && !body.readableEnded) body.destroy();
      this.responseGarbage.add(bytesRead);
    }
    if (decoded.status === 'success') {
      if (!ok) throw httpError('a success body with an error status');
      return decoded.result;
    }
    const { errorType, error } = decoded;
    const message = `${error || '(no message)'} (HTTP ${status})`;
    if (errorType === 'bad_data') {
      throw new PrometheusRequestError('QUERY_BAD_DATA', req.name, errorType, message, {
        retryable: false,
        status,
      });
    }
    if (errorType === 'execution') {
      throw new PrometheusRequestError('QUERY_EXECUTION', req.name, errorType, message, {
        retryable: false,
        status,
      });
    }
    throw new PrometheusRequestError(
      'QUERY_FAILED',
      req.name,
      errorType || `http_${status}`,
      message,
      {
        retryable: RETRYABLE_ERROR_TYPES.has(errorType) || isRetryableStatus(status),
        status,
        retryAfterMs,
      },
    );
  }

  /** The response body, gunzipped when the server compressed it. */
  private decodedBody(res: StreamingResponse): Readable {
    const encoding = (headerValue(res.headers, 'content-encoding') ?? 'identity')
      .trim()
      .toLowerCase();
    const raw = res.data;
    if (encoding === 'identity' || encoding === '') return raw;
    if (encoding !== 'gzip' && encoding !== 'x-gzip') {
      raw.destroy();
      throw new PromfluxError(
        'RESPONSE_MALFORMED',
        `${this.safeUrl} answered with unsupported Content-Encoding "${encoding}".`,
      );
    }
    const gunzip = createGunzip();
    raw.on('error', (err) => gunzip.destroy(err));
    gunzip.on('close', () => raw.destroy());
    return raw.pipe(gunzip);
  }

  /**
   * How many series `expr` returns at `atMs` (an instant `count(...)`), for planning; undefined
   * when Prometheus cannot say (error, or not a vector).
   */
  async countSeries(expr: string, atMs: number): Promise<number | undefined> {
    const query = new URLSearchParams({ query: `count((${expr}))`, time: formatPromSeconds(atMs) });
    try {
      const res = await this.getText(`/api/v1/query?${query.toString()}`);
      const body = JSON.parse(res.data) as {
        status?: string;
        data?: { result?: Array<{ value?: [number, string] }> };
      };
      if (body.status !== 'success') return undefined;
      const first = body.data?.result?.[0];
      return first?.value ? Number(first.value[1]) : 0;
    } catch {
      return undefined;
    }
  }

  private async getText(path: string): Promise<AxiosResponse<string>> {
    this.axios ??= import('axios').then(({ default: axios }) =>
      axios.create({
        httpAgent: this.agent,
        httpsAgent: this.agent,
        // Connect directly: a proxy from the environment would bypass the keep-alive agent and TLS.
        proxy: false,
        // Redirects are reported, not followed (and axios uses the plain transport without them).
        maxRedirects: 0,
        decompress: false,
        validateStatus: () => true,
      }),
    );
    const http = await this.axios;
    return http.get<string>(joinUrl(this.endpoint.url, path), {
      responseType: 'text',
      decompress: true,
      signal:
        this.endpoint.timeoutMs > 0 ? AbortSignal.timeout(this.endpoint.timeoutMs) : undefined,
      headers: this.headers,
    });
  }
}

/** Unix seconds with millisecond precision, exactly (`1435781430781` → `1435781430.781`). */
export function formatPromSeconds(ms: number): string {
  const abs = Math.abs(Math.round(ms));
  const seconds = Math.floor(abs / 1000);
  const frac = abs - seconds * 1000;
  const sign = ms < 0 && abs !== 0 ? '-' : '';
  return frac === 0 ? `${sign}${seconds}` : `${sign}${seconds}.${String(frac).padStart(3, '0')}`;
}

/** The step: float seconds when whole (`15`), else a duration (`1s500ms`), both parsed exactly. */
export function formatPromStep(stepMs: number): string {
  return stepMs % 1000 === 0 ? String(stepMs / 1000) : formatDuration(stepMs);
}

/** The first bytes of a body, for error messages about responses that are not what we expected. */
class BodyHead {
  private readonly parts: Buffer[] = [];
  private bytes = 0;

  add(chunk: Buffer): void {
    if (this.bytes >= BODY_HEAD_CHARS * 4) return;
    this.parts.push(chunk.subarray(0, BODY_HEAD_CHARS * 4 - this.bytes));
    this.bytes += Math.min(chunk.length, BODY_HEAD_CHARS * 4 - this.bytes);
  }

  /** Reads on until enough is captured or the body ends. */
  async fill(body: Readable): Promise<void> {
    if (this.bytes >= BODY_HEAD_CHARS * 4 || body.destroyed || body.readableEnded) return;
    for await (const chunk of body) {
      this.add(chunk as Buffer);
      if (this.bytes >= BODY_HEAD_CHARS * 4) break;
    }
  }

  text(): string {
    return bodyHead(Buffer.concat(this.parts).toString('utf8'));
  }
}

function bodyHead(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, BODY_HEAD_CHARS);
}

function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || host === '::1' || host.startsWith('127.');
  } catch {
    return false;
  }
}

/** Resolves when `gate` does; rejects as soon as `signal` aborts (no listener is left behind). */
function untilOpen(gate: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    void gate.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
