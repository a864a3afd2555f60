import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyEnvOverrides,
  attributeToVariables,
  envVariableFor,
  hasEnvOverrides,
  parseEnvValue,
} from '../../../src/config/env-overrides.js';
import { formatPath, knownKeys, type KeyPath } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/core/errors.js';
import { baseDoc, issuesOf, parse, tempDir, yamlWith } from './helpers.js';

/** Every key path of the schema: mapping keys, and list items as index 0. */
function schemaPaths(): KeyPath[] {
  const out: KeyPath[] = [];
  const walk = (path: KeyPath): void => {
    for (const key of knownKeys(path)) {
      out.push([...path, key]);
      walk([...path, key]);
      walk([...path, key, 0]);
    }
  };
  walk([]);
  return out;
}

describe('parseEnvValue', () => {
  it.each([
    ['plain text', 'http://localhost:9090', 'http://localhost:9090'],
    ['digits stay text (the schema takes them where numbers go)', '60', '60'],
    ['a numeric secret stays text', '12345678', '12345678'],
    ['leading and trailing spaces are kept', ' tok ', ' tok '],
    ['no quote processing', "'quoted'", "'quoted'"],
    ['YAML comment and alias characters are text', '#s3cret*&!x', '#s3cret*&!x'],
    ['a colon does not make a mapping', 'user: pass', 'user: pass'],
    ['IPv6 listen address stays text', '[::]:9469', '[::]:9469'],
    ['true', 'true', true],
    ['FALSE (any case)', 'FALSE', false],
    ['flow list', '[up, /http_.*/]', ['up', '/http_.*/']],
    ['JSON list of queries', '[{"name": "a", "query": "up"}]', [{ name: 'a', query: 'up' }]],
    ['flow mapping', '{X-Scope-OrgID: team-a}', { 'X-Scope-OrgID': 'team-a' }],
    ['block list over several lines', '- name: a\n  query: up\n', [{ name: 'a', query: 'up' }]],
    ['several lines that are no list stay text', 'line one\nline two', 'line one\nline two'],
  ])('%s', (_what, raw, expected) => {
    expect(parseEnvValue(raw).value).toEqual(expected);
  });

  it('keeps malformed YAML as text, with the reason but never the content', () => {
    const { value, yamlError } = parseEnvValue('[s3cret-value, b');
    expect(value).toBe('[s3cret-value, b');
    expect(yamlError).toMatch(/^unexpected end of the stream within a flow collection at line 1/);
    expect(yamlError).not.toContain('s3cret');
  });
});

describe('envVariableFor', () => {
  it('joins the upper-cased key path with double underscores', () => {
    expect(envVariableFor(['load', 'influxdb', 'token_file'])).toBe(
      'PROMFLUX__LOAD__INFLUXDB__TOKEN_FILE',
    );
    expect(envVariableFor(['extract', 'queries', 0, 'step'])).toBe(
      'PROMFLUX__EXTRACT__QUERIES__0__STEP',
    );
  });

  it('names a variable for every key of the schema, which sets exactly that key', () => {
    const paths = schemaPaths();
    expect(paths.length).toBeGreaterThan(50);
    // List items need a list to index: one query and one tier in the document.
    const doc = {
      extract: { queries: [{ name: 'a', query: 'up' }] },
      load: { tiers: [{ name: 'hot', bucket: 'b', retention: 0 }] },
    };
    for (const path of paths) {
      const variable = envVariableFor(path);
      const { issues, applied } = applyEnvOverrides(doc, { [variable]: 'x' });
      expect(issues, variable).toEqual([]);
      expect(applied, variable).toEqual([{ variable, path: formatPath(path) }]);
    }
  });
});

