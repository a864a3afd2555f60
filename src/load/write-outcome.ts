import type { ErrorCode } from '../core/errors.js';
import { serverErrorMessage } from '../core/influx-http.js';

/** What a write attempt produced, as far as classification needs it. */
export interface WriteResponse {
  /** HTTP status; absent when no response arrived. */
  status?: number;
  /** Connection refused/reset, DNS failure, timeout: no HTTP response. */
  networkError?: boolean;
  /** The network error's text when it is a certificate verification failure (final). */
  certificateError?: string;
  /** The server's Retry-After, already converted to milliseconds (it is sent in seconds). */
  retryAfterMs?: number;
  body?: string;
  /** Response headers with lower-case names (node's `IncomingHttpHeaders`). */
  headers?: Record<string, string | string[] | undefined>;
}

/**
 * What the batch writer does next:
 * - `accept`: every line was written, but `beyondRetention` lines the server dropped as older than
 *   its retention (they can never be written there, so they count as handled, not as failed);
 * - `split`: the body was too large: write each half (at line boundaries);
 * - `bisect`: some line is malformed: write each half so only the bad lines end up rejected;
 * - `reject`: these lines are refused for good: dead-letter them, never retry;
 * - `retry`: transient: try the same request again after max(backoff, `afterMs`);
 * - `fail`: retrying will not help (credentials, missing database): the batch stays unwritten.
 */
export type WriteOutcome =
  | { action: 'accept'; beyondRetention?: number }
  | { action: 'split' }
  | { action: 'bisect' }
  | { action: 'reject'; reason: string }
  | { action: 'retry'; afterMs?: number }
  | { action: 'fail'; code: ErrorCode; reason: string };

/**
 * 400s that are about the request, not about its lines: bisecting them would dead-letter every
 * line one by one. Line errors always read `unable to parse '…'` or `partial write: …`.
 */
const REQUEST_LEVEL_400: readonly RegExp[] = [
  /database is required/i, // 1.x: no db parameter
  /provide either orgID or org/i, // 2.x: no org
  /invalid precision/i,
  /writing requires points/i, // 2.x: empty body
  /gzip/i, // bad gzip body (2.x)
  /^unexpected EOF$/i, // bad gzip body (1.x)
];

/**
 * 1.x (400) and 2.x (422) name points older than the retention policy this way; `N` of the
 * request's points were dropped, every other one was stored.
 */
const BEYOND_RETENTION = /partial write: points beyond retention policy dropped=(\d+)/i;

/**
 * InfluxDB 1.x's cardinality limits (`[data]` section of influxdb.conf), as 1.6.7 answers them
 * (400, a partial write: the points of existing series in the request were stored):
 * `partial write: max-series-per-database limit exceeded: (5) dropped=4` and
 * `partial write: max-values-per-tag limit exceeded (5/3): measurement="m" tag="host" value="h9" dropped=1`.
 */
const MAX_SERIES = /max-series-per-database limit exceeded: \((\d+)\)/i;
const MAX_VALUES =
  /max-values-per-tag limit exceeded \((\d+)\/(\d+)\)(?:: measurement="((?:[^"\\]|\\.)*)" tag="((?:[^"\\]|\\.)*)" value="((?:[^"\\]|\\.)*)")?/i;

/** 1.x answers 500 for a missing retention policy: a configuration error, not a transient one. */
const NOT_FOUND_500 = /retention policy not found/i;

/**
 * Classifies the response to one write request of `lines` lines. The single source of truth for
 * InfluxDB 1.x, 2.x, 3.x and VictoriaMetrics write outcomes (modelled on Telegraf's influxdb_v2
 * output):
 *
 * | response | action |
 * |---|---|
 * | 2xx | accept |
 * | 400, 422 `points beyond retention policy dropped=N` | accept, N lines skipped beyond retention |
 * | 400, 422 `max-series-per-database` / `max-values-per-tag limit exceeded` | fail SINK_CARDINALITY_LIMIT |
 * | 400, 422 | bisect (> 1 line), reject (1 line, or `dropped=N` covers every line); request-level 400s fail |
 * | 413 | split (> 1 line), reject (1 line) |
 * | 401, 403 | fail SINK_AUTH (the batch is kept: the pipeline does not advance) |
 * | 404 | fail SINK_NOT_FOUND |
 * | 429, 503 | retry after max(backoff, Retry-After) |
 * | 408, 500, 502, 504, network error, timeout | retry (1.x "retention policy not found" 500: fail SINK_NOT_FOUND) |
 * | certificate verification failure (either end) | fail SINK_WRITE_FAILED: a retry cannot fix it |
 * | anything else | fail SINK_WRITE_FAILED |
 *
 * 400 from 2.x/3.x means one bad line rejected the whole batch; from 1.x and 422 from 2.x it is a
 * partial write (valid points were stored). Bisecting re-writes valid lines in both cases, which is
 * harmless: points are idempotent.
 */
