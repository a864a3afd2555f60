import { describe, expect, it } from 'vitest';
import { selectedMetrics } from '../../../src/core/promql-metric-names.js';

describe('selectedMetrics', () => {
  it.each([
    ['up{job="test-app"}', ['up']],
    ['rate(http_requests_total[5m])', ['http_requests_total']],
    [
      'histogram_quantile(0.95, sum by (le, job, instance) (rate(http_request_duration_seconds_bucket[5m])))',
      ['http_request_duration_seconds_bucket'],
    ],
    ['rate(http_requests_total{status=~"5.."}[5m])', ['http_requests_total']],
    ['sum without (instance) (a) / on (job) group_left (team) b', ['a', 'b']],
    ['a offset 5m and bool b unless c', ['a', 'b', 'c']],
    ['{__name__="node_load1", job="x"}', ['node_load1']],
    ['max_over_time(up[1h:5m]) > 0.5e3', ['up']],
    ['label_replace(up, "dst", "$1", "src", "(.*)")', ['up']],
    ['vector(1)', []],
    ['time() - process_start_time_seconds', ['process_start_time_seconds']],
    ['ns:rate5m:sum # a recording rule\n+ 0', ['ns:rate5m:sum']],
  ])('%s → %j', (expr, names) => {
    expect(selectedMetrics(expr)).toEqual({ names, hasDynamicNames: false });
  });

  it('reports name regexes as not statically known', () => {
    expect(selectedMetrics('{__name__=~"node_.*"}')).toEqual({ names: [], hasDynamicNames: true });
  });
});
