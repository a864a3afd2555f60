import { queryOption, tierOption } from '../select-queries.js';
import type { RegisterCommand } from './command.js';

export interface VerifyOptions {
  config?: string;
  json?: boolean;
  from: string;
  to: string;
  query: string[];
  tier: string[];
}

/** `promflux verify`: compares what the tiers hold with what Prometheus returns, per window. */
export const registerVerify: RegisterCommand = (program, { io, setExit }) => {
  program
    .command('verify')
    .description('compare what each tier holds with what Prometheus returns, window by window')
    .option(
      '-c, --config <file>',
      'config file (default: $PROMFLUX_CONFIG, else config/promflux.yaml)',
    )
    .requiredOption('--from <time>', 'start (inclusive): RFC 3339, unix seconds, or now-<duration>')
    .requiredOption('--to <time>', 'end (exclusive), same forms')
    .addOption(queryOption())
    .addOption(tierOption())
    .option('--json', 'print one JSON object per tier and query')
    .action(async (opts: VerifyOptions) => {
      const { runVerify } = await import('./verify-run.js');
      setExit(await runVerify(io, opts));
    });
};
