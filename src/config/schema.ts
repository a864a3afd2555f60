/**
 * What a valid promflux YAML document is: the zod schema for each key (types, ranges, defaults,
 * durations in milliseconds), the checks that span several keys, and the translation of every
 * problem into `key.path: what is expected`. Pure: no file or environment access here.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../core/errors.js';
import { normalizeLogLevel, type LogLevel } from '../core/logger.js';
import { formatDuration, parseDurationMs } from '../core/time.js';
import { RESERVED_TAG_KEYS } from '../core/reserved-tag-keys.js';
import { isRecord, setOwn } from './plain-object.js';
import { closestMatch } from './suggest.js';
import { formatPath, type KeyPath } from './schema/key-path.js';
import { validateDetailed as validateCron } from 'node-cron';

export { formatPath, type KeyPath };

// ---------------------------------------------------------------------------------------------
// Leaf values. Each leaf parses `unknown` itself so that every message says what is expected.

type Parsed<T> = { value: T } | { error: string };

/**
 * A value parsed by `parse`; absence is reported as required unless the caller adds a default or
 * `.optional()`. Typing note: the leading `.optional()` makes the key optional in the *input* type
 * (so sections can default to `{}`) and the trailing `z.custom` keeps it required in the output.
 * Call sites name T: inferred from the returned object literals, it would pick up `undefined`.
 */
function leaf<T>(expected: string, parse: (input: unknown) => Parsed<T>) {
  return z
    .unknown()
    .optional()
    .transform((input, ctx): T => {
      const result = input === undefined ? { error: `is required (${expected})` } : parse(input);
      if ('error' in result) {
        ctx.issues.push({ code: 'custom', message: result.error, input });
        return z.NEVER;
      }
      return result.value;
    })
    .pipe(z.custom<Awaited<T>>());
}

function mustBe(expected: string, input: unknown): { error: string } {
  const hint =
    typeof input === 'number' || typeof input === 'boolean' ? ' (put the value in quotes)' : '';
  return { error: `must be ${expected}${hint}` };
}

function text(expected = 'a string') {
  return leaf<string>(expected, (input) =>
    typeof input === 'string' ? { value: input } : mustBe(expected, input),
  );
}

function nonEmptyText(expected: string) {
  return leaf<string>(expected, (input) => {
    if (typeof input !== 'string') return mustBe(expected, input);
    if (input.trim() === '') return { error: `must not be empty (${expected})` };
    return { value: input };
  });
}

function integer(min: number, max?: number) {
  const expected = max === undefined ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  return leaf<number>(expected, (input) => {
    // Digits in a string are accepted so that `${VAR:-2}` works where a number is expected.
    const n =
      typeof input === 'number'
        ? input
        : typeof input === 'string' && /^\s*-?\d+\s*$/.test(input)
          ? Number(input)
          : NaN;
    if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) {
      return { error: `must be ${expected}` };
    }
    return { value: n };
  });
}

function boolean() {
  return leaf<boolean>('true or false', (input) => {
    if (typeof input === 'boolean') return { value: input };
    if (input === 'true' || input === 'false') return { value: input === 'true' };
    return { error: 'must be true or false' };
  });
}

const DURATION_EXAMPLES = 'such as 500ms, 15s, 5m or 1m30s, or a number of seconds';

