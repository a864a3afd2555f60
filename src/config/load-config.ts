/**
 * Turns a YAML file and `PROMFLUX__*` variables into a {@link PromfluxConfig}:
 *
 *   read file → parse YAML → interpolate ${ENV} → PROMFLUX__* → validate keys (schema) ─┐
 *   ({} when there is no file at the default      overrides  → cross-key checks ───────┼→ all issues
 *    path and PROMFLUX__* variables are set)                → secret files, TLS files ┘   at once, or
 *                                                                                          the config
 *
 * Precedence: PROMFLUX__* variable > file > schema default. Every step runs even when another
 * failed, so one `check-config` shows every problem; issues about keys a variable set name it.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { YAMLException } from 'js-yaml';
import { MAX_CONFIG_BYTES, parseBoundedYaml, YamlTooLargeError } from './bounded-yaml.js';
import { ConfigError, type ConfigIssue } from '../core/errors.js';
import type { HttpEndpointOptions, TlsOptions } from '../core/http.js';
import { Redactor } from '../core/redact.js';
import type { RetryPolicy } from '../core/retry.js';
import { defaultQueries } from './default-queries.js';
import {
  applyEnvOverrides,
  attributeToVariables,
  ENV_PREFIX,
  hasEnvOverrides,
} from './env-overrides.js';
import { interpolateEnv } from './interpolate.js';
import { isRecord } from './plain-object.js';
import {
  crossFieldFindings,
  dropNullValues,
  validateDocument,
  type ConfigDocument,
} from './schema.js';
import {
  describeFsError,
  documentCredentials,
  resolveSecrets,
  TLS_FILE_KEYS,
  unreadableFileIssues,
} from './secrets.js';
import { primaryBucket, resolveTiers } from './tiers.js';
import { insecureTlsWarnings } from './tls-warnings.js';
import type { LabelRules, PromfluxConfig, QueryConfig, ServerAuthConfig } from './types.js';

/** The default config file, relative to the working directory. */
export const DEFAULT_CONFIG_PATH = 'config/promflux.yaml';

/** A loaded configuration and what the operator should hear about it. */
export interface LoadedConfig {
  config: PromfluxConfig;
  /** Where it came from: the file path, or {@link ENV_ONLY_SOURCE}. */
  source: string;
  /**
   * `key.path: message` lines for legal settings that are probably mistakes (a world-readable
   * token file, TLS options on an http:// URL). Log them at startup; they never contain secrets.
   */
  warnings: string[];
  /**
   * Removes every secret of this configuration (tokens, passwords, header values, URL
   * passwords), in every form promflux sends it, from text that leaves the process.
   */
  redactor: Redactor;
}

export interface ParseConfigOptions {
  /** Environment for `${VAR}` references and `PROMFLUX__*` overrides (default: `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Directory that relative paths (secret files, TLS files, state_dir) are resolved against. */
  baseDir: string;
  /** Name of the document in error messages, usually the file path. */
  source?: string;
}

/** The config file to use: `--config`, else `$PROMFLUX_CONFIG`, else `config/promflux.yaml`. */
export function resolveConfigPath(cliPath?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (cliPath !== undefined && cliPath.trim() !== '') return cliPath;
  const fromEnv = env.PROMFLUX_CONFIG;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  return DEFAULT_CONFIG_PATH;
}

/**
 * Whether the operator named the config file (`--config` or `$PROMFLUX_CONFIG`): such a file must
 * exist, while the default one may be replaced by `PROMFLUX__*` variables alone.
 */
export function configPathNamed(cliPath?: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(cliPath?.trim()) || Boolean(env.PROMFLUX_CONFIG?.trim());
}

export interface LoadConfigFileOptions {
  /**
   * Whether a missing file may be replaced by the `PROMFLUX__*` variables alone (when any is
   * set). Default: only for the default path, when `$PROMFLUX_CONFIG` is not set either: a file
   * the operator named must exist.
   */
  fileOptional?: boolean;
}

/** Names the configuration in errors when it comes from the environment alone. */
export const ENV_ONLY_SOURCE = `${ENV_PREFIX}* environment variables (no config file)`;

