import type http from 'node:http';
import type { Readable } from 'node:stream';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { PromfluxError, QueryError } from '../core/errors.js';
import {
  authorizationHeader,
  createAgent,
  joinUrl,
  type HttpEndpointOptions,
} from '../core/http.js';
import {
  anySignal,
  deadlineSignal,
  requestErrorMessage,
  RestartableTimeout,
  streamRequest,
} from '../core/http-client.js';
import type { Logger } from '../core/logger.js';
import { redactUrl } from '../core/redact.js';
import { withRetry, type RetryPolicy } from '../core/retry.js';
import { formatDuration } from '../core/time.js';
import { isCertificateError } from '../core/tls-errors.js';
import { DecodeError, LabelSetCache, LabelStringCache, MatrixDecoder } from './matrix-decoder.js';
import {
  bodyHead,
  classifyQueryError,
  PrometheusRequestError,
  readQueryResponse,
} from './query-response.js';
import type { MatrixResult, RangeRequest } from './types.js';
import { COLUMN_POOL_BYTES, SlabPool } from '../core/slab-pool.js';
import { RECYCLED_BLOCKS, SeriesBlockRecycler } from './block-recycler.js';
import { YoungGarbageCollector } from '../core/young-garbage.js';

export { classifyQueryError, PrometheusRequestError } from './query-response.js';

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
  /** The series blocks of released results, reused the same way. */
  private readonly blockRecycler = new SeriesBlockRecycler(RECYCLED_BLOCKS);
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
      return {
        ready: false,
        detail: `${this.safeUrl} is unreachable: ${requestErrorMessage(err)}`,
      };
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
        `${this.safeUrl} is unreachable: ${requestErrorMessage(err)}`,
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

  /**
   * `/api/v1/metadata`: every metric family's type (`counter`, `gauge`, `histogram`, ...) as the
   * scraped targets declare it, one entry per distinct declaration. Throws a PromfluxError
   * (`QUERY_FAILED`) when the server cannot be reached or does not answer with metadata.
   */
  async metricMetadata(): Promise<Map<string, string[]>> {
    let res: AxiosResponse<string>;
    try {
      res = await this.getText('/api/v1/metadata');
    } catch (err) {
      throw new PromfluxError(
        'QUERY_FAILED',
        `${this.safeUrl} is unreachable: ${requestErrorMessage(err)}`,
      );
    }
    const fail = (why: string): PromfluxError =>
      new PromfluxError('QUERY_FAILED', `${this.safeUrl}/api/v1/metadata: ${why}`);
    if (res.status !== 200) {
      const text = bodyHead(res.data);
      throw fail(`HTTP ${res.status}${text ? `: ${text}` : ''}`);
    }
    let doc: { status?: unknown; data?: unknown };
    try {
      doc = JSON.parse(res.data) as typeof doc;
    } catch {
      throw fail('the response is not JSON');
    }
    if (doc.status !== 'success' || typeof doc.data !== 'object' || doc.data === null) {
      throw fail('the response holds no metadata');
    }
    const types = new Map<string, string[]>();
    for (const [name, entries] of Object.entries(doc.data as Record<string, unknown>)) {
      if (!Array.isArray(entries)) continue;
      const declared = entries
        .map((e) => (e as { type?: unknown } | null)?.type)
        .filter((t): t is string => typeof t === 'string');
      types.set(name, [...new Set(declared)]);
    }
    return types;
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
      return await readQueryResponse(req.name, res, {
        safeUrl: this.safeUrl,
        decoder: () =>
          new MatrixDecoder({
            maxSeries: this.maxSeries,
            labelCache: this.labelCache,
            labelSetCache: this.labelSetCache,
            slabPool: this.slabPool,
            blockRecycler: this.blockRecycler,
          }),
        onBytesRead: (bytes) => this.responseGarbage.add(bytes),
      });
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
        `request to ${this.safeUrl} failed: ${requestErrorMessage(err)}`,
        { retryable: !isCertificateError(err) },
      );
    } finally {
      timeout.stop();
      if (stream && !stream.readableEnded) stream.destroy();
    }
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
