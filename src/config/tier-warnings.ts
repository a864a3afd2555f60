import type { PromfluxConfig } from './types.js';

/**
 * What this version accepts in the configuration but does not act on yet: only the first raw tier
 * is written today (rollup tiers are provisioned and checked, not filled). Said once per loaded
 * configuration, so that nobody waits for data that no code writes.
 */
export function unwrittenTierWarnings(config: PromfluxConfig): string[] {
  const warnings: string[] = [];
  const firstRaw = config.load.tiers.find((t) => t.resolutionMs === undefined);
  config.load.tiers.forEach((tier, i) => {
    if (tier === firstRaw) return;
    const what =
      tier.resolutionMs === undefined
        ? 'only the first raw tier is written in this version'
        : 'rollup tiers are provisioned and checked, but not written yet in this version';
    warnings.push(`load.tiers[${i}] (${tier.name}): ${what}; it receives no points.`);
  });
  // load.export holds its hours back by pipeline.lateness too (it never rewrites a file).
  const lateness = config.pipeline.latenessMs > 0 && config.load.export === undefined;
  if (lateness || config.pipeline.rewriteWindows > 0) {
    warnings.push(
      'pipeline.lateness and pipeline.rewrite_windows apply to rollup tiers, which this version ' +
        'does not write yet: they have no effect' +
        (config.load.export ? ' (load.export honours lateness, not rewrite_windows).' : '.'),
    );
  }
  return warnings;
}
