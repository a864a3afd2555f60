import { createHash } from 'node:crypto';
import type { Labels } from '../core/series.js';
import { UsageError } from '../core/errors.js';

/**
 * Column and partition names an export writes itself. A tag may not take one of them: DuckDB's
 * hive partitioning silently replaces a file column by a path value of the same name, and a tag
 * named `value` would shadow the samples.
 */
export const RESERVED_COLUMNS: readonly string[] = ['timestamp', 'value', 'query', 'date', 'split'];

/**
 * A tag's column name in long layout. The rule: strip trailing `_`, lower-case; if that is a
 * reserved name (or one of the value fields, `value_mean`...), append one `_`. So `date` becomes
 * `date_`, `date_` becomes `date__`, `Date` becomes `Date_` (DuckDB compares names without case),
 * and every other name is kept. Injective: kept names never match the rule, escaped ones always
 * do, and appending one `_` keeps escaped names distinct.
 */
export function tagColumnName(tag: string, valueFields: readonly string[] = ['value']): string {
  const base = tag.replace(/_+$/, '').toLowerCase();
  return RESERVED_COLUMNS.includes(base) || valueFields.includes(base) ? `${tag}_` : tag;
}

const WIDE_NAME_CHARS = 48;
const WIDE_HASH_HEX = 12;

/**
 * A wide-layout column name: `[a-z0-9_]` only (DuckDB is case-insensitive, Spark rejects
 * ` ,;{}()=`), from the query and the label values, then `_` and 12 hex digits of a SHA-256 of
 * the exact query and labels, which tells apart series that sanitize alike. 48 bits of hash: 10,000
 * columns collide with odds under 1 in 5 million, and a collision is refused, never merged.
 */
export function wideColumnName(query: string, labels: Labels): string {
  const keys = Object.keys(labels).sort();
  const readable = [query, ...keys.map((k) => labels[k]!)]
    .join('_')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_{2,}/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, WIDE_NAME_CHARS);
  const canonical = JSON.stringify([query, keys.map((k) => [k, labels[k]])]);
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, WIDE_HASH_HEX);
  const name = `${readable}_${hash}`;
  return /^[a-z]/.test(name) ? name : `s_${name}`;
}

/** Checks a query name for use as a partition value and a column value. */
export function checkQueryName(query: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(query)) {
    throw new UsageError(
      `Query name "${query}" cannot name an export partition: use letters, digits, "_", "." or "-", starting with a letter or "_".`,
    );
  }
}
