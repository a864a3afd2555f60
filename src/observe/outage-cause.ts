import { SinkError } from '../core/errors.js';
import { networkFailure } from '../core/network-failure.js';
import { PrometheusRequestError } from '../extract/query-response.js';

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
    const failure = networkFailure(err);
    if (failure === 'timeout') return 'the sink did not answer within the timeout';
    if (failure === 'unreachable') return 'the sink is unreachable';
  }
  return undefined;
}