describe('applyEnvOverrides', () => {
  it('sets keys at every depth, case-insensitively, without touching the input', () => {
    const doc = baseDoc();
    const before = JSON.stringify(doc);
    const { value, issues } = applyEnvOverrides(doc, {
      PROMFLUX__EXTRACT__PROMETHEUS_URL: 'http://prom:9090',
      PROMFLUX__load__InfluxDB__token_file: '/run/secrets/token',
      PROMFLUX__PIPELINE__INTERVAL_SECONDS: '60',
      PROMFLUX__SERVER__LISTEN: ':9469',
      PROMFLUX__TRANSFORM__STATIC_TAGS__REGION: 'eu-west-1',
    });
    expect(issues).toEqual([]);
    expect(value).toEqual({
      extract: { prometheus_url: 'http://prom:9090' },
      transform: { static_tags: { region: 'eu-west-1' } },
      load: {
        influxdb: {
          url: 'http://localhost:8086',
          bucket: 'health_metrics',
          token_file: '/run/secrets/token',
        },
      },
      pipeline: { interval_seconds: '60' },
      server: { listen: ':9469' },
    });
    expect(JSON.stringify(doc)).toBe(before);
  });

  it('ignores empty variables and other PROMFLUX variables', () => {
    const env = {
      PROMFLUX__SERVER__LISTEN: '',
      PROMFLUX_SHARD: '1/2',
      PROMFLUX_CONFIG: '/etc/promflux.yaml',
      promflux__server__listen: ':1',
      PATH: '/usr/bin',
    };
    expect(applyEnvOverrides(baseDoc(), env)).toEqual({
      value: baseDoc(),
      issues: [],
      applied: [],
    });
    expect(hasEnvOverrides(env)).toBe(false);
    expect(hasEnvOverrides({ PROMFLUX__SERVER__LISTEN: ':9469' })).toBe(true);
  });

  it('replaces a mapping or list as a whole, and deeper variables refine it', () => {
    const doc = {
      extract: {
        retry: { max_attempts: 5, initial_delay: '10s' },
        queries: [
          { name: 'a', query: 'up' },
          { name: 'b', query: 'up' },
        ],
      },
    };
    const { value, issues } = applyEnvOverrides(doc, {
      PROMFLUX__EXTRACT__RETRY__MAX_DELAY: '1m',
      PROMFLUX__EXTRACT__RETRY: '{max_attempts: 2}',
      PROMFLUX__EXTRACT__QUERIES__1__STEP: '30s',
    });
    expect(issues).toEqual([]);
    expect(value).toEqual({
      extract: {
        retry: { max_attempts: 2, max_delay: '1m' },
        queries: [
          { name: 'a', query: 'up' },
          { name: 'b', query: 'up', step: '30s' },
        ],
      },
    });
  });

  it.each([
    [
      'PROMFLUX__EXTRACT__PROMETHEUS_ULR',
      'unknown key "extract.prometheus_ulr" (did you mean PROMFLUX__EXTRACT__PROMETHEUS_URL?)',
    ],
    [
      'PROMFLUX__EXTARCT__PROMETHEUS_URL',
      'unknown section "extarct" (did you mean PROMFLUX__EXTRACT__PROMETHEUS_URL?)',
    ],
    [
      'PROMFLUX__LOAD__INFLUXDB__TOKEN_FIEL',
      'unknown key "load.influxdb.token_fiel" (did you mean PROMFLUX__LOAD__INFLUXDB__TOKEN_FILE?)',
    ],
    ['PROMFLUX__SERVER__PORT', 'unknown key "server.port" (expected one of: listen, auth)'],
    [
      'PROMFLUX__EXTRACT____TIMEOUT',
      'names no key: levels are separated by exactly two underscores, e.g. PROMFLUX__EXTRACT__PROMETHEUS_URL',
    ],
    [
      'PROMFLUX__EXTRACT___TIMEOUT',
      'unknown key "extract._timeout" (did you mean PROMFLUX__EXTRACT__TIMEOUT?)',
    ],
    [
      'PROMFLUX__',
      'names no key: levels are separated by exactly two underscores, e.g. PROMFLUX__EXTRACT__PROMETHEUS_URL',
    ],
    [
      'PROMFLUX__EXTRACT__QUERIES__2__STEP',
      'extract.queries has 1 item(s), so there is no item 2; set the whole list with PROMFLUX__EXTRACT__QUERIES',
    ],
    [
      'PROMFLUX__EXTRACT__PROMETHEUS_URL__HOST',
      'cannot set extract.prometheus_url.host: extract.prometheus_url holds a single value, not a mapping',
    ],
  ])('%s: reports the variable, not applied', (variable, message) => {
    const doc = { extract: { prometheus_url: 'http://p', queries: [{ name: 'a', query: 'up' }] } };
    const result = applyEnvOverrides(doc, { [variable]: '30s' });
    expect(result.issues).toEqual([{ path: variable, message }]);
    expect(result.value).toBe(doc);
  });

  it('refuses two variables for one key (spellings differ only in case)', () => {
    const { issues, value } = applyEnvOverrides(
      {},
      { PROMFLUX__EXTRACT__TIMEOUT: '1s', PROMFLUX__extract__timeout: '2s' },
    );
    expect(issues).toEqual([
      {
        path: 'PROMFLUX__extract__timeout',
        message:
          'sets extract.timeout, which PROMFLUX__EXTRACT__TIMEOUT already sets (keep one of them)',
      },
    ]);
    expect(value).toEqual({ extract: { timeout: '1s' } });
  });

  it('applies the same way whatever order the environment lists the variables in', () => {
    const entries: Array<[string, string]> = [
      ['PROMFLUX__EXTRACT__RETRY', '{max_attempts: 2, max_delay: 5s}'],
      ['PROMFLUX__EXTRACT__RETRY__MAX_DELAY', '1m'],
      ['PROMFLUX__EXTRACT__TIMEOUT', '5s'],
      ['PROMFLUX__TRANSFORM__STATIC_TAGS', '{a: 1}'],
      ['PROMFLUX__TRANSFORM__STATIC_TAGS__B', '2'],
    ];
    const expected = applyEnvOverrides({}, Object.fromEntries(entries)).value;
    fc.assert(
      fc.property(fc.shuffledSubarray(entries, { minLength: entries.length }), (shuffled) => {
        expect(applyEnvOverrides({}, Object.fromEntries(shuffled)).value).toEqual(expected);
      }),
    );
  });
});

