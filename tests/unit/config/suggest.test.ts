import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from '../../../src/config/suggest.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['promethus', 'prometheus', 1],
    ['tsl', 'tls', 1],
    ['abcd', 'acbd', 1],
    ['same', 'same', 0],
  ])('%s ↔ %s = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('closestMatch', () => {
  const keys = ['prometheus_url', 'timeout', 'concurrency', 'tls', 'params', 'retry', 'queries'];
  it.each([
    ['promethus_url', 'prometheus_url'],
    ['prometheusUrl', 'prometheus_url'],
    ['PROMETHEUS-URL', 'prometheus_url'],
    ['timout', 'timeout'],
    ['tsl', 'tls'],
    ['querys', 'queries'],
    ['concurency', 'concurrency'],
  ])('%s → %s', (input, expected) => {
    expect(closestMatch(input, keys)).toBe(expected);
  });

  it('suggests nothing when no key is close', () => {
    expect(closestMatch('zzz', keys)).toBeUndefined();
    expect(closestMatch('url', keys)).toBeUndefined();
    expect(closestMatch('x', [])).toBeUndefined();
  });
});
