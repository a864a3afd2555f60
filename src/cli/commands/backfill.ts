import { Option } from 'commander';
import { withCommonOptions, type CommonOptions } from '../common-options.js';
import { queryOption, tierOption } from '../select-queries.js';
import type { RegisterCommand } from './command.js';

export type BackfillOptions = CommonOptions & {
  from: string;
  to: string;
  query: string[];
  tier: string[];
  plan?: boolean;
  fresh?: boolean;
  /** false with --no-progress. */
  progress: boolean;
  progressInterval: string;
};

/** `promflux backfill`: the pipeline over a historical range, resumable; `--plan` only sizes it. */
export const registerBackfill: RegisterCommand = (program, { io, setExit }) => {
  withCommonOptions(program.command('backfill'))
    .description('run the pipeline over a historical range')
    .requiredOption(
      '--from <time>',
      'start: RFC 3339, unix seconds, or now-<duration> (e.g. now-24h)',
    )
    .requiredOption('--to <time>', 'end (inclusive), same forms; e.g. now')
    .addOption(queryOption())
    .addOption(tierOption())
    .addOption(
      new Option(
        '--plan',
        'print the chunks, estimated samples and requests per query; run nothing',
      ).conflicts('fresh'),
    )
    .option('--fresh', 'ignore the progress of an earlier run over the same range; redo it all')
    .option('--no-progress', 'no progress bar (on a terminal) or progress log lines (otherwise)')
    .option(
      '--progress-interval <duration>',
      'how often a progress log line is written when stderr is not a terminal',
      '10s',
    )
    .action(async (opts: BackfillOptions) => {
      const { runBackfill } = await import('./backfill-run.js');
      setExit(await runBackfill(io, opts));
    });
};
