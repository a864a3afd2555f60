import { describe, expect, it } from 'vitest';
import { createMetricFilter, metricsRefusedByWhitelist } from '../../../src/transform/filter.js';

const whitelist = ['up', 'http_requests_total', '/node_.*/'];

describe('createMetricFilter', () => {
  it('keeps everything when the whitelist is empty', () => {
    const keep = createMetricFilter([], 'vector(1)');
    expect(keep({})).toBe(true);
    expect(keep({ __name__: 'anything' })).toBe(true);
  });

  it('judges named series by exact names and anchored regexes', () => {
    const keep = createMetricFilter(whitelist, '{__name__=~".+"}');
    expect(keep({ __name__: 'up' })).toBe(true);
    expect(keep({ __name__: 'upx' })).toBe(false);
    expect(keep({ __name__: 'node_load1' })).toBe(true);
    expect(keep({ __name__: 'xnode_load1' })).toBe(false);
  });

  it('judges unnamed series by the metrics their query selects', () => {
    expect(createMetricFilter(whitelist, 'rate(http_requests_total[5m])')({ job: 'a' })).toBe(true);
    expect(createMetricFilter(whitelist, 'rate(other_total[5m])')({ job: 'a' })).toBe(false);
    expect(createMetricFilter(whitelist, 'up / other')({})).toBe(false);
    expect(createMetricFilter(whitelist, 'up * node_load1')({})).toBe(true);
    expect(createMetricFilter(whitelist, 'vector(1)')({})).toBe(false);
    expect(createMetricFilter(whitelist, 'sum({__name__=~"node_.*"})')({})).toBe(false);
  });

  it('names the selected metrics a whitelist refuses', () => {
    expect(metricsRefusedByWhitelist(whitelist, 'up / other + node_x')).toEqual(['other']);
    expect(metricsRefusedByWhitelist([], 'other')).toEqual([]);
  });
});
