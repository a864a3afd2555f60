import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LabelRules } from '../../../src/config/types.js';
import type { Labels } from '../../../src/core/series.js';
import { encodeSeriesPrefix } from '../../../src/transform/line-protocol.js';
import {
  mapLabelsToTags,
  tagMappingConflicts,
  type TagMapping,
} from '../../../src/transform/schema-map.js';
import { labelSetKey } from '../../../src/transform/transform-series.js';

const noRules = { drop: [], keep: [], rename: {} };
const base: TagMapping = { queryName: 'availability', rules: [noRules], staticTags: {} };
const tags = (labels: Record<string, string>, mapping: Partial<TagMapping> = {}) =>
  Object.fromEntries(mapLabelsToTags(labels, { ...base, ...mapping }));

describe('mapLabelsToTags', () => {
  it('takes service from job when there is no service label', () => {
    expect(tags({ __name__: 'up', job: 'api', instance: 'h:1', zone: 'a' })).toEqual({
      service: 'api',
      instance: 'h:1',
      metric_name: 'up',
      metric_type: 'availability',
      zone: 'a',
    });
  });

  it('prefers the service label and keeps job as a tag then', () => {
    expect(tags({ service: 'checkout', job: 'kubernetes-pods' })).toEqual({
      service: 'checkout',
      job: 'kubernetes-pods',
      metric_type: 'availability',
    });
  });

  it('renames labels that line protocol reserves', () => {
    expect(tags({ time: 't', _field: 'f', _measurement: 'm' })).toEqual({
      prom_time: 't',
      prom__field: 'f',
      prom__measurement: 'm',
      metric_type: 'availability',
    });
  });

  it('applies renames, then drops, then keep; global rules before the query rules', () => {
    const mapping: Partial<TagMapping> = {
      rules: [
        { drop: ['pod'], keep: [], rename: { kubernetes_namespace: 'namespace' } },
        { drop: ['__name__'], keep: ['namespace'], rename: { team_name: 'team' } },
      ],
    };
    expect(
      tags(
        { __name__: 'up', job: 'j', pod: 'p', kubernetes_namespace: 'ns', team_name: 't', x: 'y' },
        mapping,
      ),
    ).toEqual({ service: 'j', namespace: 'ns', metric_type: 'availability' });
  });

  it('sets static tags, and escapes a label of the same name instead of overwriting it', () => {
    expect(
      tags({ job: 'j', env: 'from-label' }, { staticTags: { env: 'prod', dc: 'eu' } }),
    ).toEqual({
      service: 'j',
      env: 'prod',
      dc: 'eu',
      prom_env: 'from-label',
      metric_type: 'availability',
    });
  });
});

const seriesKey = (labels: Record<string, string>, mapping: Partial<TagMapping> = {}) =>
  encodeSeriesPrefix('m', mapLabelsToTags(labels, { ...base, ...mapping }), 'value');

