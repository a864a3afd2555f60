import type { PromfluxConfig } from './types.js';

/**
 * What this version accepts in the configuration but does not act on yet. Said once per loaded
 * configuration, so that nobody waits for an effect that no code has.
 */
export function unwrittenTierWarnings(config: PromfluxConfig): string[] {
  const warnings: string[] = [];
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
