/** The `transform` section: metric whitelist, measurement and field names, labels and tags. */
import { z } from 'zod';
import { duration, metricMatcher, nonEmptyText } from '../leaf.js';
import { list, tagMap } from '../maps.js';
import { labelRules } from '../blocks.js';

export const transform = z
  .strictObject({
    valid_metrics: list(metricMatcher(), 'metric names or /regex/ strings'),
    measurement: nonEmptyText('a measurement name').prefault('health_metrics'),
    field: nonEmptyText('a field name').prefault('value'),
    labels: labelRules.prefault({}),
    static_tags: tagMap(),
    max_future_skew: duration().prefault('10m'),
  })
  .prefault({});
