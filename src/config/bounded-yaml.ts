/**
 * YAML parsing with bounds, for config files and `PROMFLUX__*` values. js-yaml shares one object
 * for every alias of an anchor, so parsing a "billion laughs" document is quick; what explodes is
 * every later step that copies the tree (interpolation, overrides), which would expand 9^9
 * nodes. So the parsed tree is counted the way those steps walk it, stopping at the first node
 * over the limit, before anything copies it.
 */
import { load } from 'js-yaml';

/** The largest config file read (checked before reading): real configs are a few KiB. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Values (mappings, lists, scalars) a document may expand to, counting an alias each time it is
 * used. A config with a hundred queries has a few thousand.
 */
export const MAX_YAML_NODES = 100_000;

/** A document over {@link MAX_YAML_NODES}; `message` is written for the operator. */
export class YamlTooLargeError extends Error {
  override readonly name = 'YamlTooLargeError';
}

/** Parses `text` as one YAML document; throws js-yaml's YAMLException or {@link YamlTooLargeError}. */
export function parseBoundedYaml(text: string): unknown {
  const doc: unknown = load(text);
  if (expandedNodesExceed(doc, MAX_YAML_NODES)) {
    throw new YamlTooLargeError(
      `the YAML expands to more than ${MAX_YAML_NODES} values, counting each use of an alias ` +
        `(*name) in full (the alias limit); a promflux config needs far fewer: remove the nested aliases`,
    );
  }
  return doc;
}

/** Whether `root`, walked as a tree (shared nodes counted at every use), has more than `limit` nodes. */
export function expandedNodesExceed(root: unknown, limit: number): boolean {
  let count = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (++count > limit) return true;
    if (typeof node !== 'object' || node === null) continue;
    for (const child of Array.isArray(node) ? (node as unknown[]) : Object.values(node)) {
      stack.push(child);
    }
  }
  return false;
}