describe('attributeToVariables', () => {
  const applied = [
    { variable: 'PROMFLUX__EXTRACT__QUERIES', path: 'extract.queries' },
    { variable: 'PROMFLUX__EXTRACT__QUERIES__0__STEP', path: 'extract.queries[0].step' },
    { variable: 'PROMFLUX__PIPELINE__SHARD', path: 'pipeline.shard', yamlError: 'oops' },
  ];

  it('names the deepest variable that set the key, with the key when it is deeper', () => {
    expect(
      attributeToVariables(
        [
          { path: 'extract.queries[0].step', message: 'must be a positive duration' },
          { path: 'extract.queries[1].name', message: 'must be a query name' },
          { path: 'extract.queries_x', message: 'unknown key' },
          { path: 'pipeline.shard', message: 'must be "index/count"' },
          { path: 'pipeline', message: 'must be a mapping' },
          { path: '', message: 'the configuration must be a YAML mapping' },
        ],
        applied,
      ),
    ).toEqual([
      { path: 'PROMFLUX__EXTRACT__QUERIES__0__STEP', message: 'must be a positive duration' },
      {
        path: 'PROMFLUX__EXTRACT__QUERIES (extract.queries[1].name)',
        message: 'must be a query name',
      },
      { path: 'extract.queries_x', message: 'unknown key' },
      {
        path: 'PROMFLUX__PIPELINE__SHARD',
        message: 'must be "index/count"; the value is not valid YAML: oops',
      },
      { path: 'PROMFLUX__PIPELINE__SHARD (pipeline)', message: 'must be a mapping' },
      { path: '', message: 'the configuration must be a YAML mapping' },
    ]);
  });

  it('with hintUnset, tells which variable would set a key no variable set', () => {
    expect(
      attributeToVariables([{ path: 'load.influxdb.url', message: 'is required' }], [], {
        hintUnset: true,
      }),
    ).toEqual([
      { path: 'load.influxdb.url', message: 'is required; set PROMFLUX__LOAD__INFLUXDB__URL' },
    ]);
  });
});

