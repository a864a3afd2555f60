/** What cross-key checks share: the findings they add to, and rules that recur across sections. */
import type { ConfigIssue } from '../../../core/errors.js';
import { parseDurationMs } from '../../../core/time.js';
import { isRecord } from '../../plain-object.js';
import type { RETRY_DEFAULTS } from '../blocks.js';
import { formatPath, type KeyPath } from '../key-path.js';

export interface Findings {
  issues: ConfigIssue[];
  /** `path: message` lines for settings that are legal but probably not what was meant. */
  warnings: string[];
}

/**
 * One section's rules across keys. It reads the raw document and only speaks when the keys
 * involved have the right types (type problems are the schema's to report).
 */
export type CrossCheck = (doc: unknown, found: Findings) => void;

export function child(node: unknown, key: string): unknown {
  return isRecord(node) ? node[key] : undefined;
}

export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** Reports an issue at a key path into `found`. */
export function issueSink(found: Findings): IssueSink {
  return (path, message) => {
    found.issues.push({ path: formatPath(path), message });
  };
}

export type IssueSink = (path: KeyPath, message: string) => void;

export function authorizationHeaderIssues(
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

export function tlsFindings(
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

export function retryIssues(
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

export function labelRuleIssues(rules: unknown, path: KeyPath, issue: IssueSink): void {
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
