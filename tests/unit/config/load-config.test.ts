import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_QUERIES,
  defaultQueries,
  loadConfigFile,
  parseConfig,
  resolveConfigPath,
  type PromfluxConfig,
} from '../../../src/config/index.js';
import { knownKeys } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/core/errors.js';
import { issuesOf, parse, tempDir, yamlWith } from './helpers.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const EXAMPLE = join(REPO, 'config/promflux.example.yaml');

const VERBATIM = `extract:
  prometheus_url: "http://localhost:9090"
transform:
  valid_metrics: ["up", "http_requests_total", "http_request_duration_seconds_bucket"]
load:
  influxdb:
    url: "http://localhost:8086"
    token: "your-influxdb-token"
    org: "monitoring"
    bucket: "health_metrics"
pipeline:
  interval_seconds: 300
  log_level: "INFO"
`;

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

function expectedDefaults(baseDir: string): PromfluxConfig {
  return {
    extract: {
      endpoint: {
        url: 'http://localhost:9090',
        timeoutMs: 30_000,
        headers: {},
        auth: { type: 'none' },
        tls: { insecureSkipVerify: false },
      },
      params: {},
      concurrency: 2,
      maxSamplesPerRequest: 250_000,
      maxPointsPerSeries: 11_000,
      retry: {
        maxAttempts: 5,
        initialDelayMs: 500,
        maxDelayMs: 30_000,
        multiplier: 2,
        jitter: 0.5,
      },
      queries: defaultQueries().map((q) => ({ ...q, kind: 'auto', tiers: ['raw'] })),
    },
    transform: {
      validMetrics: [],
      measurement: 'health_metrics',
      field: 'value',
      labels: { drop: [], keep: [], rename: {} },
      staticTags: {},
      maxFutureSkewMs: 600_000,
    },
    load: {
      influxdb: {
        endpoint: {
          url: 'http://localhost:8086',
          timeoutMs: 30_000,
          headers: {},
          auth: { type: 'none' },
          tls: { insecureSkipVerify: false },
        },
        api: 'auto',
        bucket: 'health_metrics',
        batchSize: 5000,
        gzip: false,
        retry: {
          maxAttempts: 5,
          initialDelayMs: 1000,
          maxDelayMs: 60_000,
          multiplier: 2,
          jitter: 0.5,
        },
      },
      tiers: [{ name: 'raw', bucket: 'health_metrics', retentionMs: 0, retentionUnmanaged: true }],
      provision: false,
      deadLetterPath: join(baseDir, 'promflux-state', 'dead-letter.jsonl'),
    },
    pipeline: {
      intervalSeconds: 300,
      delayMs: 60_000,
      logLevel: 'info',
      stateDir: join(baseDir, 'promflux-state'),
      initialLookbackMs: 300_000,
      maxCatchupMs: 86_400_000,
      shutdownGraceMs: 30_000,
      shard: { index: 0, count: 1 },
      startJitterMs: 0,
      latenessMs: 0,
      rewriteWindows: 0,
    },
    server: { listen: '127.0.0.1:9469' },
  };
}