describe('parseConfig with PROMFLUX__* variables', () => {
  it('lets a variable win over the file, and the file over the default', async () => {
    const { config } = await parse(
      yamlWith({ pipeline: { interval_seconds: 120, delay: '30s' } }),
      {
        env: {
          PROMFLUX__PIPELINE__INTERVAL_SECONDS: '60',
          PROMFLUX__EXTRACT__CONCURRENCY: '4',
          PROMFLUX__LOAD__INFLUXDB__GZIP: 'true',
          PROMFLUX__SERVER__LISTEN: 'false',
          PROMFLUX__TRANSFORM__MAX_FUTURE_SKEW: '90',
          PROMFLUX__LOAD__INFLUXDB__BATCH_SIZE: '10000',
        },
      },
    );
    expect(config.pipeline.intervalSeconds).toBe(60); // variable
    expect(config.pipeline.delayMs).toBe(30_000); // file
    expect(config.pipeline.shutdownGraceMs).toBe(30_000); // default
    expect(config.extract.concurrency).toBe(4);
    expect(config.load.influxdb.gzip).toBe(true);
    expect(config.server.listen).toBe(false);
    expect(config.transform.maxFutureSkewMs).toBe(90_000);
    expect(config.load.influxdb.batchSize).toBe(10_000);
    const ipv6 = await parse(yamlWith(), { env: { PROMFLUX__SERVER__LISTEN: '[::]:9469' } });
    expect(ipv6.config.server.listen).toBe('[::]:9469');
  });

  it('takes queries as a YAML or JSON list', async () => {
    const { config } = await parse(yamlWith(), {
      env: {
        PROMFLUX__EXTRACT__QUERIES:
          '[{name: up, query: "up{job=\\"api\\"}", step: 30s}, {"name": "rate", "query": "rate(x[5m])"}]',
      },
    });
    expect(config.extract.queries.map((q) => [q.name, q.expr, q.stepMs])).toEqual([
      ['up', 'up{job="api"}', 30_000],
      ['rate', 'rate(x[5m])', 15_000],
    ]);
  });

  it('names the variable in every error about a key it set', async () => {
    const issues = await issuesOf(yamlWith(), {
      env: {
        PROMFLUX__PIPELINE__INTERVAL_SECONDS: '0',
        PROMFLUX__EXTRACT__PROMETHEUS_URL: 'localhost:9090',
        PROMFLUX__EXTRACT__TIMOUT: '5s',
        PROMFLUX__EXTRACT__QUERIES: '[{name: a, query: up}, {name: a, query: up}]',
        PROMFLUX__LOAD__INFLUXDB__API: 'v3',
      },
    });
    expect(issues).toEqual([
      {
        path: 'PROMFLUX__EXTRACT__TIMOUT',
        message: 'unknown key "extract.timout" (did you mean PROMFLUX__EXTRACT__TIMEOUT?)',
      },
      {
        path: 'PROMFLUX__EXTRACT__PROMETHEUS_URL',
        message: 'must be an http(s) URL (scheme http:// or https://)',
      },
      {
        path: 'PROMFLUX__EXTRACT__QUERIES (extract.queries[1].name)',
        message: 'duplicate query name "a" (also used by queries[0]); names must be unique',
      },
      { path: 'PROMFLUX__LOAD__INFLUXDB__API', message: 'must be one of auto, v2, v1' },
      {
        path: 'PROMFLUX__PIPELINE__INTERVAL_SECONDS',
        message: 'must be an integer from 1 to 2147483',
      },
    ]);
  });

  it('keeps $PROMFLUX_SHARD as the fallback; PROMFLUX__PIPELINE__SHARD wins over it and the file', async () => {
    const shard = async (patch: object, env: NodeJS.ProcessEnv) =>
      (await parse(yamlWith(patch as Record<string, unknown>), { env })).config.pipeline.shard;
    expect(await shard({}, { PROMFLUX_SHARD: '1/3' })).toEqual({ index: 1, count: 3 });
    expect(await shard({ pipeline: { shard: '2/3' } }, { PROMFLUX_SHARD: '1/3' })).toEqual({
      index: 2,
      count: 3,
    });
    expect(
      await shard(
        { pipeline: { shard: '2/3' } },
        { PROMFLUX_SHARD: '1/3', PROMFLUX__PIPELINE__SHARD: '0/5' },
      ),
    ).toEqual({ index: 0, count: 5 });
    expect(await issuesOf(yamlWith(), { env: { PROMFLUX__PIPELINE__SHARD: '3/3' } })).toEqual([
      {
        path: 'PROMFLUX__PIPELINE__SHARD',
        message:
          'must be "index/count" or {index, count} with 0 <= index < count, e.g. "0/4" (from pipeline.shard or $PROMFLUX_SHARD)',
      },
    ]);
  });
});

