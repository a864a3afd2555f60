import { Option } from 'commander';
import type { DatasetFormat } from '../../export/dataset-file.js';
import type { DatasetLayout } from '../../export/dataset-export.js';
import { queryOption } from '../select-queries.js';
import type { RegisterCommand } from './command.js';

export interface ExportOptions {
  config?: string;
  json?: boolean;
  from: string;
  to: string;
  out: string;
  query: string[];
  format: DatasetFormat;
  layout: DatasetLayout;
  source: string;
  tier?: string;
  /** Unset: the wide layout's default (export-run.ts). */
  maxColumns?: string;
  split?: string;
  gap?: string;
  stats?: boolean;
  /** false with --no-progress. */
  progress: boolean;
  progressInterval: string;
}

/** `promflux export`: the pipeline over `[from, to)`, its clean rows written as a dataset. */
export const registerExport: RegisterCommand = (program, { io, setExit }) => {
  program
    .command('export')
    .description('write the clean samples of a range as a Parquet or CSV dataset')
    .option(
      '-c, --config <file>',
      'config file (default: $PROMFLUX_CONFIG, else config/promflux.yaml)',
    )
    .requiredOption('--from <time>', 'start (inclusive): RFC 3339, unix seconds, or now-<duration>')
    .requiredOption('--to <time>', 'end (exclusive), same forms')
    .requiredOption('--out <dir>', 'the dataset directory (new, empty, or this same export)')
    .addOption(queryOption())
    .addOption(
      new Option('--format <format>', 'file format').choices(['parquet', 'csv']).default('parquet'),
    )
    .addOption(
      new Option('--layout <layout>', 'a row per sample, or a column per series')
        .choices(['long', 'wide'])
        .default('long'),
    )
    .option(
      '--source <source>',
      'where the samples come from: prometheus, or what promflux stored in influxdb',
      'prometheus',
    )
    .option(
      '--tier <name>',
      'with --source influxdb: the tier to read (default: the raw tier); a rollup tier gives its fields',
    )
    .option('--max-columns <n>', 'wide layout: refuse more series than this (default: 10000)')
    .option('--split <splits>', 'split by time, e.g. train=0.8,validation=0.1,test=0.1')
    .option(
      '--gap <duration>',
      'with --split: time left out before each split but the first (default: the longest lookback of the queries)',
    )
    .option(
      '--stats',
      'record per-column mean, std, min and max of the training split (all rows without --split) in the manifest',
    )
    .option('--no-progress', 'no progress bar (on a terminal) or progress log lines (otherwise)')
    .option(
      '--progress-interval <duration>',
      'how often a progress log line is written when stderr is not a terminal',
      '10s',
    )
    .option('--json', 'print the per-query summary as JSON lines')
    .action(async (opts: ExportOptions) => {
      const { runExport } = await import('./export-run.js');
      setExit(await runExport(io, opts));
    });
};