describe('loadConfigFile', () => {
  it('loads the reference config verbatim, relative paths next to the file', async () => {
    const file = await tmp.file('promflux.yaml', VERBATIM);
    const loaded = await loadConfigFile(file, {});
    const expected = expectedDefaults(tmp.dir);
    expected.transform.validMetrics = [
      'up',
      'http_requests_total',
      'http_request_duration_seconds_bucket',
    ];
    expected.load.influxdb.token = 'your-influxdb-token';
    expected.load.influxdb.org = 'monitoring';
    expect(loaded.config).toEqual(expected);
    expect(loaded.warnings).toEqual([]);
  });

  it('resolves relative paths against the file directory, not the working directory', async () => {
    await mkdir(join(tmp.dir, 'etc'));
    await tmp.file('etc/token', 'tok\n');
    const file = await tmp.file(
      'etc/promflux.yaml',
      yamlWith({
        load: { influxdb: { token_file: 'token' }, dead_letter_path: '../dl/rejected.jsonl' },
        pipeline: { state_dir: 'state' },
      }),
    );
    const { config } = await loadConfigFile(file, {});
    expect(process.cwd()).not.toBe(join(tmp.dir, 'etc'));
    expect(config.load.influxdb.token).toBe('tok');
    expect(config.pipeline.stateDir).toBe(join(tmp.dir, 'etc', 'state'));
    expect(config.load.deadLetterPath).toBe(join(tmp.dir, 'dl', 'rejected.jsonl'));
    const absolute = await parse(yamlWith({ pipeline: { state_dir: '/var/lib/promflux' } }));
    expect(absolute.config.pipeline.stateDir).toBe('/var/lib/promflux');
    expect(absolute.config.load.deadLetterPath).toBe('/var/lib/promflux/dead-letter.jsonl');
  });

  it('reports a missing file as one issue naming it', async () => {
    const file = join(tmp.dir, 'nope.yaml');
    const err = await loadConfigFile(file, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      {
        path: '',
        message: `cannot read config file "${file}": no such file (ENOENT) (pass --config <file> or set PROMFLUX_CONFIG)`,
      },
    ]);
    expect((err as ConfigError).message).toContain(file);
  });

  it('reports a directory as unreadable', async () => {
    const err = await loadConfigFile(tmp.dir, {}).catch((e: unknown) => e);
    expect((err as ConfigError).issues).toEqual([
      {
        path: '',
        message: `cannot read config file "${tmp.dir}": is a directory, not a file (EISDIR)`,
      },
    ]);
  });

  it('names the file in the error message', async () => {
    const file = await tmp.file('bad.yaml', yamlWith({ pipeline: { interval_seconds: 0 } }));
    const err = await loadConfigFile(file, {}).catch((e: unknown) => e);
    expect((err as ConfigError).message).toBe(
      `Invalid configuration in ${file}:\n  pipeline.interval_seconds: must be an integer from 1 to 2147483`,
    );
  });
});

