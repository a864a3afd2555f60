/** The `extract` section: the Prometheus endpoint, its limits and the queries. */
import { z } from 'zod';
import { duration, httpUrl, integer, leaf, nonEmptyText, oneOf, text } from '../leaf.js';
import { headerMap, stringMap, tagMap } from '../maps.js';
import { KIND_SETTINGS } from '../../../core/metric-kind.js';
import { basicAuth, labelRules, retry, RETRY_DEFAULTS, tls } from '../blocks.js';

const QUERY_NAME = /^[A-Za-z0-9_.-]+$/;

const query = z.strictObject({
  name: leaf<string>('a query name of letters, digits, "_", "." and "-"', (input) => {
    if (typeof input === 'string' && QUERY_NAME.test(input)) return { value: input };
    return {
      error: 'must be a query name of letters, digits, "_", "." and "-" (e.g. request_rate)',
    };
  }),
  query: nonEmptyText('a PromQL expression'),
  step: duration({ positive: true, wholeMs: true }).prefault('15s'),
  measurement: nonEmptyText('a measurement name').optional(),
  field: nonEmptyText('a field name').optional(),
  tags: tagMap(),
  labels: labelRules.optional(),
  kind: oneOf(KIND_SETTINGS).prefault('auto'),
  // Absent: every tier of load.tiers. The names are checked against load.tiers in checks/tiers.ts.
  tiers: z
    .array(nonEmptyText('a tier name from load.tiers'), {
      error: 'must be a list of tier names from load.tiers',
    })
    .min(1, { error: 'must name at least one tier (or leave it out for every tier)' })
    .optional(),
});

/**
 * Samples (series × points) per range request by default: bounds the decoded columns (~37 bytes a
 * sample, one chunk at a time) and the response Buffers waiting for the collector. Larger chunks
 * cost Prometheus less CPU per sample, which on a shared machine is CPU the sink gets (measured
 * with `npm run bench`: peak RSS stays flat at 250k, grows with the run at 500k).
 */
export const DEFAULT_MAX_SAMPLES_PER_REQUEST = 250_000;

export const extract = z
  .strictObject({
    prometheus_url: httpUrl('http://localhost:9090'),
    timeout: duration({ positive: true, timer: true }).prefault('30s'),
    concurrency: integer(1, 32).prefault(2),
    max_samples_per_request: integer(1000).prefault(DEFAULT_MAX_SAMPLES_PER_REQUEST),
    max_points_per_series: integer(1, 11_000).prefault(11_000),
    max_series_per_response: integer(1).optional(),
    headers: headerMap(),
    basic_auth: basicAuth(),
    bearer_token: text().optional(),
    bearer_token_file: nonEmptyText('a file path').optional(),
    tls: tls(),
    params: stringMap('query parameter names to values', {
      key: (k) => (k.trim() === '' ? 'names must not be empty' : undefined),
    }),
    retry: retry(RETRY_DEFAULTS.extract),
    queries: z
      .array(query, { error: 'must be a list of queries ({name, query, step})' })
      .min(1, {
        error: 'must list at least one query (or leave it out for the four default health queries)',
      })
      .optional(),
  })
  .prefault({});