/**
 * The longest wait a Node.js timer supports (2^31 - 1 ms, about 24.8 days): a longer one fires
 * after 1 ms, so a `timeout: 25d` would fail every request at once. Durations that end up in a
 * timer (timeouts, retry delays, shutdown_grace, start_jitter) are bounded by it; durations that
 * only measure a range of time (delay, step, initial_lookback, max_catchup, max_future_skew) are not.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const TIMER_LIMIT = `${formatDuration(MAX_TIMER_MS)} (${MAX_TIMER_MS} ms, the longest wait a Node.js timer supports)`;

function duration(opts: { positive?: boolean; wholeMs?: boolean; timer?: boolean } = {}) {
  const expected = `${opts.positive ? 'a positive' : 'a'} duration ${DURATION_EXAMPLES}`;
  return leaf<number>(expected, (input) => {
    if (typeof input !== 'string' && typeof input !== 'number')
      return { error: `must be ${expected}` };
    const ms = parseDurationMs(input);
    if (ms === undefined) return { error: `must be ${expected}` };
    if (opts.positive && ms <= 0) return { error: 'must be greater than zero' };
    if (opts.timer && ms > MAX_TIMER_MS) return { error: `must be at most ${TIMER_LIMIT}` };
    if (opts.wholeMs && (typeof input === 'number' || /^\s*[\d.]+\s*$/.test(input))) {
      const exact = Number(input) * 1000;
      if (Math.abs(exact - Math.round(exact)) > 1e-6) {
        return { error: 'must be a whole number of milliseconds' };
      }
    }
    return { value: ms };
  });
}

function httpUrl(example: string) {
  const expected = `an http(s) URL, e.g. ${example}`;
  return leaf<string>(expected, (input) => {
    if (typeof input !== 'string') return { error: 'must be an http(s) URL' };
    let url: URL;
    try {
      url = new URL(input.trim());
    } catch {
      return { error: `must be an http(s) URL, e.g. ${example}` };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { error: 'must be an http(s) URL (scheme http:// or https://)' };
    }
    if (url.search || url.hash) {
      return { error: 'must be an http(s) URL without a query string or fragment' };
    }
    return { value: input.trim() };
  });
}

function oneOf<const T extends string>(values: readonly T[]) {
  const expected = `one of ${values.join(', ')}`;
  return leaf<T>(expected, (input) =>
    values.includes(input as T) ? { value: input as T } : { error: `must be ${expected}` },
  );
}

const LOG_LEVELS = 'trace, debug, info, warn, warning, error, fatal, silent';

function logLevel() {
  return leaf<LogLevel>(`one of ${LOG_LEVELS}`, (input) => {
    const level = typeof input === 'string' ? normalizeLogLevel(input) : undefined;
    return level ? { value: level } : { error: `must be one of ${LOG_LEVELS} (any case)` };
  });
}

/** `up`, or `/regex/`: the regex must compile. */
function metricMatcher() {
  return leaf<string>('a metric name or /regex/', (input) => {
    if (typeof input !== 'string') return mustBe('a metric name or /regex/', input);
    if (input.trim() === '') return { error: 'must not be empty (a metric name or /regex/)' };
    if (input.length >= 2 && input.startsWith('/') && input.endsWith('/')) {
      try {
        // Compiled the way the transform stage compiles it: anchored, no flags.
        new RegExp(`^(?:${input.slice(1, -1)})$`);
      } catch (err) {
        const reason = err instanceof Error ? err.message.split(': ').pop() : String(err);
        return { error: `is not a valid regular expression (${reason})` };
      }
    }
    return { value: input };
  });
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * A mapping of names to strings (headers, params, tags, renames). Numbers and booleans become
 * strings, so `dedup: true` needs no quotes. Absent means empty.
 */
function stringMap(
  what: string,
  checks: {
    key?: (k: string) => string | undefined;
    value?: (v: string) => string | undefined;
  } = {},
) {
  return z
    .unknown()
    .optional()
    .transform((input, ctx): Record<string, string> => {
      const out: Record<string, string> = {};
      if (input === undefined) return out;
      if (!isRecord(input)) {
        ctx.issues.push({ code: 'custom', message: `must be a mapping of ${what}`, input });
        return z.NEVER;
      }
      for (const [key, raw] of Object.entries(input)) {
        const keyProblem = key === '__proto__' ? 'is not allowed as a name' : checks.key?.(key);
        if (keyProblem) {
          ctx.issues.push({ code: 'custom', message: keyProblem, path: [key], input: key });
          continue;
        }
        if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
          ctx.issues.push({
            code: 'custom',
            message: 'must be a string, number or true/false',
            path: [key],
            input: raw,
          });
          continue;
        }
        const value = String(raw);
        const valueProblem = checks.value?.(value);
        if (valueProblem) {
          ctx.issues.push({ code: 'custom', message: valueProblem, path: [key], input: raw });
          continue;
        }
        out[key] = value;
      }
      return out;
    })
    .pipe(z.custom<Record<string, string>>());
}

