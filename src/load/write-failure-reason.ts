import { networkFailure } from '../core/network-failure.js';
import type { WriteOutcome } from './write-outcome.js';

/**
 * Why one write request failed: the `reason` label of `promflux_sink_write_failures_total`. A
 * fixed set (README "CLI", `run`), so the label's cardinality never grows:
 * - `timeout`, `unreachable`: no answer, as `/readyz` tells them apart;
 * - `tls`: the certificate check failed;
 * - `auth`: 401 or 403;
 * - `rejected`: the server refused lines as malformed (400/422, bisected or dead-lettered);
 * - `http_4xx`, `http_5xx`: any other error status (413, 404, 429, 503, ...);
 * - `other`: no answer for another reason.
 */
export const WRITE_FAILURE_REASONS = [
  'timeout',
  'unreachable',
  'tls',
  'auth',
  'rejected',
  'http_4xx',
  'http_5xx',
  'other',
] as const;

export type WriteFailureReason = (typeof WRITE_FAILURE_REASONS)[number];

/**
 * The reason for a request that got `status` (undefined: no answer, `error` says why) and was
 * classified as `outcome`; undefined when it succeeded (2xx).
 */
export function writeFailureReason(
  status: number | undefined,
  outcome: WriteOutcome,
  error?: unknown,
): WriteFailureReason | undefined {
  if (status === undefined || status === 0) {
    if (outcome.action === 'fail') return 'tls';
    return networkFailure(error) ?? 'other';
  }
  if (status >= 200 && status < 300) return undefined;
  if (status === 401 || status === 403) return 'auth';
  if (outcome.action === 'bisect' || outcome.action === 'reject') return 'rejected';
  if (status >= 400 && status < 500) return 'http_4xx';
  if (status >= 500 && status < 600) return 'http_5xx';
  return 'other';
}
