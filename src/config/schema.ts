/**
 * What a valid promflux YAML document is, composed here from the modules under `schema/`:
 *
 *   leaf.ts, maps.ts     leaf parsers (durations, URLs, integers, ...) and string mappings
 *   blocks.ts            mappings several sections share (retry, tls, label rules)
 *   sections/<name>.ts   one zod schema per top-level section, types, ranges and defaults
 *   cross-checks.ts      checks that span several keys, one per section under checks/
 *
 * This file joins the sections into the document and turns every zod problem into
 * `key.path: what is expected`. A new key goes into its section; a new rule across keys becomes
 * one more check in cross-checks.ts. Pure: no file or environment access here.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../core/errors.js';
import { isRecord, setOwn } from './plain-object.js';
import { closestMatch } from './suggest.js';
import { formatPath, type KeyPath } from './schema/key-path.js';
import { extract } from './schema/sections/extract.js';
import { load } from './schema/sections/load.js';
import { pipeline } from './schema/sections/pipeline.js';
import { server } from './schema/sections/server.js';
import { transform } from './schema/sections/transform.js';

export { formatPath, type KeyPath };
export { MAX_TIMER_MS } from './schema/leaf.js';
export { RETRY_DEFAULTS } from './schema/blocks.js';
export { crossFieldFindings, type Findings } from './schema/cross-checks.js';
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