/**
 * Loads and validates a config file, with the `PROMFLUX__*` overrides of `env`; relative paths
 * are resolved against the file's directory. Without a file at the default path, the variables
 * alone configure promflux (relative paths then resolve against the working directory).
 * Throws {@link ConfigError} listing every problem (a missing file is one issue).
 */
export async function loadConfigFile(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
  opts: LoadConfigFileOptions = {},
): Promise<LoadedConfig> {
  const file = resolve(path);
  let text: string;
  try {
    // Checked before reading: a huge file would be held in memory several times over.
    const { size } = await stat(file);
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigError(
        [
          {
            path: '',
            message: `config file "${file}" is ${size} bytes; the limit is ${MAX_CONFIG_BYTES} bytes (1 MiB)`,
          },
        ],
        path,
      );
    }
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    const fileOptional =
      opts.fileOptional ?? (path === DEFAULT_CONFIG_PATH && !configPathNamed(undefined, env));
    if (missing && fileOptional && hasEnvOverrides(env)) {
      return validate({}, { env, baseDir: process.cwd(), source: ENV_ONLY_SOURCE }, true);
    }
    const hint = !missing
      ? ''
      : fileOptional
        ? ` (pass --config <file>, set PROMFLUX_CONFIG, or configure with ${ENV_PREFIX}* variables alone)`
        : ' (pass --config <file> or set PROMFLUX_CONFIG)';
    throw new ConfigError(
      [{ path: '', message: `cannot read config file "${file}": ${describeFsError(err)}${hint}` }],
      path,
    );
  }
  return parseConfig(text, { env, baseDir: dirname(file), source: path });
}

/**
 * `$PROMFLUX_SHARD` stands in for `pipeline.shard` when neither the file nor
 * `PROMFLUX__PIPELINE__SHARD` sets it.
 */
function withShardFromEnv(doc: unknown, env: NodeJS.ProcessEnv): unknown {
  const shard = env.PROMFLUX_SHARD;
  if (!shard || !isRecord(doc)) return doc;
  const pipeline = doc.pipeline ?? {};
  if (typeof pipeline !== 'object' || pipeline === null || 'shard' in pipeline) return doc;
  return { ...doc, pipeline: { ...pipeline, shard } };
}

/** Validates YAML text as a promflux config. Throws {@link ConfigError} listing every problem. */
export async function parseConfig(
  yamlText: string,
  opts: ParseConfigOptions,
): Promise<LoadedConfig> {
  return validate(parseDocument(yamlText, opts.source), opts, false);
}

/**
 * Interpolates, overrides, validates and converts a parsed document. `envOnly`: there is no
 * file, so issues about unset keys name the variable that would set them.
 */
async function validate(
  parsed: unknown,
  opts: ParseConfigOptions,
  envOnly: boolean,
): Promise<LoadedConfig> {
  const env = opts.env ?? process.env;
  const interpolated = interpolateEnv(parsed, env);
  const overridden = applyEnvOverrides(interpolated.value, env);
  const doc = withShardFromEnv(dropNullValues(overridden.value), env);

  const schema = validateDocument(doc);
  const cross = crossFieldFindings(doc);
  const [secrets, fileIssues] = await Promise.all([
    resolveSecrets(doc, opts.baseDir),
    unreadableFileIssues(doc, opts.baseDir, TLS_FILE_KEYS),
  ]);

  const redactor = Redactor.of(documentCredentials(doc, secrets.values));
  const redact = (text: string): string => redactor.redact(text);
  const keyIssues = bySection(
    firstPerPath([
      ...schema.unknownKeys,
      ...interpolated.issues,
      ...schema.issues,
      ...cross.issues,
      ...secrets.issues,
      ...fileIssues,
    ]),
  );
  const issues = [
    ...overridden.issues,
    ...attributeToVariables(keyIssues, overridden.applied, { hintUnset: envOnly }),
  ].map((i) => ({ path: i.path, message: redact(i.message) }));
  if (issues.length > 0 || !schema.data) throw new ConfigError(issues, opts.source);

  const config = toPromfluxConfig(schema.data, secrets.values, opts.baseDir);
  return {
    config,
    source: opts.source ?? 'config',
    warnings: [...cross.warnings, ...secrets.warnings, ...insecureTlsWarnings(config)].map(redact),
    redactor,
  };
}

