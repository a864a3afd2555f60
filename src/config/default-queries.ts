import type { QueryConfig } from './types.js';

/**
 * The four health queries used when `extract.queries` is absent: availability, request rate,
 * 95th-percentile latency and 5xx error rate, each evaluated every 15 s.
 */
export const DEFAULT_QUERIES: readonly Readonly<QueryConfig>[] = deepFreeze([
  { name: 'availability', expr: 'up{job="test-app"}', stepMs: 15_000, tags: {} },
  { name: 'request_rate', expr: 'rate(http_requests_total[5m])', stepMs: 15_000, tags: {} },
  {
    name: 'latency_p95',
    expr: 'histogram_quantile(0.95, sum by (le, job, instance) (rate(http_request_duration_seconds_bucket[5m])))',
    stepMs: 15_000,
    tags: {},
  },
  {
    name: 'error_rate',
    expr: 'rate(http_requests_total{status=~"5.."}[5m])',
    stepMs: 15_000,
    tags: {},
  },
]);

function deepFreeze(queries: QueryConfig[]): readonly Readonly<QueryConfig>[] {
  for (const q of queries) Object.freeze(Object.freeze(q).tags);
  return Object.freeze(queries);
}

/** Fresh, mutable copies of {@link DEFAULT_QUERIES}, so no caller can alter the shared defaults. */
export function defaultQueries(): QueryConfig[] {
  return DEFAULT_QUERIES.map((q) => ({ ...q, tags: { ...q.tags } }));
}
