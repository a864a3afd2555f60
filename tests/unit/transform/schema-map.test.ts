import { describe, expect, it } from 'vitest';
import { mapLabelsToTags, type TagMapping } from '../../../src/transform/schema-map.js';

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

  it('sets static tags last, so they win', () => {
    expect(
      tags({ job: 'j', env: 'from-label' }, { staticTags: { env: 'prod', dc: 'eu' } }),
    ).toEqual({ service: 'j', env: 'prod', dc: 'eu', metric_type: 'availability' });
  });
});