function headerMap() {
  return stringMap('HTTP header names to values', {
    key: (k) =>
      HEADER_NAME.test(k)
        ? undefined
        : "is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~)",
    value: (v) =>
      HEADER_VALUE.test(v)
        ? undefined
        : 'must be a valid HTTP header value (printable characters, no line breaks)',
  });
}

function nonEmptyEntries(what: string, key?: (k: string) => string | undefined) {
  return stringMap(what, {
    key: (k) => (k.trim() === '' ? 'names must not be empty' : key?.(k)),
    value: (v) => (v.trim() === '' ? 'must not be empty' : undefined),
  });
}

/** Tags set as written (static_tags, a query's tags), unlike labels: InfluxDB refuses reserved keys. */
function tagMap() {
  const reserved = [...RESERVED_TAG_KEYS].join(', ');
  return nonEmptyEntries('tag names to values', (k) =>
    RESERVED_TAG_KEYS.has(k)
      ? `is a tag key InfluxDB reserves (${reserved}); choose another name`
      : undefined,
  );
}

function list<T extends z.ZodType>(item: T, expected: string) {
  return z.array(item, { error: `must be a list of ${expected}` }).default(() => []);
}

// ---------------------------------------------------------------------------------------------
// Sections.

/** Retry defaults differ per stage: Prometheus answers fast, InfluxDB may need longer to recover. */
export const RETRY_DEFAULTS = {
  extract: { max_attempts: 5, initial_delay: '500ms', max_delay: '30s' },
  influxdb: { max_attempts: 5, initial_delay: '1s', max_delay: '60s' },
} as const;

function retry(defaults: (typeof RETRY_DEFAULTS)[keyof typeof RETRY_DEFAULTS]) {
  return z
    .strictObject({
      max_attempts: integer(1, 100).prefault(defaults.max_attempts),
      initial_delay: duration({ timer: true }).prefault(defaults.initial_delay),
      max_delay: duration({ positive: true, timer: true }).prefault(defaults.max_delay),
    })
    .prefault({});
}

function tls() {
  return z
    .strictObject({
      ca_file: nonEmptyText('a file path').optional(),
      cert_file: nonEmptyText('a file path').optional(),
      key_file: nonEmptyText('a file path').optional(),
      insecure_skip_verify: boolean().prefault(false),
      server_name: nonEmptyText('a host name').optional(),
    })
    .prefault({});
}

const labelRules = z.strictObject({
  drop: list(nonEmptyText('a label name'), 'label names'),
  keep: list(nonEmptyText('a label name'), 'label names'),
  rename: nonEmptyEntries('label names to new names'),
});

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
});

/**
 * Samples (series × points) per range request by default: bounds the decoded columns (~37 bytes a
 * sample, one chunk at a time) and the response Buffers waiting for the collector. Larger chunks
 * cost Prometheus less CPU per sample, which on a shared machine is CPU the sink gets (measured
 * with `npm run bench`: peak RSS stays flat at 250k, grows with the run at 500k).
 */
export const DEFAULT_MAX_SAMPLES_PER_REQUEST = 250_000;

