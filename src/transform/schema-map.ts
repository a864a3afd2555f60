import type { LabelRules, QueryConfig, TransformConfig } from '../config/types.js';
import { RESERVED_TAG_KEYS } from '../core/reserved-tag-keys.js';
import type { Labels } from '../core/series.js';

/**
 * Maps a Prometheus label set to InfluxDB tags (the data model; README "Data model"):
 * 1. renames: each label name goes through the global renames, then the query's (`a → b` in both
 *    lists makes `a → b → c`); then drops (global and the query's);
 * 2. `service` from the `service` label, else from `job`; `instance` from `instance`; `metric_name`
 *    from `__name__`. The label a value was taken from is not repeated as a tag of its own. A series
 *    with a `service` label but no `job` label also gets `service_source=service`;
 * 3. with a `keep` list, only those labels remain besides the tags of step 2;
 * 4. `metric_type` = the query's name; static tags (global, then the query's) are set last and win;
 * 5. the escape: a label is written as `prom_<name>` when its name is a key promflux sets itself
 *    (step 2 and 4, line protocol's reserved `time`, `_field`, `_measurement`), starts with
 *    `prom_`, or is the target of a rename while the label itself was not renamed.
 *
 * Why 5 makes the mapping one-to-one (distinct label sets never share a tag set), for a config
 * that {@link tagMappingConflicts} finds nothing in: a label written under its own name is none of
 * promflux's keys, no rename target unless it was renamed, and does not start with `prom_`; an
 * escaped one starts with `prom_`, which no key of promflux's nor any rename target does, and
 * stripping the prefix gives back its name. Renamed labels keep distinct names. So every tag key
 * has one origin, and its value is that origin's. Step 2 is one-to-one by case: (service, job) →
 * `{service, job}`, service alone → `{service, service_source}`, job alone → `{service}`.
 * Drops and keep lists merge series on purpose; sanitising values (line-protocol.ts) can too.
 */
export interface TagMapping {
  queryName: string;
  rules: readonly LabelRules[];
  staticTags: Readonly<Record<string, string>>;
}

export const ESCAPE_PREFIX = 'prom_';
/** Tag keys promflux derives itself (besides the static tags). */
export const DERIVED_TAG_KEYS: readonly string[] = [
  'service',
  'service_source',
  'instance',
  'metric_name',
  'metric_type',
];
/** Labels consumed by the derived tags: renaming onto them is how to choose their source. */
const DERIVATION_INPUTS: ReadonlySet<string> = new Set(['service', 'job', 'instance', '__name__']);

/** A label set → tags function, with the config's sets built once. */
export type TagMapper = (labels: Labels) => Array<[string, string]>;

interface CompiledRules {
  /** The final name of every renamed label name. */
  renamed: Map<string, string>;
  /** Names a rename produces (the values of `renamed`). */
  targets: Set<string>;
  /** Keys promflux sets: derived, static, reserved. */
  owned: Set<string>;
}

function compileRules(mapping: TagMapping): CompiledRules {
  const renamed = new Map<string, string>();
  const layers = mapping.rules.map((r) => r.rename);
  const sources = new Set(layers.flatMap((layer) => Object.keys(layer)));
  for (const source of sources) {
    let name = source;
    for (const layer of layers) name = Object.hasOwn(layer, name) ? layer[name]! : name;
    renamed.set(source, name);
  }
  return {
    renamed,
    targets: new Set(renamed.values()),
    owned: new Set([...DERIVED_TAG_KEYS, ...RESERVED_TAG_KEYS, ...Object.keys(mapping.staticTags)]),
  };
}

