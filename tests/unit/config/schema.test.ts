import { describe, expect, it } from 'vitest';
import { knownKeys } from '../../../src/config/schema.js';
import { issuesOf, parse, yamlWith, type Doc } from './helpers.js';

const DURATION = 'a duration such as 500ms, 15s, 5m or 1m30s, or a number of seconds';
const POSITIVE_DURATION = `must be a positive ${DURATION.slice(2)}`;

/** [what, patch over the minimal valid document, expected path, expected message] */
const SINGLE_ISSUE_CASES: [string, Doc, string, string][] = [
  // extract
  [
    'missing prometheus_url',
    { extract: { prometheus_url: undefined } },
    'extract.prometheus_url',
    'is required (an http(s) URL, e.g. http://localhost:9090)',
  ],
  [
    'prometheus_url not a URL',
    { extract: { prometheus_url: 'not a url' } },
    'extract.prometheus_url',
    'must be an http(s) URL, e.g. http://localhost:9090',
  ],
  [
    'prometheus_url without scheme',
    { extract: { prometheus_url: 'localhost:9090' } },
    'extract.prometheus_url',
    'must be an http(s) URL (scheme http:// or https://)',
  ],
  [
    'prometheus_url ftp',
    { extract: { prometheus_url: 'ftp://prom' } },
    'extract.prometheus_url',
    'must be an http(s) URL (scheme http:// or https://)',
  ],
  [
    'prometheus_url with query',
    { extract: { prometheus_url: 'http://prom/?dedup=true' } },
    'extract.prometheus_url',
    'must be an http(s) URL without a query string or fragment',
  ],
  [
    'prometheus_url a number',
    { extract: { prometheus_url: 9090 } },
    'extract.prometheus_url',
    'must be an http(s) URL',
  ],
  [
    'timeout not a duration',
    { extract: { timeout: '5 sec' } },
    'extract.timeout',
    POSITIVE_DURATION,
  ],
  ['timeout negative', { extract: { timeout: -1 } }, 'extract.timeout', POSITIVE_DURATION],
  ['timeout zero', { extract: { timeout: '0s' } }, 'extract.timeout', 'must be greater than zero'],
  [
    'concurrency 0',
    { extract: { concurrency: 0 } },
    'extract.concurrency',
    'must be an integer from 1 to 32',
  ],
  [
    'concurrency 33',
    { extract: { concurrency: 33 } },
    'extract.concurrency',
    'must be an integer from 1 to 32',
  ],
  [
    'concurrency fractional',
    { extract: { concurrency: 1.5 } },
    'extract.concurrency',
    'must be an integer from 1 to 32',
  ],
  [
    'concurrency text',
    { extract: { concurrency: 'two' } },
    'extract.concurrency',
    'must be an integer from 1 to 32',
  ],
  [
    'max_samples_per_request too small',
    { extract: { max_samples_per_request: 999 } },
    'extract.max_samples_per_request',
    'must be an integer >= 1000',
  ],
  [
    'max_points_per_series too big',
    { extract: { max_points_per_series: 11_001 } },
    'extract.max_points_per_series',
    'must be an integer from 1 to 11000',
  ],
  [
    'headers a list',
    { extract: { headers: ['X-A: b'] } },
    'extract.headers',
    'must be a mapping of HTTP header names to values',
  ],
  [
    'header name invalid',
    { extract: { headers: { 'bad header': 'x' } } },
    'extract.headers.bad header',
    "is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~)",
  ],
  [
    'header value with newline',
    { extract: { headers: { 'X-A': 'a\r\nX-Injected: 1' } } },
    'extract.headers.X-A',
    'must be a valid HTTP header value (printable characters, no line breaks)',
  ],
  [
    'header value a mapping',
    { extract: { headers: { 'X-A': { b: 1 } } } },
    'extract.headers.X-A',
    'must be a string, number or true/false',
  ],
  [
    'basic_auth without username',
    { extract: { basic_auth: { password: 'p' } } },
    'extract.basic_auth.username',
    'is required (a user name)',
  ],
  [
    'basic_auth a string',
    { extract: { basic_auth: 'user:pass' } },
    'extract.basic_auth',
    'must be a mapping (key: value pairs)',
  ],
  [
    'basic_auth with bearer_token',
    { extract: { basic_auth: { username: 'u', password: 'p' }, bearer_token: 't0ken' } },
    'extract.bearer_token',
    'cannot be combined with basic_auth (choose one way to authenticate)',
  ],
  [
    'basic_auth with bearer_token_file',
    { extract: { basic_auth: { username: 'u' }, bearer_token_file: '/dev/null' } },
    'extract.bearer_token_file',
    'cannot be combined with basic_auth (choose one way to authenticate)',
  ],
  [
    'bearer_token a number',
    { extract: { bearer_token: 12345 } },
    'extract.bearer_token',
    'must be a string (put the value in quotes)',
  ],
  [
    'Authorization header with bearer_token',
    { extract: { bearer_token: 't0ken', headers: { authorization: 'Bearer x' } } },
    'extract.headers.authorization',
    'conflicts with basic_auth / bearer_token (configure authentication in one place)',
  ],
  [
    'insecure_skip_verify not boolean',
    { extract: { tls: { insecure_skip_verify: 'yes' } } },
    'extract.tls.insecure_skip_verify',
    'must be true or false',
  ],
  [
    'tls server_name empty',
    { extract: { tls: { server_name: ' ' } } },
    'extract.tls.server_name',
    'must not be empty (a host name)',
  ],
  [
    'params with empty name',
    { extract: { params: { '': 'x' } } },
    'extract.params.',
    'names must not be empty',
  ],
  [
    'retry max_attempts 0',
    { extract: { retry: { max_attempts: 0 } } },
    'extract.retry.max_attempts',
    'must be an integer from 1 to 100',
  ],
  [
    'retry max_delay below initial_delay',
    { extract: { retry: { initial_delay: '10s', max_delay: '5s' } } },
    'extract.retry.max_delay',
    'must be at least initial_delay',
  ],
  [
    'retry initial_delay above default max_delay',
    { extract: { retry: { initial_delay: '2m' } } },
    'extract.retry.initial_delay',
    'must not exceed max_delay (default 30s)',
  ],
  [
    'retry initial_delay not a duration',
    { extract: { retry: { initial_delay: 'soon' } } },
    'extract.retry.initial_delay',
    `must be ${DURATION}`,
  ],
  [
    'queries empty',
    { extract: { queries: [] } },
    'extract.queries',
    'must list at least one query (or leave it out for the four default health queries)',
  ],
  [
    'queries not a list',
    { extract: { queries: 'up' } },
    'extract.queries',
    'must be a list of queries ({name, query, step})',
  ],
  [
    'query without name',
    { extract: { queries: [{ query: 'up' }] } },
    'extract.queries[0].name',
    'is required (a query name of letters, digits, "_", "." and "-")',
  ],
  [
    'query name with space',
    { extract: { queries: [{ name: 'a b', query: 'up' }] } },
    'extract.queries[0].name',
    'must be a query name of letters, digits, "_", "." and "-" (e.g. request_rate)',
  ],
  [
    'query without query',
    { extract: { queries: [{ name: 'a' }] } },
    'extract.queries[0].query',
    'is required (a PromQL expression)',
  ],
  [
    'query empty',
    { extract: { queries: [{ name: 'a', query: '  ' }] } },
    'extract.queries[0].query',
    'must not be empty (a PromQL expression)',
  ],
  [
    'step zero',
    { extract: { queries: [{ name: 'a', query: 'up', step: 0 }] } },
    'extract.queries[0].step',
    'must be greater than zero',
  ],
  [
    'step fractional milliseconds',
    { extract: { queries: [{ name: 'a', query: 'up', step: 0.0155 }] } },
    'extract.queries[0].step',
    'must be a whole number of milliseconds',
  ],
  [
    'step not a duration',
    { extract: { queries: [{ name: 'a', query: 'up', step: '15 seconds' }] } },
    'extract.queries[0].step',
    POSITIVE_DURATION,
  ],
  [
    'query measurement empty',
    { extract: { queries: [{ name: 'a', query: 'up', measurement: '' }] } },
    'extract.queries[0].measurement',
    'must not be empty (a measurement name)',
  ],
  [
    'query tag value empty',
    { extract: { queries: [{ name: 'a', query: 'up', tags: { team: '' } }] } },
    'extract.queries[0].tags.team',
    'must not be empty',
  ],
  [
    'query unknown key',
    { extract: { queries: [{ name: 'a', qurey: 'up', query: 'up' }] } },
    'extract.queries[0].qurey',
    'unknown key (did you mean "query"?)',
  ],
  [
    'duplicate query names',
    {
      extract: {
        queries: [
          { name: 'a', query: 'up' },
          { name: 'b', query: 'up' },
          { name: 'a', query: 'up' },
        ],
      },
    },
    'extract.queries[2].name',
    'duplicate query name "a" (also used by queries[0]); names must be unique',
  ],
  [
    'query label kept and dropped',
    {
      extract: {
        queries: [{ name: 'a', query: 'up', labels: { keep: ['job', 'pod'], drop: ['pod'] } }],
      },
    },
    'extract.queries[0].labels.keep[1]',
    '"pod" is also listed in drop (a label cannot be both kept and dropped)',
  ],
  [
    'unknown key with suggestion',
    { extract: { promethus_url: 'http://x' } },
    'extract.promethus_url',
    'unknown key (did you mean "prometheus_url"?)',
  ],
  [
    'unknown camelCase key',
    { extract: { maxPointsPerSeries: 5 } },
    'extract.maxPointsPerSeries',
    'unknown key (did you mean "max_points_per_series"?)',
  ],
  // transform
  [
    'valid_metrics bad regex',
    { transform: { valid_metrics: ['up', '/(/'] } },
    'transform.valid_metrics[1]',
    'is not a valid regular expression (Unterminated group)',
  ],
  [
    'valid_metrics a string',
    { transform: { valid_metrics: 'up' } },
    'transform.valid_metrics',
    'must be a list of metric names or /regex/ strings',
  ],
  [
    'valid_metrics entry a number',
    { transform: { valid_metrics: [5] } },
    'transform.valid_metrics[0]',
    'must be a metric name or /regex/ (put the value in quotes)',
  ],
  [
    'valid_metrics entry empty',
    { transform: { valid_metrics: [''] } },
    'transform.valid_metrics[0]',
    'must not be empty (a metric name or /regex/)',
  ],
  [
    'measurement empty',
    { transform: { measurement: '' } },
    'transform.measurement',
    'must not be empty (a measurement name)',
  ],
  ['field a list', { transform: { field: ['v'] } }, 'transform.field', 'must be a field name'],
  [
    'labels.drop a string',
    { transform: { labels: { drop: 'pod' } } },
    'transform.labels.drop',
    'must be a list of label names',
  ],
  [
    'labels kept and dropped',
    { transform: { labels: { keep: ['pod'], drop: ['pod'] } } },
    'transform.labels.keep[0]',
    '"pod" is also listed in drop (a label cannot be both kept and dropped)',
  ],
  [
    'rename targets collide',
    { transform: { labels: { rename: { a: 'x', b: 'y', c: 'x' } } } },
    'transform.labels.rename.c',
    'renames to "x" like rename.a does (each new name must be unique)',
  ],
  [
    'rename to empty',
    { transform: { labels: { rename: { a: '' } } } },
    'transform.labels.rename.a',
    'must not be empty',
  ],
  [
    'static_tags a list',
    { transform: { static_tags: ['a'] } },
    'transform.static_tags',
    'must be a mapping of tag names to values',
  ],
  [
    'max_future_skew not a duration',
    { transform: { max_future_skew: '10 minutes' } },
    'transform.max_future_skew',
    `must be ${DURATION}`,
  ],
  [
    'transform unknown key',
    { transform: { lables: {} } },
    'transform.lables',
    'unknown key (did you mean "labels"?)',
  ],
  // load
  [
    'missing influxdb url',
    { load: { influxdb: { url: undefined } } },
    'load.influxdb.url',
    'is required (an http(s) URL, e.g. http://localhost:8086)',
  ],
  [
    'influxdb url not http',
    { load: { influxdb: { url: 'udp://influx:8089' } } },
    'load.influxdb.url',
    'must be an http(s) URL (scheme http:// or https://)',
  ],
  [
    'api unknown',
    { load: { influxdb: { api: 'v3' } } },
    'load.influxdb.api',
    'must be one of auto, v2, v1',
  ],
  [
    'api v2 without token',
    { load: { influxdb: { api: 'v2', org: 'o' } } },
    'load.influxdb.token',
    'required for the v2 API (or set token_file)',
  ],
  [
    'api v2 without org',
    { load: { influxdb: { api: 'v2', token: 't0ken' } } },
    'load.influxdb.org',
    'required for the v2 API (the organization name)',
  ],
  [
    'missing bucket',
    { load: { influxdb: { bucket: undefined } } },
    'load.influxdb.bucket',
    'is required (a bucket name; for InfluxDB 1.x "database" or "database/retention_policy"), unless load.tiers lists the tiers',
  ],
  [
    'v1 bucket with two slashes',
    { load: { influxdb: { api: 'v1', bucket: 'a/b/c' } } },
    'load.influxdb.bucket',
    '"a/b/c" is not a valid InfluxDB 1.x target: use "database" or "database/retention_policy".',
  ],
  [
    'v1 bucket with empty retention policy',
    { load: { influxdb: { api: 'v1', bucket: 'db/' } } },
    'load.influxdb.bucket',
    '"db/" is not a valid InfluxDB 1.x target: use "database" or "database/retention_policy".',
  ],
  [
    'password without username',
    { load: { influxdb: { password: 'pw' } } },
    'load.influxdb.username',
    'required when password or password_file is set',
  ],
  [
    'Authorization header with token',
    { load: { influxdb: { token: 't0ken', headers: { Authorization: 'Token x' } } } },
    'load.influxdb.headers.Authorization',
    'conflicts with token / username (configure authentication in one place)',
  ],
  [
    'token and token_file',
    { load: { influxdb: { token: 't0ken', token_file: '/dev/null' } } },
    'load.influxdb.token_file',
    'set either token or token_file, not both',
  ],
  [
    'password and password_file',
    { load: { influxdb: { username: 'u', password: 'pw', password_file: '/dev/null' } } },
    'load.influxdb.password_file',
    'set either password or password_file, not both',
  ],
  [
    'batch_size 0',
    { load: { influxdb: { batch_size: 0 } } },
    'load.influxdb.batch_size',
    'must be an integer from 1 to 1000000',
  ],
  [
    'gzip not boolean',
    { load: { influxdb: { gzip: 'maybe' } } },
    'load.influxdb.gzip',
    'must be true or false',
  ],
  [
    'influx timeout zero',
    { load: { influxdb: { timeout: 0 } } },
    'load.influxdb.timeout',
    'must be greater than zero',
  ],
  [
    'influx retry max_delay too small',
    { load: { influxdb: { retry: { max_delay: '500ms' } } } },
    'load.influxdb.retry.max_delay',
    'must be at least initial_delay (default 1s)',
  ],
  [
    'dead_letter_path empty',
    { load: { dead_letter_path: '' } },
    'load.dead_letter_path',
    'must not be empty (a file path)',
  ],
  // pipeline
  [
    'interval_seconds 0',
    { pipeline: { interval_seconds: 0 } },
    'pipeline.interval_seconds',
    'must be an integer from 1 to 2147483',
  ],
  [
    'interval_seconds a duration',
    { pipeline: { interval_seconds: '5m' } },
    'pipeline.interval_seconds',
    'must be an integer from 1 to 2147483',
  ],
  [
    'delay not a duration',
    { pipeline: { delay: 'a minute' } },
    'pipeline.delay',
    `must be ${DURATION}`,
  ],
  [
    'log_level unknown',
    { pipeline: { log_level: 'verbose' } },
    'pipeline.log_level',
    'must be one of trace, debug, info, warn, warning, error, fatal, silent (any case)',
  ],
  [
    'state_dir empty',
    { pipeline: { state_dir: '' } },
    'pipeline.state_dir',
    'must not be empty (a directory path)',
  ],
  ['pipeline a list', { pipeline: [1] }, 'pipeline', 'must be a mapping (key: value pairs)'],
  // top level
  [
    'unknown section with suggestion',
    { pipline: {} },
    'pipline',
    'unknown key (did you mean "pipeline"?)',
  ],
  [
    'schedule that is not cron',
    { pipeline: { schedule: '61 * * * *' } },
    'pipeline.schedule',
    'must be a valid cron expression: 61 is a invalid expression for minute',
  ],
  [
    'server.listen without a port',
    { server: { listen: 'localhost' } },
    'server.listen',
    'must be "host:port" with a port from 1 to 65535, or false',
  ],
  [
    'server.listen port out of range',
    { server: { listen: ':70000' } },
    'server.listen',
    'must be "host:port" with a port from 1 to 65535, or false',
  ],
  [
    'unknown section without suggestion',
    { zzz: 1 },
    'zzz',
    'unknown key (expected one of: extract, transform, load, pipeline, server)',
  ],
];

