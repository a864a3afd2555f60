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
import { RETRY_DEFAULTS } from './schema/blocks.js';
import { formatPath, type KeyPath } from './schema/key-path.js';
import { extract } from './schema/sections/extract.js';
import { load } from './schema/sections/load.js';
import { pipeline } from './schema/sections/pipeline.js';
import { server } from './schema/sections/server.js';
import { transform } from './schema/sections/transform.js';

export { formatPath, type KeyPath };
export { MAX_TIMER_MS } from './schema/leaf.js';
export { RETRY_DEFAULTS };
export { DEFAULT_MAX_SAMPLES_PER_REQUEST } from './schema/sections/extract.js';
export { INFLUX_APIS } from './schema/sections/load.js';

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
