import { SinkError } from '../core/errors.js';
import { HttpTimeoutError } from '../core/http-client.js';
import { PrometheusRequestError } from '../extract/query-response.js';

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
 * Which end of the pipeline a failed run could not reach, and how: "the sink is unreachable",
 * "Prometheus did not answer within the timeout", ... Undefined for any other failure (an HTTP
 * error status, bad data), which the run's own error describes well enough.
 */
export function outageCause(err: unknown): string | undefined {
  if (err instanceof PrometheusRequestError) {
    if (err.errorType === 'timeout') return 'Prometheus did not answer within the timeout';
    if (err.errorType === 'network') return 'Prometheus is unreachable';
    return undefined;
  }
  if (err instanceof SinkError && err.status === undefined) {
    const causes = causeChain(err);
    if (causes.some((e) => e instanceof HttpTimeoutError)) {
      return 'the sink did not answer within the timeout';
    }
    if (causes.some((e) => UNREACHABLE_CODES.has(String((e as { code?: unknown }).code)))) {
      return 'the sink is unreachable';
    }
  }
  return undefined;
}

function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err; e instanceof Error && chain.length < 10; e = e.cause) chain.push(e);
  return chain;
}
