import {
  formatTierResult,
  needsAttention,
  provisionConfigured,
  type TierResult,
} from '../../load/provision/index.js';
import { EXIT } from '../exit-codes.js';
import { loadConfig } from '../load-config.js';
import type { RegisterCommand } from './command.js';

interface ProvisionFlags {
  config?: string;
  dryRun?: boolean;
  applyRetention?: boolean;
  json?: boolean;
}

/** A tier the operator must look at: not permitted, failed, or a retention left different. */
export function tierNeedsOperator(r: TierResult): boolean {
  return needsAttention(r) || r.outcome === 'differs';
}

/** `promflux provision`: makes every tier's database / retention policy / bucket exist. */
export const registerProvision: RegisterCommand = (program, { io, setExit }) => {
  program
    .command('provision')
    .description(
      "create the tiers' missing databases, retention policies and buckets; report retentions that differ",
    )
    .option('-c, --config <file>', 'config file')
    .option('--dry-run', 'only read: say what exists, what would be created, what differs')
    .option(
      '--apply-retention',
      'also change an existing retention that differs (shortening one deletes older data)',
    )
    .option('--json', 'print the report as JSON instead of one line per tier')
    .action(async (opts: ProvisionFlags) => {
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
      setExit(report.results.some(tierNeedsOperator) ? EXIT.ATTENTION : EXIT.OK);
    });
};
