/**
 * Every config key as an environment variable, for containers:
 *
 *   PROMFLUX__EXTRACT__PROMETHEUS_URL=http://localhost:9090   → extract.prometheus_url
 *   PROMFLUX__LOAD__INFLUXDB__TOKEN_FILE=/run/secrets/token   → load.influxdb.token_file
 *   PROMFLUX__EXTRACT__QUERIES='[{name: up, query: up}]'      → extract.queries (a list)
 *   PROMFLUX__EXTRACT__QUERIES__0__STEP=30s                   → extract.queries[0].step
 *
 * Levels are separated by a double underscore because keys contain single ones; names are matched
 * case-insensitively (keys are lower-case; so are map keys such as tag names); a number indexes a
 * list that is already there. A variable replaces the key's value from the file; variables naming
 * a deeper key refine what a shallower one set (they are applied shallowest first).
 *
 * Values are strings, used as they are: the schema already accepts digits where a number is
 * expected and "true"/"false" where a boolean is, so a numeric password or an org named "2024"
 * needs no quoting. Only three forms are read differently:
 *   - empty: the variable is ignored (so `-e PROMFLUX__SERVER__LISTEN=` lets the file decide);
 *   - true / false (any case): booleans (`PROMFLUX__SERVER__LISTEN=false`);
 *   - starting with `[` or `{`, or spanning several lines: YAML (flow or block; JSON is YAML),
 *     when that gives a list or a mapping; otherwise the text itself (`[::]:9469` stays text).
 * Values are not `${VAR}`-interpolated: the shell or the orchestrator already did that.
 *
 * Pure: the environment is a parameter; nothing here reads files or `process.env`.
 */
import { YAMLException } from 'js-yaml';
import { parseBoundedYaml, YamlTooLargeError } from './bounded-yaml.js';
import type { ConfigIssue } from '../core/errors.js';
import { isRecord, setOwn } from './plain-object.js';
import { closestMatch } from './suggest.js';
import { formatPath, knownKeys, type KeyPath } from './schema.js';

/** Every override variable starts with this. */
export const ENV_PREFIX = 'PROMFLUX__';

const SEPARATOR = '__';

/** One variable, applied: which key it set. */
export interface AppliedOverride {
  /** The variable's name, e.g. `PROMFLUX__PIPELINE__INTERVAL_SECONDS`. */
  variable: string;
  /** The key path it set, formatted: `pipeline.interval_seconds`, `extract.queries[0].step`. */
  path: string;
  /** Why a `[`/`{`/multi-line value was kept as text: the YAML reason, never the content. */
  yamlError?: string;
}

export interface EnvOverrideResult {
  /** The document with every valid override applied (the input is not modified). */
  value: unknown;
  /** Problems with the variables themselves (unknown key, no such list item), by variable name. */
  issues: ConfigIssue[];
  applied: AppliedOverride[];
}

/** The variable that sets `path`: `['load', 'influxdb', 'token']` → `PROMFLUX__LOAD__INFLUXDB__TOKEN`. */
export function envVariableFor(path: KeyPath): string {
  return ENV_PREFIX + path.map((segment) => String(segment).toUpperCase()).join(SEPARATOR);
}

/** Whether `env` holds at least one non-empty override variable. */
export function hasEnvOverrides(env: NodeJS.ProcessEnv): boolean {
  return overrideVariables(env).length > 0;
}