describe('schema error messages', () => {
  it.each(SINGLE_ISSUE_CASES)('%s', async (_what, patch, path, message) => {
    expect(await issuesOf(yamlWith(patch))).toEqual([{ path, message }]);
  });

  it('no message is zod jargon', async () => {
    for (const [, patch] of SINGLE_ISSUE_CASES) {
      for (const issue of await issuesOf(yamlWith(patch))) {
        expect(issue.message).not.toMatch(/Invalid input|received|Expected|Unrecognized/);
      }
    }
  });

  it('reports a document that is not a mapping', async () => {
    const expected =
      'the configuration must be a YAML mapping with the sections extract, transform, load, pipeline and server';
    expect(await issuesOf('- a\n- b\n')).toEqual([{ path: '', message: expected }]);
    expect(await issuesOf('just text\n')).toEqual([{ path: '', message: expected }]);
  });

  it('reports missing sections by their required keys', async () => {
    expect(await issuesOf('pipeline: {}\n')).toEqual([
      {
        path: 'extract.prometheus_url',
        message: 'is required (an http(s) URL, e.g. http://localhost:9090)',
      },
      {
        path: 'load.influxdb.url',
        message: 'is required (an http(s) URL, e.g. http://localhost:8086)',
      },
      {
        path: 'load.influxdb.bucket',
        message:
          'is required (a bucket name; for InfluxDB 1.x "database" or "database/retention_policy"), unless load.tiers lists the tiers',
      },
    ]);
  });

  it('reports every problem at once, grouped by section', async () => {
    const issues = await issuesOf(
      yamlWith({
        extract: {
          prometheus_url: undefined,
          promethus_url: 'http://x',
          concurrency: 0,
          queries: [{ name: 'a', query: 'up', step: 0 }],
        },
        transform: { valid_metrics: ['/[/'] },
        load: { influxdb: { url: 'nope', api: 'v2', bucket: undefined } },
        pipeline: { interval_seconds: 0, log_level: 'loud' },
      }),
    );
    expect(issues.map((i) => i.path)).toEqual([
      'extract.promethus_url',
      'extract.prometheus_url',
      'extract.concurrency',
      'extract.queries[0].step',
      'transform.valid_metrics[0]',
      'load.influxdb.url',
      'load.influxdb.bucket',
      'load.influxdb.token',
      'load.influxdb.org',
      'pipeline.interval_seconds',
      'pipeline.log_level',
    ]);
  });

  it('accepts what is legal but unusual', async () => {
    const ok = async (patch: Doc) => (await parse(yamlWith(patch))).config;
    // api auto: no token needed (may be 1.x); db/rp with v2 (1.8 and 3.x compatibility).
    expect((await ok({ load: { influxdb: { api: 'auto' } } })).load.influxdb.token).toBeUndefined();
    expect(
      (await ok({ load: { influxdb: { api: 'v2', token: 't', org: 'o', bucket: 'db/rp' } } })).load
        .influxdb.bucket,
    ).toBe('db/rp');
    expect(
      (await ok({ load: { influxdb: { api: 'v1', bucket: 'db/rp' } } })).load.influxdb.api,
    ).toBe('v1');
    // The same label renamed and kept is fine; keep lists the new name.
    expect(
      (await ok({ transform: { labels: { rename: { a: 'b' }, keep: ['b'] } } })).transform.labels
        .keep,
    ).toEqual(['b']);
    // Numbers and booleans in string maps become strings.
    expect(
      (await ok({ extract: { params: { dedup: true, max_source_resolution: 0 } } })).extract.params,
    ).toEqual({
      dedup: 'true',
      max_source_resolution: '0',
    });
    // Digit strings where an integer is expected (as ${VAR:-2} produces) and "true"/"false".
    const fromEnv = await ok({
      extract: { concurrency: '4' },
      load: { influxdb: { gzip: 'true' } },
    });
    expect(fromEnv.extract.concurrency).toBe(4);
    expect(fromEnv.load.influxdb.gzip).toBe(true);
    // A key with no value counts as not set.
    const nulls = await parse(
      'extract:\n  prometheus_url: http://p:9090\n  headers:\n  bearer_token:\ntransform:\nload:\n  influxdb:\n    url: http://i:8086\n    bucket: b\n    token:\n',
    );
    expect(nulls.config.extract.endpoint.auth).toEqual({ type: 'none' });
    expect(nulls.config.load.influxdb.token).toBeUndefined();
  });

  it('warns (without failing) about TLS settings on an http:// URL', async () => {
    const loaded = await parse(
      yamlWith({
        extract: { tls: { insecure_skip_verify: true } },
        load: { influxdb: { tls: { server_name: 'influx' } } },
      }),
    );
    expect(loaded.warnings).toEqual([
      'extract.tls.insecure_skip_verify: has no effect because extract.prometheus_url is an http:// URL',
      'load.influxdb.tls.server_name: has no effect because load.influxdb.url is an http:// URL',
    ]);
    const https = await parse(
      yamlWith({
        extract: { prometheus_url: 'https://prom', tls: { insecure_skip_verify: true } },
      }),
    );
    // On https:// it has an effect, and the warning says which (tls-warnings.test.ts).
    expect(https.warnings).toEqual([
      expect.stringMatching(
        /^extract\.tls\.insecure_skip_verify: the certificate of https:\/\/prom /,
      ),
    ]);
    expect(https.config.extract.endpoint.tls.insecureSkipVerify).toBe(true);
  });
});

describe('knownKeys', () => {
  it('walks sections, nested mappings and list items', () => {
    expect(knownKeys([])).toEqual(['extract', 'transform', 'load', 'pipeline', 'server']);
    expect(knownKeys(['extract', 'retry'])).toEqual(['max_attempts', 'initial_delay', 'max_delay']);
    expect(knownKeys(['extract', 'queries', 3, 'labels'])).toEqual(['drop', 'keep', 'rename']);
    expect(knownKeys(['extract', 'headers'])).toEqual([]);
    expect(knownKeys(['nope'])).toEqual([]);
  });
});
