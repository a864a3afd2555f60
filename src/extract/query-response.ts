import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

import { PromfluxError, QueryError, type ErrorCode } from '../core/errors.js';
import { headerValue, type StreamingResponse } from '../core/http-client.js';
import { redactUrl } from '../core/redact.js';
import { parseRetryAfterMs, type RetryDecision } from '../core/retry.js';
import { DecodeError, type MatrixDecoder } from './matrix-decoder.js';
import type { MatrixResult } from './types.js';

/** What reading one response needs from the client. */
export interface QueryResponseContext {
  /** The server's URL without credentials, for messages. */
  safeUrl: string;
  /** A decoder for this response (caches and column pools shared across responses). */
  decoder: () => MatrixDecoder;
  /** Told how many body bytes were read (the young-generation collection budget). */
  onBytesRead: (bytes: number) => void;
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
 * Reads a `query_range` response: a redirect or a non-JSON error status becomes an HTTP error
 * with the body's first characters; a JSON body streams into the context's decoder; Prometheus'
 * errorTypes become {@link PrometheusRequestError}s that say whether a retry may help. Throws
 * {@link DecodeError} for a malformed body.
 */
export async function readQueryResponse(
  query: string,
  res: StreamingResponse,
  ctx: QueryResponseContext,
): Promise<MatrixResult> {
  const status = res.status;
  const ok = status >= 200 && status < 300;
  const retryAfterMs = parseRetryAfterMs(headerValue(res.headers, 'retry-after'));
  const httpError = (head: string): PrometheusRequestError =>
    new PrometheusRequestError(
      'QUERY_FAILED',
      query,
      `http_${status}`,
      `HTTP ${status} from ${ctx.safeUrl}${head ? `: ${head}` : ''}`,
      { retryable: isRetryableStatus(status), status, retryAfterMs },
    );
  if (status >= 300 && status < 400) {
    throw httpError(
      `redirected to ${redactUrl(headerValue(res.headers, 'location') ?? '?')}; set the URL to where the API is served`,
    );
  }
  const body = decodedBody(res, ctx.safeUrl);
  const head = new BodyHead();
  if (!ok && !/json/i.test(headerValue(res.headers, 'content-type') ?? '')) {
    await head.fill(body);
    throw httpError(head.text());
  }
  const decoder = ctx.decoder();
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
      `Malformed response to query "${query}" from ${ctx.safeUrl} (HTTP ${status}): ` +
        `${err.message} The body starts: ${JSON.stringify(head.text())}`,
      err.offset,
    );
  } finally {
    if (body !== res.data && !body.readableEnded) body.destroy();
    ctx.onBytesRead(bytesRead);
  }
  if (decoded.status === 'success') {
    if (!ok) throw httpError('a success body with an error status');
    return decoded.result;
  }
  const { errorType, error } = decoded;
  const message = `${error || '(no message)'} (HTTP ${status})`;
  if (errorType === 'bad_data') {
    throw new PrometheusRequestError('QUERY_BAD_DATA', query, errorType, message, {
      retryable: false,
      status,
    });
  }
  if (errorType === 'execution') {
    throw new PrometheusRequestError('QUERY_EXECUTION', query, errorType, message, {
      retryable: false,
      status,
    });
  }
  throw new PrometheusRequestError('QUERY_FAILED', query, errorType || `http_${status}`, message, {
    retryable: RETRYABLE_ERROR_TYPES.has(errorType) || isRetryableStatus(status),
    status,
    retryAfterMs,
  });
}

/** The response body, gunzipped when the server compressed it. */
function decodedBody(res: StreamingResponse, safeUrl: string): Readable {
  const encoding = (headerValue(res.headers, 'content-encoding') ?? 'identity')
    .trim()
    .toLowerCase();
  const raw = res.data;
  if (encoding === 'identity' || encoding === '') return raw;
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    raw.destroy();
    throw new PromfluxError(
      'RESPONSE_MALFORMED',
      `${safeUrl} answered with unsupported Content-Encoding "${encoding}".`,
    );
  }
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  gunzip.on('close', () => raw.destroy());
  return raw.pipe(gunzip);
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

export function bodyHead(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, BODY_HEAD_CHARS);
}

function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}
