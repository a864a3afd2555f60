import { describe, expect, it } from 'vitest';
import { bareSelectorMetric, decideKind } from '../../../src/core/metric-kind.js';

describe('bareSelectorMetric', () => {
  it.each([
    ['http_requests_total', 'http_requests_total'],
    ['http_requests_total{code="500"}', 'http_requests_total'],
    ['  http_requests_total { code = "5}0", path=~"/a{1}" }  ', 'http_requests_total'],
    ['{__name__="node_cpu_seconds_total", mode="idle"}', 'node_cpu_seconds_total'],
    ['namespace:http_requests:rate5m', 'namespace:http_requests:rate5m'],
  ])('%s is a bare selector of %s', (expr, name) => {
    expect(bareSelectorMetric(expr)).toEqual({ name });
  });

  it('knows a selector whose name is a regex, without a fixed name', () => {
    expect(bareSelectorMetric('{__name__=~"http_.*_total"}')).toEqual({ name: undefined });
  });

  it.each([
    'sum(http_requests_total)',
    'rate(http_requests_total[5m])',
    'http_requests_total[5m]',
    'http_requests_total offset 5m',
    'http_requests_total @ 1700000000',
    'http_requests_total{code="500"} * 2',
    'a{x="1"} + b{y="2"}',
    'sum by (code) (http_requests_total)',
    '1',
    'inf',
    '',
    '{}{}',
  ])('%s is not a bare selector', (expr) => {
    expect(bareSelectorMetric(expr)).toBeUndefined();
  });
});

describe('decideKind', () => {
  it.each([
    ['http_requests_total', undefined, 'counter', 'name ends in _total'],
    ['http_request_duration_seconds_count{job="api"}', undefined, 'counter', 'name ends in _count'],
    ['http_request_duration_seconds_sum', undefined, 'counter', 'name ends in _sum'],
    [
      'http_request_duration_seconds_bucket{le="0.5"}',
      undefined,
      'counter',
      'name ends in _bucket',
    ],
    ['node_memory_free_bytes', undefined, 'gauge', 'no counter metadata or suffix'],
    ['process_cpu_seconds', 'counter', 'counter', 'metadata type counter'],
    ['queue_length_total', 'gauge', 'gauge', 'metadata type gauge'],
    ['go_gc_duration_seconds_count', 'unknown', 'counter', 'name ends in _count'],
    ['sum(rate(http_requests_total[5m]))', 'counter', 'gauge', 'not a bare selector'],
    ['sum(http_requests_total)', undefined, 'gauge', 'not a bare selector'],
    ['{__name__=~".+_total"}', undefined, 'gauge', 'metric name not fixed'],
  ])('auto: %s with metadata %s is a %s (%s)', (expr, metadata, kind, reason) => {
    expect(decideKind('q', expr, 'auto', metadata)).toEqual({ kind, reason });
  });

  it('takes kind: gauge for any expression, and kind: counter for a bare selector', () => {
    expect(decideKind('q', 'http_requests_total', 'gauge', 'counter').kind).toBe('gauge');
    expect(decideKind('q', 'my_counter{a="b"}', 'counter', undefined).kind).toBe('counter');
    expect(decideKind('q', '{__name__=~"x_.*"}', 'counter', undefined).kind).toBe('counter');
  });

  it('rejects kind: counter on an expression, saying why', () => {
    expect(decideKind('errors', ' sum(http_requests_total) ', 'counter', 'counter')).toEqual({
      error:
        'Query "errors": kind: counter needs a bare selector such as ' +
        'http_requests_total{code="500"}, and "sum(http_requests_total)" is an expression. ' +
        'A sum() or other function of counters drops whenever one target restarts, which ' +
        'would count as a reset; use kind: gauge, or select the counter itself.',
    });
  });
});