export function classifyWriteOutcome(res: WriteResponse, lines: number): WriteOutcome {
  const { status } = res;
  if (res.certificateError !== undefined) {
    return { action: 'fail', code: 'SINK_WRITE_FAILED', reason: res.certificateError };
  }
  if (res.networkError || status === undefined || status === 0) return retry(res);
  if (status >= 200 && status < 300) return { action: 'accept' };
  const message = serverErrorMessage(res);
  switch (status) {
    case 400:
    case 422: {
      if (status === 400 && isRequestLevel400(message)) {
        return {
          action: 'fail',
          code: 'SINK_WRITE_FAILED',
          reason: `request refused (400): ${message}`,
        };
      }
      const cardinality = cardinalityLimit(message);
      if (cardinality) return cardinality;
      const beyondRetention = BEYOND_RETENTION.exec(message);
      if (beyondRetention) {
        // The server's own clock decided these points expired: re-sending, bisecting or
        // dead-lettering them cannot store them. 1.x names this error in preference to a
        // parse error in the same request (handler.go), so a line it could not parse would
        // count as written here; promflux's encoder emits only parseable lines.
        return { action: 'accept', beyondRetention: Math.min(lines, Number(beyondRetention[1])) };
      }
      if (lines <= 1 || droppedEveryLine(message, lines))
        return { action: 'reject', reason: message };
      return { action: 'bisect' };
    }
    case 413:
      return lines > 1 ? { action: 'split' } : { action: 'reject', reason: message };
    case 401:
      return {
        action: 'fail',
        code: 'SINK_AUTH',
        reason: `authentication failed (401): ${message}`,
      };
    case 403:
      return { action: 'fail', code: 'SINK_AUTH', reason: `permission denied (403): ${message}` };
    case 404:
      return { action: 'fail', code: 'SINK_NOT_FOUND', reason: `not found (404): ${message}` };
    case 500:
      if (NOT_FOUND_500.test(message)) {
        return { action: 'fail', code: 'SINK_NOT_FOUND', reason: `not found (500): ${message}` };
      }
      return retry(res);
    case 408:
    case 429:
    case 502:
    case 503:
    case 504:
      return retry(res);
    default:
      return {
        action: 'fail',
        code: 'SINK_WRITE_FAILED',
        reason: `unexpected response (${status}): ${message}`,
      };
  }
}

/**
 * A 1.x cardinality limit refused the request's new series. This fails the batch rather than
 * rejecting its lines, because failing loses no data: the batch stays unwritten, the watermark
 * does not pass it, and the next cycle (or a rerun) writes it from Prometheus once the operator
 * raised the limit. Rejecting would dead-letter lines that are valid (after bisecting to find
 * them, one request per line: the limit is the database's, not the lines') and move on, leaving
 * them to a manual replay. The points of existing series in the request were stored; writing
 * them again later is harmless.
 */
function cardinalityLimit(message: string): WriteOutcome | undefined {
  const series = MAX_SERIES.exec(message);
  if (series) {
    return {
      action: 'fail',
      code: 'SINK_CARDINALITY_LIMIT',
      reason:
        `InfluxDB refused new series: the database reached its max-series-per-database limit (${series[1]}). ` +
        `Raise max-series-per-database in the [data] section of influxdb.conf (0 = no limit), or ` +
        `drop series (labels.drop / labels.keep); promflux writes this batch again next time. ` +
        `Server: ${message}`,
    };
  }
  const values = MAX_VALUES.exec(message);
  if (values) {
    const [, count, limit, measurement, tag] = values;
    const where =
      tag === undefined
        ? 'a tag'
        : `tag "${unescape(tag)}" of measurement "${unescape(measurement!)}"`;
    return {
      action: 'fail',
      code: 'SINK_CARDINALITY_LIMIT',
      reason:
        `InfluxDB refused a new tag value: ${where} has ${count} values, over the max-values-per-tag limit (${limit}). ` +
        `Raise max-values-per-tag in the [data] section of influxdb.conf (0 = no limit), or ` +
        `drop the label (labels.drop / labels.keep); promflux writes this batch again next time. ` +
        `Server: ${message}`,
    };
  }
  return undefined;
}

/** 1.x escapes `"` and `\` in the quoted names of its limit messages (`%q`). */
function unescape(quoted: string): string {
  return quoted.replace(/\\(.)/g, '$1');
}

function retry(res: WriteResponse): WriteOutcome {
  return res.retryAfterMs !== undefined && res.retryAfterMs >= 0
    ? { action: 'retry', afterMs: res.retryAfterMs }
    : { action: 'retry' };
}

function isRequestLevel400(message: string): boolean {
  if (/unable to parse|partial write/i.test(message)) return false;
  return REQUEST_LEVEL_400.some((re) => re.test(message));
}

/** `partial write: … dropped=N`: when N covers the batch, no line was written, so no need to bisect. */
function droppedEveryLine(message: string, lines: number): boolean {
  const match = /dropped=(\d+)/.exec(message);
  return match !== null && Number(match[1]) >= lines;
}
