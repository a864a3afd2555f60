import type { PromfluxConfig } from '../config/types.js';
import { dropsNamelessQuery, metricsRefusedByWhitelist } from './filter.js';
import { tagMappingConflicts, tagMappingOf } from './schema-map.js';

/**
 * What the config lets the transform stage do that the user likely did not mean: queries whose
 * series the whitelist drops, label mappings that merge distinct series. For `check-config` and
 * the start of a run; none of it stops promflux.
 */
export function transformWarnings(config: PromfluxConfig): string[] {
  const { transform } = config;
  const globalMapping = {
    queryName: '',
    rules: [transform.labels],
    staticTags: transform.staticTags,
  };
  const globalConflicts = tagMappingConflicts(globalMapping);
  const warnings = globalConflicts.map((c) => `transform.labels / static_tags: ${c}.`);
  for (const q of config.extract.queries) {
    const refused = metricsRefusedByWhitelist(transform.validMetrics, q.expr);
    if (refused.length > 0) {
      warnings.push(
        `query "${q.name}" selects ${refused.join(', ')}, which transform.valid_metrics does ` +
          'not list: its series will be dropped.',
      );
    } else if (dropsNamelessQuery(transform.validMetrics, q.expr)) {
      warnings.push(
        `query "${q.name}" selects no metric by name, so its series have no metric name that ` +
          'transform.valid_metrics could list: they will be dropped (an empty valid_metrics ' +
          'keeps everything).',
      );
    }
    for (const c of tagMappingConflicts(tagMappingOf(q, transform))) {
      if (!globalConflicts.includes(c)) warnings.push(`query "${q.name}": ${c}.`);
    }
  }
  return warnings;
}
