import { HttpTimeoutError } from './http-client.js';

/** Node's codes for a connection that could not be made or was lost before an answer. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * Why no HTTP answer came, from an error or anything in its `cause` chain: the server did not
 * answer within the timeout, or could not be reached. The one classifier behind `/readyz`'s
 * outage text and the sink's write-failure `reason` label, so the two never disagree.
 */
export function networkFailure(err: unknown): 'timeout' | 'unreachable' | undefined {
  const causes: unknown[] = [];
  for (let e = err; e instanceof Error && causes.length < 10; e = e.cause) causes.push(e);
  if (causes.some((e) => e instanceof HttpTimeoutError)) return 'timeout';
  if (causes.some((e) => UNREACHABLE_CODES.has(String((e as { code?: unknown }).code)))) {
    return 'unreachable';
  }
  return undefined;
}