/** Override variables with a value, shallowest first, then by name: the order they apply in. */
function overrideVariables(env: NodeJS.ProcessEnv): Array<[name: string, value: string]> {
  const depth = (name: string): number => name.split(SEPARATOR).length;
  return Object.entries(env)
    .filter((entry): entry is [string, string] => {
      const [name, value] = entry;
      return name.startsWith(ENV_PREFIX) && value !== undefined && value !== '';
    })
    .sort(([a], [b]) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * An environment value as a config value (see the module comment). `yamlError` says why a value
 * that looked structured stayed text; the schema will then say what the key expects.
 */
export function parseEnvValue(raw: string): { value: unknown; yamlError?: string } {
  const text = raw.trim();
  if (/^(true|false)$/i.test(text)) return { value: text.toLowerCase() === 'true' };
  if (!/^[[{]/.test(text) && !text.includes('\n')) return { value: raw };
  try {
    const parsed: unknown = parseBoundedYaml(raw);
    if (typeof parsed === 'object' && parsed !== null) return { value: parsed };
    return { value: raw };
  } catch (err) {
    // The reason and position only: js-yaml's snippet would echo the value, maybe a secret.
    if (err instanceof YamlTooLargeError) return { value: raw, yamlError: err.message };
    if (!(err instanceof YAMLException)) return { value: raw, yamlError: 'cannot be parsed' };
    const at = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
    return { value: raw, yamlError: `${err.reason}${at}` };
  }
}

/**
 * The key path a variable names, checked against the schema at every level that has known keys
 * (sections, `influxdb`, `retry`, a query...) and against the lists already in `doc`.
 */
function resolveName(name: string, doc: unknown): { path: KeyPath } | { problem: string } {
  const segments = name.slice(ENV_PREFIX.length).split(SEPARATOR);
  if (segments.some((s) => s === '')) {
    return {
      problem: `names no key: levels are separated by exactly two underscores, e.g. ${envVariableFor(['extract', 'prometheus_url'])}`,
    };
  }
  const path: Array<string | number> = [];
  let node = doc;
  for (const [i, segment] of segments.entries()) {
    if (/^\d+$/.test(segment) && Array.isArray(node)) {
      const index = Number(segment);
      if (index >= node.length) {
        return {
          problem: `${formatPath(path)} has ${node.length} item(s), so there is no item ${index}; set the whole list with ${envVariableFor(path)}`,
        };
      }
      path.push(index);
      node = node[index];
      continue;
    }
    const key = segment.toLowerCase();
    const candidates = knownKeys(path);
    if (candidates.length > 0 && !candidates.includes(key)) {
      const where = path.length === 0 ? `section "${key}"` : `key "${formatPath([...path, key])}"`;
      const suggestion = closestMatch(key, candidates);
      if (suggestion !== undefined) {
        const fixed = [...path, suggestion, ...segments.slice(i + 1)];
        return { problem: `unknown ${where} (did you mean ${envVariableFor(fixed)}?)` };
      }
      return { problem: `unknown ${where} (expected one of: ${candidates.join(', ')})` };
    }
    path.push(key);
    node = isRecord(node) ? node[key] : undefined;
  }
  return { path };
}

/**
 * `doc` with `value` at `path`, copying each mapping or list on the way (mappings are created where
 * absent). Fails, with the depth of the offending key, when something on the way is a scalar.
 */
function setIn(
  doc: unknown,
  path: KeyPath,
  value: unknown,
  depth = 0,
): { doc: unknown } | { scalarAt: number } {
  const [head, ...rest] = path;
  if (head === undefined) return { doc: value };
  if (typeof head === 'number' && Array.isArray(doc)) {
    const inner = setIn(doc[head], rest, value, depth + 1);
    if ('scalarAt' in inner) return inner;
    const copy = [...(doc as unknown[])];
    copy[head] = inner.doc;
    return { doc: copy };
  }
  if (doc !== undefined && doc !== null && !isRecord(doc)) return { scalarAt: depth };
  const inner = setIn(isRecord(doc) ? doc[String(head)] : undefined, rest, value, depth + 1);
  if ('scalarAt' in inner) return inner;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(doc ?? {})) setOwn(copy, key, item);
  setOwn(copy, String(head), inner.doc);
  return { doc: copy };
}

/**
 * Applies every `PROMFLUX__*` variable of `env` to the parsed document (`{}` when there is no
 * file). Environment wins over the file; the schema validates the result as usual, and
 * {@link attributeToVariables} then names the variable in its messages.
 */
export function applyEnvOverrides(doc: unknown, env: NodeJS.ProcessEnv): EnvOverrideResult {
  const result: EnvOverrideResult = { value: doc, issues: [], applied: [] };
  const setBy = new Map<string, string>();
  for (const [variable, raw] of overrideVariables(env)) {
    const fail = (message: string): void => void result.issues.push({ path: variable, message });
    const resolved = resolveName(variable, result.value);
    if ('problem' in resolved) {
      fail(resolved.problem);
      continue;
    }
    const path = formatPath(resolved.path);
    const earlier = setBy.get(path);
    if (earlier !== undefined) {
      fail(`sets ${path}, which ${earlier} already sets (keep one of them)`);
      continue;
    }
    const { value, yamlError } = parseEnvValue(raw);
    const next = setIn(result.value, resolved.path, value);
    if ('scalarAt' in next) {
      const above = formatPath(resolved.path.slice(0, next.scalarAt));
      fail(`cannot set ${path}: ${above} holds a single value, not a mapping`);
      continue;
    }
    result.value = next.doc;
    setBy.set(path, variable);
    result.applied.push({ variable, path, ...(yamlError !== undefined && { yamlError }) });
  }
  return result;
}

/** Whether key path `inner` is `outer` or lies inside it (`a.b[0].c` inside `a.b`). */
function within(inner: string, outer: string): boolean {
  return (
    inner === outer ||
    (inner.startsWith(outer) && (inner[outer.length] === '.' || inner[outer.length] === '['))
  );
}

/**
 * Rewrites issues about keys that a variable set so that they name the variable:
 * `pipeline.interval_seconds: must be ...` → `PROMFLUX__PIPELINE__INTERVAL_SECONDS: must be ...`,
 * and `extract.queries[1].name: ...` → `PROMFLUX__EXTRACT__QUERIES (extract.queries[1].name): ...`.
 * The deepest variable covering the key wins; when none covers it but one lies inside it (the
 * variable created the key), that one is named. With `hintUnset`, other key issues end with the
 * variable that would set the key (for a configuration from the environment alone).
 */
export function attributeToVariables(
  issues: readonly ConfigIssue[],
  applied: readonly AppliedOverride[],
  opts: { hintUnset?: boolean } = {},
): ConfigIssue[] {
  const deepestFirst = [...applied].sort((a, b) => b.path.length - a.path.length);
  return issues.map((issue) => {
    const owner =
      deepestFirst.find((o) => within(issue.path, o.path)) ??
      (issue.path === '' ? undefined : applied.find((o) => within(o.path, issue.path)));
    if (owner === undefined) {
      if (!opts.hintUnset || issue.path === '') return issue;
      return { ...issue, message: `${issue.message}; set ${variableForFormatted(issue.path)}` };
    }
    const where = issue.path === owner.path ? owner.variable : `${owner.variable} (${issue.path})`;
    const yaml =
      owner.yamlError === undefined || !within(issue.path, owner.path)
        ? ''
        : `; the value is not valid YAML: ${owner.yamlError}`;
    return { path: where, message: `${issue.message}${yaml}` };
  });
}

/** `extract.queries[0].step` → `PROMFLUX__EXTRACT__QUERIES__0__STEP`. */
function variableForFormatted(path: string): string {
  return envVariableFor(path.split(/[.[\]]+/).filter((s) => s !== ''));
}
