import {
  formatTierResult,
  needsAttention,
  provisionConfigured,
  type TierResult,
} from '../../load/provision/index.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { loadConfig } from '../load-config.js';
import type { ProvisionFlags } from './provision.js';

/** A tier the operator must look at: not permitted, failed, or a retention left different. */
export function tierNeedsOperator(r: TierResult): boolean {
  return needsAttention(r) || r.outcome === 'differs';
}

/** The action of `promflux provision` (./provision.ts), loaded only when it runs. */
export async function runProvision(io: CliIo, opts: ProvisionFlags): Promise<number> {
  const { config, warnings } = await loadConfig(io, opts.config);
  for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
  const report = await provisionConfigured(config.load, {
    dryRun: opts.dryRun === true,
    applyRetention: opts.applyRetention === true,
  });
  const redact = (text: string): string => io.redactor?.redact(text) ?? text;
  if (opts.json) {
    io.stdout.write(`${redact(JSON.stringify(report))}\n`);
  } else {
    for (const r of report.results) io.stdout.write(`${redact(formatTierResult(r))}\n`);
  }
  return report.results.some(tierNeedsOperator) ? EXIT.ATTENTION : EXIT.OK;
}
