import { describe, expect, it } from 'vitest';
import { interpolateEnv, interpolateString } from '../../../src/config/interpolate.js';
import { issuesOf, parse, yamlWith } from './helpers.js';

const env = { HOST: 'prom', PORT: '9090', EMPTY: '', TOKEN: 's3cr3t-value' };

describe('interpolateString', () => {
  it.each([
    ['http://${HOST}:${PORT}', 'http://prom:9090'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${HOST:-fallback}', 'prom'],
    ['${MISSING:-}', ''],
    ['${HOST:?must be set}', 'prom'],
    ['${EMPTY}', ''],
    ['cost: $$5', 'cost: $5'],
    ['$${HOST}', '${HOST}'],
    ['/.*_total$/', '/.*_total$/'],
    ['a $ b', 'a $ b'],
    ['trailing $', 'trailing $'],
    ['${MISSING:-a:b-c}', 'a:b-c'],
  ])('%s → %s', (input, expected) => {
    expect(interpolateString(input, env)).toEqual({ value: expected, problems: [] });
  });

  it('does not expand substituted text again', () => {
    expect(interpolateString('${A}', { A: '${B}', B: 'x' }).value).toBe('${B}');
  });

  it.each([
    [
      '${MISSING}',
      'environment variable MISSING is not set (set it, or write ${MISSING:-default} for a default)',
    ],
    [
      '${MISSING:?the Prometheus URL}',
      'environment variable MISSING is not set or empty: the Prometheus URL',
    ],
    [
      '${EMPTY:?the Prometheus URL}',
      'environment variable EMPTY is not set or empty: the Prometheus URL',
    ],
    ['${MISSING:?}', 'environment variable MISSING is required but not set or empty'],
    [
      '${1BAD}',
      'invalid reference "${1BAD}": expected ${NAME}, ${NAME:-default} or ${NAME:?message}, where NAME is letters, digits and "_"',
    ],
    [
      '${}',
      'invalid reference "${}": expected ${NAME}, ${NAME:-default} or ${NAME:?message}, where NAME is letters, digits and "_"',
    ],
    ['${HOST', 'unterminated "${" (missing "}"; write "$$" for a literal "$")'],
    ['${A:-${B}}', 'nested references in ${A:-...} are not supported'],
  ])('%s is a problem', (input, message) => {
    expect(interpolateString(input, env).problems).toEqual([message]);
  });
});

describe('interpolateEnv', () => {
  it('interpolates string values at any depth, including lists, and leaves keys and other types alone', () => {
    const doc = {
      '${HOST}': 'key stays',
      list: ['${HOST}', { nested: ['x${PORT}'] }],
      n: 5,
      b: true,
      nil: null,
    };
    expect(interpolateEnv(doc, env)).toEqual({
      value: {
        '${HOST}': 'key stays',
        list: ['prom', { nested: ['x9090'] }],
        n: 5,
        b: true,
        nil: null,
      },
      issues: [],
    });
  });

  it('names the key path of each problem', () => {
    const doc = { a: { list: ['ok', '${NOPE}'] }, b: '${X:?needed}' };
    expect(interpolateEnv(doc, {}).issues).toEqual([
      {
        path: 'a.list[1]',
        message:
          'environment variable NOPE is not set (set it, or write ${NOPE:-default} for a default)',
      },
      { path: 'b', message: 'environment variable X is not set or empty: needed' },
    ]);
  });

  it('cannot inject YAML structure', () => {
    const value = 'x\nextra: 1\n- [a]';
    expect(interpolateEnv({ a: '${V}' }, { V: value }).value).toEqual({ a: value });
  });
});

describe('environment in a config', () => {
  it('fills values everywhere, including lists of queries', async () => {
    const yaml = yamlWith({
      extract: {
        prometheus_url: 'http://${HOST}:${PORT}',
        queries: [{ name: 'q', query: 'up{job="${JOB:-api}"}', step: '${STEP:-30s}' }],
      },
      transform: { valid_metrics: ['${METRIC}', '/.*_total$/'] },
      load: { influxdb: { token: '${TOKEN}', bucket: '$${literal}' } },
      pipeline: { interval_seconds: '${INTERVAL:-60}' },
    });
    const { config } = await parse(yaml, { env: { ...env, METRIC: 'up' } });
    expect(config.extract.endpoint.url).toBe('http://prom:9090');
    expect(config.extract.queries).toEqual([
      { name: 'q', expr: 'up{job="api"}', stepMs: 30_000, tags: {}, kind: 'auto', tiers: ['raw'] },
    ]);
    expect(config.transform.validMetrics).toEqual(['up', '/.*_total$/']);
    expect(config.load.influxdb.token).toBe('s3cr3t-value');
    expect(config.load.influxdb.bucket).toBe('${literal}');
    expect(config.pipeline.intervalSeconds).toBe(60);
  });

  it('reports a missing variable at its key, instead of a follow-on type error', async () => {
    const yaml = yamlWith({
      extract: { prometheus_url: '${PROM_URL}' },
      transform: { valid_metrics: ['up', '${M}'] },
    });
    expect(await issuesOf(yaml)).toEqual([
      {
        path: 'extract.prometheus_url',
        message:
          'environment variable PROM_URL is not set (set it, or write ${PROM_URL:-default} for a default)',
      },
      {
        path: 'transform.valid_metrics[1]',
        message: 'environment variable M is not set (set it, or write ${M:-default} for a default)',
      },
    ]);
  });
});
