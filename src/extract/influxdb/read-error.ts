import { PromfluxError, describeError, isAbortError, type ErrorCode } from '../../core/errors.js';
import type { StreamingResponse } from '../../core/http-client.js';
import { serverErrorMessage } from '../../core/influx-http.js';
import type { StoredSeriesQuery } from './stored-series.js';

/** Most of an error body kept. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;

interface Context {
  /** The server's URL without credentials (`redactUrl`). */
  displayUrl: string;
  redact: (text: string) => string;
}

/**
 * Reading stored series failed. The message names the server by its URL without credentials and
 * passes the server's own words through the configuration's redactor (a proxy may echo headers).
 */
export class StoredReadError extends PromfluxError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }

  static fromStatus(
    status: number,
    body: { text: string; headers: StreamingResponse['headers'] },
    ctx: Context,
    query: Pick<StoredSeriesQuery, 'bucket'>,
  ): StoredReadError {
    const said = ctx.redact(serverErrorMessage({ status, body: body.text, headers: body.headers }));
    const where = `InfluxDB at ${ctx.displayUrl}`;
    if (status === 401 || status === 403) {
      return new StoredReadError(
        'SINK_AUTH',
        `${where} refused to let the configured credentials read "${query.bucket}" (${status}): ${said}`,
        status,
      );
    }
    if (status === 404) {
      return new StoredReadError(
        'SINK_NOT_FOUND',
        `${where}: "${query.bucket}" not found (404): ${said}`,
        status,
      );
    }
    return new StoredReadError('QUERY_FAILED', `${where} answered ${status}: ${said}`, status);
  }

  /** InfluxQL reports a failed statement inside a 200 answer. */
  static statement(
    error: string,
    ctx: Context,
    query: Pick<StoredSeriesQuery, 'bucket' | 'measurement'>,
  ): StoredReadError {
    const code: ErrorCode = /not found/.test(error) ? 'SINK_NOT_FOUND' : 'QUERY_FAILED';
    return new StoredReadError(
      code,
      `InfluxDB at ${ctx.displayUrl} could not read ${query.measurement} from "${query.bucket}": ${ctx.redact(error)}`,
    );
  }

  /** Any other failure (network, a malformed answer), redacted; promflux's own errors as they are. */
  static wrap(err: unknown, ctx: Context): PromfluxError {
    if (err instanceof PromfluxError) return err;
    if (isAbortError(err))
      return new PromfluxError('ABORTED', 'Reading stored series was aborted.');
    return new StoredReadError(
      'QUERY_FAILED',
      `Reading from InfluxDB at ${ctx.displayUrl} failed: ${ctx.redact(describeError(err))}`,
      undefined,
      { cause: err },
    );
  }
}

/** The first 16 KiB of an error answer's body; the rest is drained unread. */
export async function readErrorBody(
  res: StreamingResponse,
): Promise<{ text: string; headers: StreamingResponse['headers'] }> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of res.data as AsyncIterable<Buffer>) {
    if (kept >= MAX_ERROR_BODY_BYTES) continue;
    const part = chunk.subarray(0, MAX_ERROR_BODY_BYTES - kept);
    chunks.push(part);
    kept += part.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), headers: res.headers };
}
