import type { ConfigIssue } from '../core/errors.js';
import { formatPath, type KeyPath } from './schema/key-path.js';
import { setOwn } from './plain-object.js';

/** The parsed document with every string scalar interpolated, and the problems found doing it. */
export interface InterpolationResult {
  value: unknown;
  issues: ConfigIssue[];
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([\s\S]*))?$/;

/**
 * Replaces environment references in every string scalar of a parsed YAML document:
 * `${VAR}`, `${VAR:-default}` (when unset or empty), `${VAR:?message}` (an error when unset or
 * empty) and `$$` for a literal `$`. A `$` followed by anything else stays as it is, so regexes
 * such as `/_total$/` need no escaping.
 *
 * Runs after YAML parsing and touches string values only (never keys), so an environment value
 * cannot add keys, lists or types to the document; substituted text is not expanded again.
 */
export function interpolateEnv(doc: unknown, env: NodeJS.ProcessEnv): InterpolationResult {
  const issues: ConfigIssue[] = [];
  const walk = (node: unknown, path: KeyPath): unknown => {
    if (typeof node === 'string') {
      const { value, problems } = interpolateString(node, env);
      for (const message of problems) issues.push({ path: formatPath(path), message });
      return value;
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(node)) {
        setOwn(out, key, walk(item, [...path, key]));
      }
      return out;
    }
    return node;
  };
  return { value: walk(doc, []), issues };
}

/**
 * Interpolates one string. Problems are messages naming the variable, never its value; the
 * unresolvable reference is replaced by an empty string so validation can go on.
 */
export function interpolateString(
  text: string,
  env: NodeJS.ProcessEnv,
): { value: string; problems: string[] } {
  const problems: string[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch !== '$' || (next !== '$' && next !== '{')) {
      out += ch;
      i++;
      continue;
    }
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    const close = text.indexOf('}', i + 2);
    if (close === -1) {
      problems.push('unterminated "${" (missing "}"; write "$$" for a literal "$")');
      out += text.slice(i);
      break;
    }
    const body = text.slice(i + 2, close);
    i = close + 1;
    const match = REFERENCE.exec(body);
    if (!match) {
      problems.push(
        `invalid reference "\${${body}}": expected \${NAME}, \${NAME:-default} or \${NAME:?message}, ` +
          'where NAME is letters, digits and "_"',
      );
      continue;
    }
    const [, name, operator, argument = ''] = match as unknown as [
      string,
      string,
      string?,
      string?,
    ];
    if (argument.includes('${')) {
      problems.push(`nested references in \${${name}${operator}...} are not supported`);
      continue;
    }
    const value = env[name];
    if (operator === ':-') {
      out += value === undefined || value === '' ? argument : value;
    } else if (operator === ':?') {
      if (value === undefined || value === '') {
        problems.push(
          argument
            ? `environment variable ${name} is not set or empty: ${argument}`
            : `environment variable ${name} is required but not set or empty`,
        );
      } else {
        out += value;
      }
    } else if (value === undefined) {
      problems.push(
        `environment variable ${name} is not set (set it, or write \${${name}:-default} for a default)`,
      );
    } else {
      out += value;
    }
  }
  return { value: out, problems };
}
