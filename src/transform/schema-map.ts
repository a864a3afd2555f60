import type { LabelRules } from '../config/types.js';
import type { Labels } from '../core/series.js';

/**
 * Maps a Prometheus label set to InfluxDB tags (the data model; README "Data model"):
 * 1. renames (global, then the query's), then drops (global, then the query's);
 * 2. `service` from the `service` label, else from `job`; `instance` from `instance`; the label a
 *    value was taken from is not repeated as a tag of its own;
 * 3. `__name__` becomes `metric_name`; labels whose names line protocol reserves (`time`, `_field`,
 *    `_measurement`) get a `prom_` prefix;
 * 4. with a `keep` list, only those labels remain besides service/instance/metric_type;
 * 5. `metric_type` = the query's name; static tags (global, then the query's) are set last and win.
 * Empty values are omitted later by the encoder.
 */
export interface TagMapping {
  queryName: string;
  rules: readonly LabelRules[];
  staticTags: Readonly<Record<string, string>>;
}

export const RESERVED_TAG_KEYS: ReadonlySet<string> = new Set(['time', '_field', '_measurement']);
const RESERVED_PREFIX = 'prom_';

export function mapLabelsToTags(labels: Labels, mapping: TagMapping): Array<[string, string]> {
  const working = new Map<string, string>(Object.entries(labels));
  for (const rules of mapping.rules) {
    for (const [from, to] of Object.entries(rules.rename)) {
      const value = working.get(from);
      if (value === undefined) continue;
      working.delete(from);
      working.set(to, value);
    }
  }
  for (const rules of mapping.rules) for (const name of rules.drop) working.delete(name);

  const tags = new Map<string, string>();
  const serviceSource = nonEmpty(working.get('service')) ? 'service' : 'job';
  takeInto(tags, 'service', working, serviceSource);
  takeInto(tags, 'instance', working, 'instance');
  const metricName = working.get('__name__');
  working.delete('__name__');
  if (metricName !== undefined) tags.set('metric_name', metricName);

  const keep = mapping.rules.flatMap((r) => r.keep);
  for (const [name, value] of working) {
    if (keep.length > 0 && !keep.includes(name)) continue;
    tags.set(RESERVED_TAG_KEYS.has(name) ? RESERVED_PREFIX + name : name, value);
  }
  tags.set('metric_type', mapping.queryName);
  for (const [key, value] of Object.entries(mapping.staticTags)) tags.set(key, value);
  return [...tags];
}

function takeInto(
  tags: Map<string, string>,
  tag: string,
  from: Map<string, string>,
  label: string,
): void {
  const value = from.get(label);
  if (value === undefined) return;
  from.delete(label);
  tags.set(tag, value);
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}