const extract = z
  .strictObject({
    prometheus_url: httpUrl('http://localhost:9090'),
    timeout: duration({ positive: true, timer: true }).prefault('30s'),
    concurrency: integer(1, 32).prefault(2),
    max_samples_per_request: integer(1000).prefault(DEFAULT_MAX_SAMPLES_PER_REQUEST),
    max_points_per_series: integer(1, 11_000).prefault(11_000),
    max_series_per_response: integer(1).optional(),
    headers: headerMap(),
    basic_auth: z
      .strictObject({
        username: nonEmptyText('a user name'),
        password: text().optional(),
        password_file: nonEmptyText('a file path').optional(),
      })
      .optional(),
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

const transform = z
  .strictObject({
    valid_metrics: list(metricMatcher(), 'metric names or /regex/ strings'),
    measurement: nonEmptyText('a measurement name').prefault('health_metrics'),
    field: nonEmptyText('a field name').prefault('value'),
    labels: labelRules.prefault({}),
    static_tags: tagMap(),
    max_future_skew: duration().prefault('10m'),
  })
  .prefault({});

export const INFLUX_APIS = ['auto', 'v2', 'v1'] as const;

const influxdb = z
  .strictObject({
    url: httpUrl('http://localhost:8086'),
    api: oneOf(INFLUX_APIS).prefault('auto'),
    token: text().optional(),
    token_file: nonEmptyText('a file path').optional(),
    org: text('an organization name').optional(),
    bucket: nonEmptyText(
      'a bucket name; for InfluxDB 1.x "database" or "database/retention_policy"',
    ),
    username: text('a user name').optional(),
    password: text().optional(),
    password_file: nonEmptyText('a file path').optional(),
    timeout: duration({ positive: true, timer: true }).prefault('30s'),
    batch_size: integer(1, 1_000_000).prefault(5000),
    gzip: boolean().prefault(false),
    headers: headerMap(),
    tls: tls(),
    retry: retry(RETRY_DEFAULTS.influxdb),
  })
  .prefault({});

const load = z
  .strictObject({
    influxdb,
    dead_letter_path: nonEmptyText('a file path').optional(),
    max_points_per_second: integer(1).optional(),
  })
  .prefault({});

const pipeline = z
  .strictObject({
    // `run` waits for the next cycle in one timer.
    interval_seconds: integer(1, Math.floor(MAX_TIMER_MS / 1000)).prefault(300),
    delay: duration().prefault('60s'),
    log_level: logLevel().prefault('INFO'),
    state_dir: nonEmptyText('a directory path').prefault('./promflux-state'),
    initial_lookback: duration({ positive: true }).optional(),
    max_catchup: duration({ positive: true }).prefault('24h'),
    shutdown_grace: duration({ timer: true }).prefault('30s'),
    schedule: leaf<string>(
      'a cron expression (5 fields, or 6 with seconds first), e.g. "*/5 * * * *"',
      (input) => {
        if (typeof input !== 'string') return { error: 'must be a cron expression string' };
        const check = validateCron(input);
        if (!check.valid) {
          const why = check.errors.map((e) => e.message).join('; ');
          return { error: `must be a valid cron expression: ${why || 'unrecognised'}` };
        }
        return { value: input.trim() };
      },
    ).optional(),
    start_jitter: duration({ timer: true }).prefault('0s'),
    shard: leaf<{ index: number; count: number }>(
      '"index/count" or {index, count} with 0 <= index < count, e.g. "0/4" (also settable as $PROMFLUX_SHARD)',
      (input) => {
        const parts = shardParts(input);
        const index = Number(parts?.[0]);
        const count = Number(parts?.[1]);
        if (
          !parts ||
          !Number.isSafeInteger(index) ||
          !(count >= 1) ||
          !(index >= 0 && index < count)
        ) {
          return {
            error:
              'must be "index/count" or {index, count} with 0 <= index < count, e.g. "0/4" (from pipeline.shard or $PROMFLUX_SHARD)',
          };
        }
        return { value: { index, count } };
      },
    ).optional(),
  })
  .prefault({});

/** `"2/4"` or `{index: 2, count: 4}` → the two numbers as given (strings or numbers), else undefined. */
function shardParts(input: unknown): [unknown, unknown] | undefined {
  if (typeof input === 'string') {
    const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(input);
    return match ? [match[1], match[2]] : undefined;
  }
  if (!isRecord(input)) return undefined;
  const { index, count, ...rest } = input;
  if (Object.keys(rest).length > 0 || typeof index !== 'number' || typeof count !== 'number') {
    return undefined;
  }
  return [index, count];
}

const LISTEN = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/;

const server = z
  .strictObject({
    listen: leaf<string | false>(
      '"host:port" (e.g. "127.0.0.1:9469", ":9469" for every interface) or false',
      (input) => {
        if (input === false) return { value: false };
        if (typeof input !== 'string') return { error: 'must be "host:port" or false' };
        const match = LISTEN.exec(input);
        const port = match ? Number(match[1]) : NaN;
        if (!(port >= 1 && port <= 65535)) {
          return { error: 'must be "host:port" with a port from 1 to 65535, or false' };
        }
        return { value: input };
      },
    ).prefault('127.0.0.1:9469'),
  })
  .prefault({});

/** The whole document. Unknown keys anywhere are errors. */
export const configSchema = z.strictObject({ extract, transform, load, pipeline, server });

/** The validated document: snake_case keys, defaults filled, durations in milliseconds. */
export type ConfigDocument = z.output<typeof configSchema>;

// ---------------------------------------------------------------------------------------------
// Zod issues → our messages.

const ROOT_EXPECTED =
  'the configuration must be a YAML mapping with the sections extract, transform, load, pipeline and server';

/** Messages for the few issues zod raises itself (containers of the wrong type). */
const fallbackMessage: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return `is required (${issue.expected})`;
    if (issue.expected === 'object' || issue.expected === 'record')
      return 'must be a mapping (key: value pairs)';
    if (issue.expected === 'array') return 'must be a list';
    return `must be ${issue.expected}`;
  }
  if (issue.code === 'too_small') return `must have at least ${String(issue.minimum)} entries`;
  if (issue.code === 'too_big') return `must have at most ${String(issue.maximum)} entries`;
  if (issue.code === 'invalid_value')
    return `must be one of ${issue.values.map(String).join(', ')}`;
  return 'has an unexpected value for this key';
};

