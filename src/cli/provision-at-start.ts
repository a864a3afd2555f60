import type { PromfluxConfig } from '../config/types.js';
import { ConfigError, describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { formatTierResult, needsAttention, provisionConfigured } from '../load/provision/index.js';

/**
 * `load.provision: true`: creates what the tiers lack before `run`, `--once` or `backfill` writes.
 * Nothing here stops the run: a credential that may not provision (a write-only token), a server
 * failure or an unreachable InfluxDB is a warning naming the tier, and the writes themselves show
 * whether the storage is there. Only a tier the detected generation refuses is a configuration
 * error (exit 2), as `check-config` would have said had the generation been known.
 */
export async function provisionAtStart(config: PromfluxConfig, logger: Logger): Promise<void> {
  if (!config.load.provision) return;
  let report;
  try {
    report = await provisionConfigured(config.load, { dryRun: false, applyRetention: false });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    logger.warn(
      { err: describeError(err) },
      'load.provision: could not provision the tiers; writing anyway (run `promflux provision` to retry).',
    );
    return;
  }
  for (const r of report.results) {
    const line = formatTierResult(r);
    if (needsAttention(r)) {
      logger.warn(
        { tier: r.tier, outcome: r.outcome },
        `load.provision: ${line}; writing anyway (a missing bucket shows in the writes).`,
      );
    } else if (r.outcome === 'differs') {
      logger.warn({ tier: r.tier, outcome: r.outcome }, `load.provision: ${line}`);
    } else {
      logger.info({ tier: r.tier, outcome: r.outcome }, `load.provision: ${line}`);
    }
  }
}