describe('mapLabelsToTags keeps distinct series apart', () => {
  it.each([
    ['metric_type labels', { metric_type: 'a' }, { metric_type: 'b' }, {}],
    ['time and prom_time', { time: 'x' }, { prom_time: 'x' }, {}],
    ['_field and prom__field', { _field: 'x' }, { prom__field: 'x' }, {}],
    ['job and service', { job: 'x' }, { service: 'x' }, {}],
    ['metric_name and __name__', { __name__: 'up', metric_name: 'x' }, { __name__: 'up' }, {}],
    ['metric_name over __name__', { __name__: 'up', metric_name: 'x' }, { __name__: 'x' }, {}],
    ['a static tag and a label', { env: 'a' }, { env: 'b' }, { staticTags: { env: 'prod' } }],
    [
      'a renamed label and one named like its target',
      { app: 'x' },
      { team: 'x' },
      { rules: [{ drop: [], keep: [], rename: { app: 'team' } }] },
    ],
    [
      'a renamed label beside one named like its target',
      { app: 'x', team: 'y' },
      { app: 'x', team: 'z' },
      { rules: [{ drop: [], keep: [], rename: { app: 'team' } }] },
    ],
  ] satisfies Array<[string, Labels, Labels, Partial<TagMapping>]>)('%s', (_, a, b, mapping) => {
    expect(seriesKey(a, mapping)).not.toBe(seriesKey(b, mapping));
  });

  it('writes each escaped label under a documented name', () => {
    expect(tags({ metric_type: 'a', prom_time: 'p', time: 't', service: 's' })).toEqual({
      service: 's',
      service_source: 'service',
      prom_metric_type: 'a',
      prom_prom_time: 'p',
      prom_time: 't',
      metric_type: 'availability',
    });
    const rename = { rules: [{ drop: [], keep: [], rename: { app: 'team', svc: 'service' } }] };
    expect(tags({ app: 'a', team: 't', svc: 's', service: 'own', job: 'j' }, rename)).toEqual({
      team: 'a',
      prom_team: 't',
      service: 's',
      prom_service: 'own',
      job: 'j',
      metric_type: 'availability',
    });
  });

  // Names that promflux treats specially, or that its escapes produce.
  const NAMES = [
    '__name__',
    'job',
    'service',
    'service_source',
    'instance',
    'metric_name',
    'metric_type',
    'time',
    '_field',
    '_measurement',
    'prom_time',
    'prom__field',
    'prom_service',
    'prom_prom_time',
    'prom_env',
    'env',
    'app',
    'zone',
  ];
  const name = fc.constantFrom(...NAMES);
  // Few values, so that label sets often differ in names only. No backslashes or control
  // characters: the encoder's sanitising of those is the one documented many-to-one step, counted
  // at run time instead.
  const value = fc.constantFrom('x', 'y', 'a,b', 'a=b c');
  const labelSet = fc.dictionary(name, value, { maxKeys: 3 });
  const renames = fc
    .uniqueArray(fc.tuple(name, name), { selector: ([, to]) => to, maxLength: 3 })
    .map((pairs) => Object.fromEntries(pairs));
  const rules = renames.map((rename): LabelRules => ({ drop: [], keep: [], rename }));
  const mapping = fc.record({
    queryName: fc.constantFrom('q', 'x'),
    rules: fc.array(rules, { minLength: 1, maxLength: 2 }),
    staticTags: fc.dictionary(name, value, { maxKeys: 2 }),
  });

  it('never gives two distinct label sets one series key (property)', () => {
    fc.assert(
      fc.property(mapping, fc.array(labelSet, { minLength: 2, maxLength: 40 }), (m, sets) => {
        fc.pre(tagMappingConflicts(m).length === 0);
        const keyOf = new Map<string, string>();
        for (const labels of sets) keyOf.set(labelSetKey(sorted(labels)), seriesKey(labels, m));
        expect(new Set(keyOf.values()).size).toBe(keyOf.size);
      }),
      { seed: 114, numRuns: 2000 },
    );
  });
});

describe('tagMappingConflicts', () => {
  const rename = (r: Record<string, string>): LabelRules => ({ drop: [], keep: [], rename: r });
  it('names what makes two label sets share a series', () => {
    expect(
      tagMappingConflicts({
        queryName: 'q',
        rules: [rename({ a: 'b', x: 'env' }), rename({ b: 'c', c2: 'c', y: 'metric_type' })],
        staticTags: { service: 's', env: 'prod', prom_x: '1' },
      }),
    ).toEqual([
      'static tag "service" replaces the "service" tag promflux sets itself: series that differ ' +
        'only there become one series',
      'static tag "prom_x" starts with "prom_", the prefix of escaped label names: it replaces ' +
        'the label "x" where a series has one',
      'label "x" is renamed to "env", a tag key promflux sets itself: it is written as ' +
        '"prom_env", as a series\' own "env" label is, and series that differ only there become ' +
        'one series',
      'labels "a" and "b" are both renamed to "c" (through the global and the query renames): ' +
        'series that differ only there become one series',
      'labels "a" and "c2" are both renamed to "c" (through the global and the query renames): ' +
        'series that differ only there become one series',
      'label "y" is renamed to "metric_type", a tag key promflux sets itself: it is written as ' +
        '"prom_metric_type", as a series\' own "metric_type" label is, and series that differ ' +
        'only there become one series',
    ]);
  });

  it('finds nothing in renames that choose the source of service or instance', () => {
    expect(
      tagMappingConflicts({
        queryName: 'q',
        rules: [rename({ app: 'service', host: 'instance', k8s_ns: 'namespace' })],
        staticTags: { dc: 'eu' },
      }),
    ).toEqual([]);
  });
});

function sorted(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([x], [y]) => (x < y ? -1 : 1)));
}