interface DefLike {
  type: string;
  shape?: Record<string, { _zod: { def: DefLike } }>;
  innerType?: { _zod: { def: DefLike } };
  in?: { _zod: { def: DefLike } };
  element?: { _zod: { def: DefLike } };
}

/** The keys the schema allows in the mapping at `path` (list indexes step into the item type). */
export function knownKeys(path: KeyPath): string[] {
  let def = configSchema._zod.def as unknown as DefLike;
  const unwrap = (): void => {
    for (;;) {
      if (def.innerType) def = def.innerType._zod.def;
      else if (def.type === 'pipe' && def.in) def = def.in._zod.def;
      else return;
    }
  };
  for (const segment of path) {
    unwrap();
    if (typeof segment === 'number' && def.element) def = def.element._zod.def;
    else if (typeof segment === 'string' && def.shape?.[segment]) def = def.shape[segment]._zod.def;
    else return [];
  }
  unwrap();
  return def.shape ? Object.keys(def.shape) : [];
}

function unknownKeyMessage(key: string, candidates: readonly string[]): string {
  const suggestion = closestMatch(key, candidates);
  if (suggestion) return `unknown key (did you mean "${suggestion}"?)`;
  return candidates.length
    ? `unknown key (expected one of: ${candidates.join(', ')})`
    : 'unknown key';
}

function toConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const candidates = knownKeys(issue.path);
    return issue.keys.map((key) => ({
      path: formatPath([...issue.path, key]),
      message: unknownKeyMessage(key, candidates),
    }));
  }
  if (issue.path.length === 0 && issue.code === 'invalid_type') {
    return [{ path: '', message: ROOT_EXPECTED }];
  }
  return [{ path: formatPath(issue.path), message: issue.message }];
}