describe('secrets given by PROMFLUX__* variables', () => {
  it('are redacted like secrets from the file', async () => {
    const loaded = await parse(yamlWith(), {
      env: {
        PROMFLUX__EXTRACT__PROMETHEUS_URL: 'http://promflux:url-pass-123@prom:9090',
        'PROMFLUX__EXTRACT__HEADERS__X-API-KEY': 'header-key-456',
        PROMFLUX__EXTRACT__BEARER_TOKEN: 'bearer-789',
        PROMFLUX__LOAD__INFLUXDB__TOKEN: '12345678',
      },
    });
    expect(loaded.config.load.influxdb.token).toBe('12345678');
    expect(loaded.config.extract.endpoint.headers).toEqual({ 'x-api-key': 'header-key-456' });
    expect(
      loaded.redactor.redact('a 12345678 b url-pass-123 c header-key-456 d bearer-789 e'),
    ).toBe('a [REDACTED] b [REDACTED] c [REDACTED] d [REDACTED] e');
  });

  it('read from a token_file named by a variable, and redacted', async () => {
    const tmp = await tempDir();
    try {
      const file = await tmp.file('token', 'file-token-abc\n');
      const loaded = await parse(yamlWith(), {
        env: {
          PROMFLUX__LOAD__INFLUXDB__TOKEN_FILE: file,
          PROMFLUX__LOAD__INFLUXDB__API: 'v2',
          PROMFLUX__LOAD__INFLUXDB__ORG: 'monitoring',
        },
      });
      expect(loaded.config.load.influxdb.token).toBe('file-token-abc');
      expect(loaded.redactor.redact('got file-token-abc')).toBe('got [REDACTED]');
      expect(loaded.warnings).toEqual([]);
    } finally {
      await tmp.cleanup();
    }
  });

  it('never appear in error messages', async () => {
    const err = await parse(yamlWith({ load: { influxdb: { token: 'file-secret-1' } } }), {
      env: {
        PROMFLUX__LOAD__INFLUXDB__PASSWORD: '[pw-secret-2, x',
        PROMFLUX__LOAD__INFLUXDB__TOKEN: '{tok: tok-secret-3}',
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as ConfigError).message;
    expect(text).toContain('PROMFLUX__LOAD__INFLUXDB__TOKEN: must be a string');
    expect(text).toContain('load.influxdb.username: required when password');
    for (const secret of ['file-secret-1', 'pw-secret-2', 'tok-secret-3']) {
      expect(text).not.toContain(secret);
    }
  });
});
