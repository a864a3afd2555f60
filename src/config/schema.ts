/**
 * What a valid promflux YAML document is: the zod schema for each key (types, ranges, defaults,
 * durations in milliseconds), the checks that span several keys, and the translation of every
 * problem into `key.path: what is expected`. Pure: no file or environment access here.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../core/errors.js';
import { parseDurationMs } from '../core/time.js';
import { isRecord, setOwn } from './plain-object.js';
import { closestMatch } from './suggest.js';
import { formatPath, type KeyPath } from './schema/key-path.js';
import {
  boolean,
  duration,
  httpUrl,
  integer,
  leaf,
  logLevel,
  MAX_TIMER_MS,
  metricMatcher,
  nonEmptyText,
  oneOf,
  text,
} from './schema/leaf.js';
import { headerMap, list, nonEmptyEntries, stringMap, tagMap } from './schema/maps.js';
import { validateDetailed as validateCron } from 'node-cron';

export { formatPath, type KeyPath };
export { MAX_TIMER_MS };

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