/** Replaces `null` mapping values (a key written with nothing after the colon) by absence. */
export function dropNullValues(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(dropNullValues);
  if (!isRecord(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (value === null) continue;
    setOwn(out, key, dropNullValues(value));
  }
  return out;
}

export interface SchemaResult {
  /** The validated document, when there was no issue. */
  data?: ConfigDocument;
  /** Unknown keys, apart: they explain any other message about the same key. */
  unknownKeys: ConfigIssue[];
  /** Every other problem, one key at a time (not only the first). */
  issues: ConfigIssue[];
}

/** Validates the document against {@link configSchema}. */
export function validateDocument(doc: unknown): SchemaResult {
  const result = configSchema.safeParse(doc, { error: fallbackMessage });
  if (result.success) return { data: result.data, unknownKeys: [], issues: [] };
  const unknownKeys: ConfigIssue[] = [];
  const issues: ConfigIssue[] = [];
  for (const issue of result.error.issues) {
    (issue.code === 'unrecognized_keys' ? unknownKeys : issues).push(...toConfigIssues(issue));
  }
  return { unknownKeys, issues };
}

// ---------------------------------------------------------------------------------------------
// Checks across keys. They read the raw document and only speak when the keys involved have the
// right types (type problems are the schema's to report), so they run even when the schema
// failed elsewhere and every problem surfaces in one pass.

export interface Findings {
  issues: ConfigIssue[];
  /** `path: message` lines for settings that are legal but probably not what was meant. */
  warnings: string[];
}

function child(node: unknown, key: string): unknown {
  return isRecord(node) ? node[key] : undefined;
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** Cross-key rules of the document; see {@link Findings}. */
export function crossFieldFindings(doc: unknown): Findings {
  const found: Findings = { issues: [], warnings: [] };
  const issue = (path: KeyPath, message: string): void => {
    found.issues.push({ path: formatPath(path), message });
  };

  const ex = child(doc, 'extract');
  const hasBasicAuth = isRecord(child(ex, 'basic_auth'));
  for (const key of ['bearer_token', 'bearer_token_file']) {
    if (hasBasicAuth && isSet(child(ex, key))) {
      issue(
        ['extract', key],
        'cannot be combined with basic_auth (choose one way to authenticate)',
      );
    }
  }
  const exAuth =
    hasBasicAuth || isSet(child(ex, 'bearer_token')) || isSet(child(ex, 'bearer_token_file'));
  authorizationHeaderIssues(
    child(ex, 'headers'),
    ['extract', 'headers'],
    exAuth,
    'basic_auth / bearer_token',
    issue,
  );
  tlsFindings(
    child(ex, 'tls'),
    ['extract', 'tls'],
    child(ex, 'prometheus_url'),
    'extract.prometheus_url',
    found,
  );
  retryIssues(child(ex, 'retry'), ['extract', 'retry'], RETRY_DEFAULTS.extract, issue);

  const queries = child(ex, 'queries');
  if (Array.isArray(queries)) {
    const firstIndex = new Map<string, number>();
    queries.forEach((q, i) => {
      const name = child(q, 'name');
      if (typeof name === 'string') {
        const first = firstIndex.get(name);
        if (first === undefined) firstIndex.set(name, i);
        else
          issue(
            ['extract', 'queries', i, 'name'],
            `duplicate query name "${name}" (also used by queries[${first}]); names must be unique`,
          );
      }
      labelRuleIssues(child(q, 'labels'), ['extract', 'queries', i, 'labels'], issue);
    });
  }

  labelRuleIssues(child(child(doc, 'transform'), 'labels'), ['transform', 'labels'], issue);

  const influx = child(child(doc, 'load'), 'influxdb');
  const at = (key: string): KeyPath => ['load', 'influxdb', key];
  const api = child(influx, 'api');
  const hasToken = isSet(child(influx, 'token')) || isSet(child(influx, 'token_file'));
  if (api === 'v2' && !hasToken) issue(at('token'), 'required for the v2 API (or set token_file)');
  if (api === 'v2' && !isSet(child(influx, 'org')))
    issue(at('org'), 'required for the v2 API (the organization name)');
  const bucket = child(influx, 'bucket');
  if (api === 'v1' && typeof bucket === 'string' && bucket.trim() !== '') {
    const parts = bucket.split('/');
    if (parts.length > 2 || parts.some((p) => p.trim() === '')) {
      issue(at('bucket'), 'must be "database" or "database/retention_policy" for the v1 API');
    }
  }
  const hasPassword = isSet(child(influx, 'password')) || isSet(child(influx, 'password_file'));
  if (hasPassword && !isSet(child(influx, 'username'))) {
    issue(at('username'), 'required when password or password_file is set');
  }
  const influxAuth = hasToken || hasPassword || isSet(child(influx, 'username'));
  authorizationHeaderIssues(
    child(influx, 'headers'),
    at('headers'),
    influxAuth,
    'token / username',
    issue,
  );
  tlsFindings(child(influx, 'tls'), at('tls'), child(influx, 'url'), 'load.influxdb.url', found);
  retryIssues(child(influx, 'retry'), at('retry'), RETRY_DEFAULTS.influxdb, issue);
  return found;
}

type IssueSink = (path: KeyPath, message: string) => void;

function authorizationHeaderIssues(
  headers: unknown,
  path: KeyPath,
  authSet: boolean,
  authKeys: string,
  issue: IssueSink,
): void {
  if (!authSet || !isRecord(headers)) return;
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'authorization') {
      issue([...path, name], `conflicts with ${authKeys} (configure authentication in one place)`);
    }
  }
}