export function compileTagMapping(mapping: TagMapping): TagMapper {
  const { renamed, targets, owned } = compileRules(mapping);
  const drop = new Set(mapping.rules.flatMap((r) => r.drop));
  const keep = new Set(mapping.rules.flatMap((r) => r.keep));
  const staticTags = Object.entries(mapping.staticTags);
  const escaped = (name: string): boolean => owned.has(name) || name.startsWith(ESCAPE_PREFIX);

  return (labels) => {
    /** Labels under their names after renaming (at most one each in a conflict-free config). */
    const live = new Map<string, string>();
    /** Labels not renamed whose name a rename produces: always escaped. */
    const displaced: Array<[string, string]> = [];
    for (const name in labels) {
      const value = labels[name]!;
      // Prometheus treats an empty label as an absent one.
      if (value === '') continue;
      const to = renamed.get(name);
      if (to !== undefined) {
        if (!drop.has(to)) live.set(to, value);
      } else if (drop.has(name)) continue;
      else if (targets.has(name)) displaced.push([name, value]);
      else live.set(name, value);
    }

    const tags = new Map<string, string>();
    const service = live.get('service');
    const job = live.get('job');
    if (service !== undefined) {
      tags.set('service', service);
      if (job === undefined) tags.set('service_source', 'service');
    } else if (job !== undefined) {
      tags.set('service', job);
      live.delete('job');
    }
    live.delete('service');
    takeInto(tags, 'instance', live, 'instance');
    takeInto(tags, 'metric_name', live, '__name__');

    for (const [name, value] of live) {
      if (keep.size > 0 && !keep.has(name)) continue;
      tags.set(escaped(name) ? ESCAPE_PREFIX + name : name, value);
    }
    for (const [name, value] of displaced) {
      if (keep.size > 0 && !keep.has(name)) continue;
      tags.set(ESCAPE_PREFIX + name, value);
    }
    tags.set('metric_type', mapping.queryName);
    for (const [key, value] of staticTags) tags.set(key, value);
    return [...tags];
  };
}

/** The label mapping of one query: global rules and static tags, then the query's. */
export function tagMappingOf(query: QueryConfig, transform: TransformConfig): TagMapping {
  return {
    queryName: query.name,
    rules: query.labels ? [transform.labels, query.labels] : [transform.labels],
    staticTags: { ...transform.staticTags, ...query.tags },
  };
}

/** One-off form of {@link compileTagMapping}. */
export function mapLabelsToTags(labels: Labels, mapping: TagMapping): Array<[string, string]> {
  return compileTagMapping(mapping)(labels);
}

/**
 * What in a mapping's config lets two label sets share a tag set (the proof in the header comment
 * does not hold for it). Each entry is a sentence; empty when the mapping is one-to-one.
 */
export function tagMappingConflicts(mapping: TagMapping): string[] {
  const { renamed } = compileRules(mapping);
  const conflicts: string[] = [];
  const derivedOrReserved = new Set([...DERIVED_TAG_KEYS, ...RESERVED_TAG_KEYS]);
  for (const key of Object.keys(mapping.staticTags)) {
    if (derivedOrReserved.has(key)) {
      conflicts.push(
        `static tag "${key}" replaces the "${key}" tag promflux sets itself: series that differ ` +
          'only there become one series',
      );
    } else if (key.startsWith(ESCAPE_PREFIX)) {
      conflicts.push(
        `static tag "${key}" starts with "${ESCAPE_PREFIX}", the prefix of escaped label names: ` +
          `it replaces the label "${key.slice(ESCAPE_PREFIX.length)}" where a series has one`,
      );
    }
  }
  const firstSource = new Map<string, string>();
  for (const [from, to] of renamed) {
    const earlier = firstSource.get(to);
    if (earlier !== undefined) {
      conflicts.push(
        `labels "${earlier}" and "${from}" are both renamed to "${to}" (through the global and ` +
          'the query renames): series that differ only there become one series',
      );
    } else firstSource.set(to, from);
    if (DERIVATION_INPUTS.has(to)) continue;
    const owned = derivedOrReserved.has(to) || Object.hasOwn(mapping.staticTags, to);
    if (owned || to.startsWith(ESCAPE_PREFIX)) {
      conflicts.push(
        `label "${from}" is renamed to "${to}", ` +
          (owned
            ? 'a tag key promflux sets itself'
            : `which starts with "${ESCAPE_PREFIX}", the prefix of escaped label names`) +
          `: it is written as "${ESCAPE_PREFIX}${to}", as a series' own "${to}" label is, ` +
          'and series that differ only there become one series',
      );
    }
  }
  return conflicts;
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
