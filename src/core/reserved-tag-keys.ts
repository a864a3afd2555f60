/**
 * Keys line protocol reserves, which no tag may use: the config rejects them as static tags, and
 * the tag mapping escapes labels of these names.
 */
export const RESERVED_TAG_KEYS: ReadonlySet<string> = new Set(['time', '_field', '_measurement']);
