/** Helpers for the parsed config document: plain mappings as YAML and JSON produce them. */

/** A mapping (not null, not a list). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sets `key` as an own data property, even for names such as `__proto__` or `constructor`: a
 * plain assignment would hit the prototype's setter, and a config key must stay a key.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