describe('parseConfig', () => {
  it('fills every default from the smallest valid document', async () => {
    const loaded = await parseConfig(yamlWith(), { baseDir: '/etc/promflux', env: {} });
    expect(loaded.config).toEqual(expectedDefaults('/etc/promflux'));
    expect(loaded.warnings).toEqual([]);
  });

  it('maps every setting', async () => {
    await tmp.file('ca.pem', 'ca');
    const yaml = yamlWith({
      extract: {
        prometheus_url: 'https://mimir:8080/prometheus',
        timeout: '1m30s',
        concurrency: 4,
        max_samples_per_request: 1000,
        max_points_per_series: 500,
        headers: { 'X-Scope-OrgID': 'team-a' },
        basic_auth: { username: 'reader', password: 'pw' },
        tls: { ca_file: 'ca.pem', insecure_skip_verify: true, server_name: 'mimir' },
        params: { dedup: 'true' },
        retry: { max_attempts: 3, initial_delay: 0.25, max_delay: '2s' },
        queries: [
          { name: 'up', query: 'up' },
          {
            name: 'rate.5m',
            query: 'rate(x[5m])',
            step: '1m',
            kind: 'gauge',
            tiers: ['raw'],
            measurement: 'm',
            field: 'f',
            tags: { tier: 'gold' },
            labels: { drop: ['pod'], keep: ['job'], rename: { exported_job: 'job' } },
          },
        ],
      },
      transform: {
        valid_metrics: ['up', '/x.*/'],
        measurement: 'health',
        field: 'v',
        labels: { drop: ['a'], keep: ['b'], rename: { c: 'd' } },
        static_tags: { env: 'prod' },
        max_future_skew: 0,
      },
      load: {
        influxdb: {
          url: 'http://influx:8086/',
          api: 'v1',
          bucket: 'db/rp',
          username: 'writer',
          password: 'secret',
          timeout: 10,
          batch_size: 100,
          gzip: true,
          headers: { 'X-Trace': '1' },
          retry: { max_attempts: 1, initial_delay: '0s', max_delay: '1s' },
        },
        dead_letter_path: '/var/log/promflux/dead.jsonl',
        provision: true,
      },
      pipeline: {
        interval_seconds: 60,
        delay: '2m',
        log_level: 'Warning',
        state_dir: 'state',
        initial_lookback: '1h',
        max_catchup: '2d',
        shutdown_grace: '10s',
        shard: '1/3',
        schedule: '*/5 * * * *',
        start_jitter: '5s',
        lateness: '5m',
        rewrite_windows: 2,
      },
      server: { listen: ':9470' },
    });
    const { config, warnings } = await parse(yaml, { baseDir: tmp.dir });
    expect(warnings).toEqual([
      // pipeline.lateness and rewrite_windows are set and act on rollup tiers: no warning.
      expect.stringMatching(/^extract\.tls\.insecure_skip_verify: .* is not verified/),
    ]);
    expect(config).toEqual({
      extract: {
        endpoint: {
          url: 'https://mimir:8080/prometheus',
          timeoutMs: 90_000,
          headers: { 'X-Scope-OrgID': 'team-a' },
          auth: { type: 'basic', username: 'reader', password: 'pw' },
          tls: { caFile: join(tmp.dir, 'ca.pem'), insecureSkipVerify: true, serverName: 'mimir' },
        },
        params: { dedup: 'true' },
        concurrency: 4,
        maxSamplesPerRequest: 1000,
        maxPointsPerSeries: 500,
        retry: {
          maxAttempts: 3,
          initialDelayMs: 250,
          maxDelayMs: 2000,
          multiplier: 2,
          jitter: 0.5,
        },
        queries: [
          { name: 'up', expr: 'up', stepMs: 15_000, tags: {}, kind: 'auto', tiers: ['raw'] },
          {
            name: 'rate.5m',
            expr: 'rate(x[5m])',
            stepMs: 60_000,
            measurement: 'm',
            field: 'f',
            tags: { tier: 'gold' },
            labels: { drop: ['pod'], keep: ['job'], rename: { exported_job: 'job' } },
            kind: 'gauge',
            tiers: ['raw'],
          },
        ],
      },
      transform: {
        validMetrics: ['up', '/x.*/'],
        measurement: 'health',
        field: 'v',
        labels: { drop: ['a'], keep: ['b'], rename: { c: 'd' } },
        staticTags: { env: 'prod' },
        maxFutureSkewMs: 0,
      },
      load: {
        influxdb: {
          endpoint: {
            url: 'http://influx:8086/',
            timeoutMs: 10_000,
            headers: { 'X-Trace': '1' },
            auth: { type: 'none' },
            tls: { insecureSkipVerify: false },
          },
          api: 'v1',
          bucket: 'db/rp',
          username: 'writer',
          password: 'secret',
          batchSize: 100,
          gzip: true,
          retry: {
            maxAttempts: 1,
            initialDelayMs: 0,
            maxDelayMs: 1000,
            multiplier: 2,
            jitter: 0.5,
          },
        },
        tiers: [{ name: 'raw', bucket: 'db/rp', retentionMs: 0, retentionUnmanaged: true }],
        provision: true,
        deadLetterPath: '/var/log/promflux/dead.jsonl',
      },
      pipeline: {
        intervalSeconds: 60,
        delayMs: 120_000,
        logLevel: 'warn',
        stateDir: join(tmp.dir, 'state'),
        initialLookbackMs: 3_600_000,
        maxCatchupMs: 172_800_000,
        shutdownGraceMs: 10_000,
        shard: { index: 1, count: 3 },
        schedule: '*/5 * * * *',
        startJitterMs: 5_000,
        latenessMs: 300_000,
        rewriteWindows: 2,
      },
      server: { listen: ':9470' },
    });
    // Absent optional settings stay absent rather than present-and-undefined.
    expect(Object.keys(config.extract.queries[0]!)).toEqual([
      'name',
      'expr',
      'stepMs',
      'tags',
      'kind',
      'tiers',
    ]);
    expect('token' in config.load.influxdb).toBe(false);
  });

  it.each([
    ['a: [1,2\n', 'YAML syntax error at line 2, column 1: deficient indentation'],
    // js-yaml reads an unclosed quote on into the next line and reports that line.
    [
      'extract:\n  prometheus_url: "http://x\n  concurrency: 2\n',
      'YAML syntax error at line 2: a quoted value is not closed',
    ],
    ["a: 1\nb: 'it''s\n", 'YAML syntax error at line 2: a quoted value is not closed'],
    ['extract:\n  a: 1\n  a: 2\n', 'YAML syntax error at line 3, column 3: duplicated mapping key'],
    [
      'extract:\n  a: 1\n b: 2\n',
      'YAML syntax error at line 3, column 2: bad indentation of a mapping entry',
    ],
    [
      'a: 1\n---\nb: 2\n',
      'YAML syntax error: expected a single document in the stream, but found more',
    ],
    ['', 'the file is empty: expected a YAML mapping with extract, transform, load and pipeline'],
    [
      '# only a comment\n\n',
      'the file is empty: expected a YAML mapping with extract, transform, load and pipeline',
    ],
  ])('reports YAML problems with their position: %j', async (text, message) => {
    expect(await issuesOf(text)).toEqual([{ path: '', message }]);
  });
});