function tlsFindings(
  tlsNode: unknown,
  path: KeyPath,
  url: unknown,
  urlKey: string,
  found: Findings,
): void {
  if (!isRecord(tlsNode)) return;
  const cert = isSet(tlsNode.cert_file);
  const key = isSet(tlsNode.key_file);
  if (cert && !key)
    found.issues.push({
      path: formatPath([...path, 'key_file']),
      message: 'required when cert_file is set',
    });
  if (key && !cert)
    found.issues.push({
      path: formatPath([...path, 'cert_file']),
      message: 'required when key_file is set',
    });
  if (typeof url !== 'string' || !/^\s*http:\/\//i.test(url)) return;
  for (const [name, value] of Object.entries(tlsNode)) {
    if (isSet(value) && value !== false && value !== 'false') {
      found.warnings.push(
        `${formatPath([...path, name])}: has no effect because ${urlKey} is an http:// URL`,
      );
    }
  }
}

function retryIssues(
  retryNode: unknown,
  path: KeyPath,
  defaults: (typeof RETRY_DEFAULTS)[keyof typeof RETRY_DEFAULTS],
  issue: IssueSink,
): void {
  if (!isRecord(retryNode)) return;
  const durationOf = (value: unknown): number | undefined =>
    typeof value === 'string' || typeof value === 'number' ? parseDurationMs(value) : undefined;
  const initial = durationOf(retryNode.initial_delay ?? defaults.initial_delay);
  const max = durationOf(retryNode.max_delay ?? defaults.max_delay);
  if (initial === undefined || max === undefined || max >= initial) return;
  if (retryNode.max_delay !== undefined) {
    const which =
      retryNode.initial_delay === undefined ? ` (default ${defaults.initial_delay})` : '';
    issue([...path, 'max_delay'], `must be at least initial_delay${which}`);
  } else
    issue([...path, 'initial_delay'], `must not exceed max_delay (default ${defaults.max_delay})`);
}

function labelRuleIssues(rules: unknown, path: KeyPath, issue: IssueSink): void {
  if (!isRecord(rules)) return;
  const { keep, drop, rename } = rules;
  if (Array.isArray(keep) && Array.isArray(drop)) {
    keep.forEach((label, i) => {
      if (typeof label === 'string' && drop.includes(label)) {
        issue(
          [...path, 'keep', i],
          `"${label}" is also listed in drop (a label cannot be both kept and dropped)`,
        );
      }
    });
  }
  if (isRecord(rename)) {
    const firstSource = new Map<string, string>();
    for (const [from, to] of Object.entries(rename)) {
      if (typeof to !== 'string') continue;
      const earlier = firstSource.get(to);
      if (earlier === undefined) firstSource.set(to, from);
      else
        issue(
          [...path, 'rename', from],
          `renames to "${to}" like rename.${earlier} does (each new name must be unique)`,
        );
    }
  }
}
