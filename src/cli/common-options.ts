import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';

/** The options of every command that runs the pipeline. */
export interface CommonOptions {
  config?: string;
  dryRun?: boolean;
  summary?: boolean;
  json?: boolean;
}

/** Adds the options of `CommonOptions` to `cmd`. */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option(
      '-c, --config <file>',
      'config file (default: $PROMFLUX_CONFIG, else config/promflux.yaml)',
    )
    .option('--dry-run', 'extract and transform, print line protocol to stdout, write nothing')
    .option('--summary', 'with --dry-run: print only the per-query summary, not the lines')
    .option('--json', 'print the per-query summary as JSON lines');
}

export function rejectSummaryWithoutDryRun(opts: CommonOptions): void {
  if (opts.summary && !opts.dryRun) {
    throw new UsageError('--summary only applies to --dry-run (a run always prints its summary).');
  }
}