describe('the shipped example config', () => {
  it('validates with the variables it requires, and equals the documented defaults', async () => {
    const { config, warnings } = await loadConfigFile(EXAMPLE, { INFLUX_TOKEN: 'example-token' });
    expect(warnings).toEqual([]);
    const expected = expectedDefaults(dirname(EXAMPLE));
    expected.transform.validMetrics = [
      'up',
      'http_requests_total',
      'http_request_duration_seconds_bucket',
    ];
    expected.load.influxdb.token = 'example-token';
    expected.load.influxdb.org = 'monitoring';
    expect(config).toEqual(expected);
  });

  it('uses its environment variables', async () => {
    const { config } = await loadConfigFile(EXAMPLE, {
      INFLUX_TOKEN: 't',
      PROMETHEUS_URL: 'http://prom.internal:9090',
      INFLUX_URL: 'https://influx.internal',
      PROMFLUX_LOG_LEVEL: 'debug',
    });
    expect(config.extract.endpoint.url).toBe('http://prom.internal:9090');
    expect(config.load.influxdb.endpoint.url).toBe('https://influx.internal');
    expect(config.pipeline.logLevel).toBe('debug');
  });

  it('stops with its own message when INFLUX_TOKEN is not set', async () => {
    const err = await loadConfigFile(EXAMPLE, {}).catch((e: unknown) => e);
    expect((err as ConfigError).issues).toEqual([
      {
        path: 'load.influxdb.token',
        message:
          'environment variable INFLUX_TOKEN is not set or empty: set INFLUX_TOKEN to the InfluxDB API token',
      },
    ]);
  });

  it('documents every key of the schema', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    const keys = new Set<string>();
    const walk = (path: (string | number)[]): void => {
      for (const key of knownKeys(path)) {
        keys.add(key);
        walk([...path, key]);
        walk([...path, key, 0]);
      }
    };
    walk([]);
    expect(keys.size).toBeGreaterThan(50);
    const undocumented = [...keys].filter(
      (key) => !new RegExp(`(^|[\\s{,#-])${key}:`, 'm').test(text),
    );
    expect(undocumented).toEqual([]);
  });
});

describe('resolveConfigPath', () => {
  it('prefers --config, then PROMFLUX_CONFIG, then config/promflux.yaml', () => {
    expect(resolveConfigPath('cli.yaml', { PROMFLUX_CONFIG: 'env.yaml' })).toBe('cli.yaml');
    expect(resolveConfigPath(undefined, { PROMFLUX_CONFIG: 'env.yaml' })).toBe('env.yaml');
    expect(resolveConfigPath('', { PROMFLUX_CONFIG: 'env.yaml' })).toBe('env.yaml');
    expect(resolveConfigPath(undefined, { PROMFLUX_CONFIG: '' })).toBe('config/promflux.yaml');
    expect(resolveConfigPath(undefined, {})).toBe('config/promflux.yaml');
  });
});

describe('DEFAULT_QUERIES', () => {
  it('are the four health queries at a 15 s step', () => {
    expect(DEFAULT_QUERIES).toEqual([
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
  });

  it('cannot be altered through a loaded config', async () => {
    const { config } = await parse(yamlWith());
    config.extract.queries[0]!.tags.mutated = 'yes';
    config.extract.queries[0]!.name = 'changed';
    expect(DEFAULT_QUERIES[0]).toEqual({
      name: 'availability',
      expr: 'up{job="test-app"}',
      stepMs: 15_000,
      tags: {},
    });
  });
});