function parseDocument(yamlText: string, source: string | undefined): unknown {
  const fail = (message: string): never => {
    throw new ConfigError([{ path: '', message }], source);
  };
  if (yamlText.split('\n').every((line) => /^\s*(#.*)?$/.test(line))) {
    return fail(
      'the file is empty: expected a YAML mapping with extract, transform, load and pipeline',
    );
  }
  try {
    return parseBoundedYaml(yamlText);
  } catch (err) {
    if (err instanceof YamlTooLargeError) return fail(err.message);
    // Only the reason and position: the snippet js-yaml prints could show a secret.
    if (err instanceof YAMLException) {
      const open = err.mark && unterminatedQuoteLine(yamlText, err.mark.line);
      if (open !== undefined) {
        return fail(`YAML syntax error at line ${open + 1}: a quoted value is not closed`);
      }
      const at = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
      return fail(`YAML syntax error${at}: ${err.reason}`);
    }
    return fail('YAML could not be parsed');
  }
}

/**
 * The line (0-based) before `errorLine` where a quoted value opens and does not close on it.
 * js-yaml reads such a value on into the following lines and reports where it gave up there.
 */
export function unterminatedQuoteLine(text: string, errorLine: number): number | undefined {
  const lines = text.split('\n');
  for (let i = Math.min(errorLine, lines.length) - 1; i >= 0; i--) {
    const value = /^\s*(?:-\s+)?(?:[^\s#"'][^#"']*?:\s+)?(["'])(.*)$/.exec(lines[i]!);
    if (!value) continue;
    const [, quote, rest] = value;
    const closed =
      quote === '"' ? /(^|[^\\])(\\\\)*"/.test(rest!) : /'(?!')/.test(rest!.replace(/''/g, ''));
    return closed ? undefined : i;
  }
  return undefined;
}

/** Several checks may fault one key; the first message (the most basic one) is enough. */
function firstPerPath(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => !seen.has(i.path) && seen.add(i.path));
}

const SECTIONS = ['', 'extract', 'transform', 'load', 'pipeline', 'server'];

/** Groups issues by section, in pipeline order, keeping their order within a section. */
function bySection(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const rank = (issue: ConfigIssue): number => {
    const index = SECTIONS.indexOf(issue.path.split(/[.[]/, 1)[0]!);
    return index === -1 ? SECTIONS.length : index;
  };
  return [...issues].sort((a, b) => rank(a) - rank(b));
}

// ---------------------------------------------------------------------------------------------
// Validated document → PromfluxConfig.

function toPromfluxConfig(
  doc: ConfigDocument,
  secrets: ReadonlyMap<string, string>,
  baseDir: string,
): PromfluxConfig {
  const abs = (p: string): string => resolve(baseDir, p);
  const { extract, transform, load, pipeline, server } = doc;
  const influx = load.influxdb;
  const stateDir = abs(pipeline.state_dir);
  const basicAuth = extract.basic_auth;
  const bearerToken = secrets.get('extract.bearer_token');
  const tiers = resolveTiers(load.tiers, influx.bucket);
  const tierNames = tiers.map((t) => t.name);

  return {
    extract: {
      endpoint: {
        url: extract.prometheus_url,
        timeoutMs: extract.timeout,
        headers: extract.headers,
        auth: basicAuth
          ? {
              type: 'basic',
              username: basicAuth.username,
              password: secrets.get('extract.basic_auth.password') ?? '',
            }
          : bearerToken !== undefined
            ? { type: 'bearer', token: bearerToken }
            : { type: 'none' },
        tls: tlsOptions(extract.tls, abs),
      },
      params: extract.params,
      concurrency: extract.concurrency,
      maxSamplesPerRequest: extract.max_samples_per_request,
      maxPointsPerSeries: extract.max_points_per_series,
      maxSeriesPerResponse: extract.max_series_per_response,
      retry: retryPolicy(extract.retry),
      queries: (extract.queries?.map(toQueryConfig) ?? defaultQueries()).map((q) => ({
        ...q,
        kind: q.kind ?? 'auto',
        tiers: q.tiers ?? tierNames,
      })),
    },
    transform: {
      validMetrics: transform.valid_metrics,
      measurement: transform.measurement,
      field: transform.field,
      labels: labelRules(transform.labels),
      staticTags: transform.static_tags,
      maxFutureSkewMs: transform.max_future_skew,
    },
    load: {
      influxdb: {
        endpoint: {
          url: influx.url,
          timeoutMs: influx.timeout,
          headers: influx.headers,
          auth: { type: 'none' },
          tls: tlsOptions(influx.tls, abs),
        } satisfies HttpEndpointOptions,
        api: influx.api,
        ...optional('token', secrets.get('load.influxdb.token')),
        ...optional('org', influx.org || undefined),
        bucket: primaryBucket(tiers),
        ...optional('username', influx.username || undefined),
        ...optional('password', secrets.get('load.influxdb.password')),
        batchSize: influx.batch_size,
        gzip: influx.gzip,
        retry: retryPolicy(influx.retry),
      },
      tiers,
      provision: load.provision,
      ...(load.export && { export: { dir: abs(load.export.dir), format: load.export.format } }),
      deadLetterPath: load.dead_letter_path
        ? abs(load.dead_letter_path)
        : join(stateDir, 'dead-letter.jsonl'),
      ...(load.max_points_per_second !== undefined && {
        maxPointsPerSecond: load.max_points_per_second,
      }),
    },
    pipeline: {
      intervalSeconds: pipeline.interval_seconds,
      delayMs: pipeline.delay,
      logLevel: pipeline.log_level,
      initialLookbackMs: pipeline.initial_lookback ?? pipeline.interval_seconds * 1000,
      maxCatchupMs: pipeline.max_catchup,
      shutdownGraceMs: pipeline.shutdown_grace,
      shard: pipeline.shard ?? { index: 0, count: 1 },
      ...(pipeline.schedule !== undefined && { schedule: pipeline.schedule }),
      startJitterMs: pipeline.start_jitter,
      latenessMs: pipeline.lateness,
      rewriteWindows: pipeline.rewrite_windows,
      stateDir,
    },
    server: {
      listen: server.listen,
      ...optional('auth', server.auth && serverAuth(server.auth, secrets)),
    },
  };
}

function serverAuth(
  auth: NonNullable<ConfigDocument['server']['auth']>,
  secrets: ReadonlyMap<string, string>,
): ServerAuthConfig {
  const password = secrets.get('server.auth.basic_auth.password');
  return {
    ...optional('bearerToken', secrets.get('server.auth.bearer_token')),
    ...optional(
      'basic',
      auth.basic_auth && password !== undefined
        ? { username: auth.basic_auth.username, password }
        : undefined,
    ),
    protectMetrics: auth.protect_metrics,
  };
}

/** `{key: value}` when value is defined, else `{}`: keeps absent settings absent. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

function toQueryConfig(q: NonNullable<ConfigDocument['extract']['queries']>[number]): QueryConfig {
  return {
    name: q.name,
    expr: q.query,
    stepMs: q.step,
    ...optional('measurement', q.measurement),
    ...optional('field', q.field),
    tags: q.tags,
    ...optional('labels', q.labels && labelRules(q.labels)),
    kind: q.kind,
    ...optional('tiers', q.tiers),
  };
}

function labelRules(rules: LabelRules): LabelRules {
  return { drop: rules.drop, keep: rules.keep, rename: rules.rename };
}

function tlsOptions(tls: ConfigDocument['extract']['tls'], abs: (p: string) => string): TlsOptions {
  return {
    ...optional('caFile', tls.ca_file && abs(tls.ca_file)),
    ...optional('certFile', tls.cert_file && abs(tls.cert_file)),
    ...optional('keyFile', tls.key_file && abs(tls.key_file)),
    insecureSkipVerify: tls.insecure_skip_verify,
    ...optional('serverName', tls.server_name),
  };
}

function retryPolicy(retry: ConfigDocument['extract']['retry']): RetryPolicy {
  return {
    maxAttempts: retry.max_attempts,
    initialDelayMs: retry.initial_delay,
    maxDelayMs: retry.max_delay,
    multiplier: 2,
    jitter: 0.5,
  };
}
