/** Containers of the config schema: string mappings (headers, params, tags, renames) and lists. */
import { z } from 'zod';
import { RESERVED_TAG_KEYS } from '../../core/reserved-tag-keys.js';
import { isRecord } from '../plain-object.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * A mapping of names to strings (headers, params, tags, renames). Numbers and booleans become
 * strings, so `dedup: true` needs no quotes. Absent means empty.
 */
export function stringMap(
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

export function headerMap() {
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

export function nonEmptyEntries(what: string, key?: (k: string) => string | undefined) {
  return stringMap(what, {
    key: (k) => (k.trim() === '' ? 'names must not be empty' : key?.(k)),
    value: (v) => (v.trim() === '' ? 'must not be empty' : undefined),
  });
}

/** Tags set as written (static_tags, a query's tags), unlike labels: InfluxDB refuses reserved keys. */
export function tagMap() {
  const reserved = [...RESERVED_TAG_KEYS].join(', ');
  return nonEmptyEntries('tag names to values', (k) =>
    RESERVED_TAG_KEYS.has(k)
      ? `is a tag key InfluxDB reserves (${reserved}); choose another name`
      : undefined,
  );
}

export function list<T extends z.ZodType>(item: T, expected: string) {
  return z.array(item, { error: `must be a list of ${expected}` }).default(() => []);
}
