/** A location in the document: mapping keys and list indexes. */
export type KeyPath = readonly PropertyKey[];

/** `['extract', 'queries', 0, 'name']` → `extract.queries[0].name`. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}
