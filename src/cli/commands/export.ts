import { Option } from 'commander';
import type { PromfluxConfig, QueryConfig } from '../../config/types.js';
import { UsageError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import { parseDurationMs, parseTimeMs, toRfc3339 } from '../../core/time.js';
import { VERSION } from '../../core/version.js';
import { statsSplit } from '../../export/column-stats.js';
import type { DatasetFormat } from '../../export/dataset-file.js';
import { DatasetExport, type DatasetLayout } from '../../export/dataset-export.js';
import { claimExportDir, writeManifest } from '../../export/export-dir.js';
import { buildManifest, configHash, type ExportIdentity } from '../../export/manifest.js';
import { lookbackMs, parseSplitSpec, splitRanges } from '../../export/splits.js';
import { DEFAULT_MAX_COLUMNS } from '../../export/wide-layout.js';
import { BackfillProgress } from '../../pipeline/backfill-progress.js';
import type { TimeRange } from '../../pipeline/run-query.js';
import type { CliIo } from '../io.js';
import { runPipeline, type RunPlan } from '../run-pipeline.js';
import { queryOption, selectQueries } from '../select-queries.js';
import type { RegisterCommand } from './command.js';

interface ExportOptions {
  config?: string;
  json?: boolean;
  from: string;
  to: string;
  out: string;
  query: string[];
  format: DatasetFormat;
  layout: DatasetLayout;
  source: string;
  maxColumns: string;
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
    .option('--source <source>', 'where the samples come from (prometheus)', 'prometheus')
    .option(
      '--max-columns <n>',
      'wide layout: refuse more series than this',
      String(DEFAULT_MAX_COLUMNS),
    )
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
      setExit(await runExport(io, opts));
    });
};

async function runExport(io: CliIo, opts: ExportOptions): Promise<number> {
  if (opts.source === 'influxdb') {
    throw new UsageError('--source influxdb is not available yet; export from prometheus.');
  }
  if (opts.source !== 'prometheus') {
    throw new UsageError(`--source "${opts.source}" is unknown; use prometheus.`);
  }
  const maxColumns = Number(opts.maxColumns);
  if (!Number.isInteger(maxColumns) || maxColumns < 1) {
    throw new UsageError(`--max-columns "${opts.maxColumns}" is not a positive integer.`);
  }
  const logIntervalMs = parseDurationMs(opts.progressInterval);
  if (logIntervalMs === undefined || logIntervalMs <= 0) {
    throw new UsageError(
      `--progress-interval "${opts.progressInterval}" is not a positive duration (e.g. 10s, 1m).`,
    );
  }
  const now = io.now();
  const fromMs = parseTimeMs(opts.from, now);
  const toMs = parseTimeMs(opts.to, now);
  if (!(fromMs < toMs)) {
    throw new UsageError(
      `--to (${toRfc3339(toMs)}) must be after --from (${toRfc3339(fromMs)}): the range is [from, to).`,
    );
  }
  if (opts.gap !== undefined && opts.split === undefined) {
    throw new UsageError('--gap only applies to --split.');
  }
  const splitParts = opts.split === undefined ? undefined : parseSplitSpec(opts.split);
  const gapOption = opts.gap === undefined ? undefined : parseDurationMs(opts.gap);
  if (opts.gap !== undefined && gapOption === undefined) {
    throw new UsageError(`--gap "${opts.gap}" is not a duration (e.g. 5m, 1h).`);
  }
  // The pipeline's ranges are inclusive; timestamps are whole milliseconds.
  const range: TimeRange = { startMs: fromMs, endMs: toMs - 1 };
  return runPipeline(io, opts, async (config) => {
    const queries = selectQueries(config, opts.query);
    const gapMs = gapOption ?? Math.max(0, ...queries.map((q) => lookbackMs(q.expr)));
    const splits =
      splitParts &&
      splitRanges(splitParts, { fromMs, toMs }, gapMs, Math.max(...queries.map((q) => q.stepMs)));
    const identity = exportIdentity(config, queries, opts, fromMs, toMs);
    if (splits) {
      identity.splits = {
        gap_ms: gapMs,
        ranges: splits.map((r) => ({
          name: r.name,
          from: new Date(r.fromMs).toISOString(),
          to: new Date(r.toMs).toISOString(),
        })),
      };
    }
    const stale = await claimExportDir(opts.out, identity);
    const manifest = (exported: Parameters<typeof buildManifest>[1], complete: boolean) =>
      buildManifest(identity, exported, {
        version: VERSION,
        createdAt: new Date(io.now()).toISOString(),
        complete,
        ...(opts.stats && { statsSplit: statsSplit(splits) ?? null }),
      });
    await writeManifest(opts.out, manifest(new Map(), false));
    const dataset = new DatasetExport({
      dir: opts.out,
      format: opts.format,
      layout: opts.layout,
      fromMs,
      toMs,
      maxColumns,
      createdBy: `promflux ${VERSION}`,
      ...(splits && { splits }),
      ...(opts.stats && { stats: true }),
    });
    for (const q of queries) dataset.startQuery(q.name, q.stepMs);
    const plan: RunPlan = {
      queries,
      rangeFor: () => range,
      failureHint: () => 'run the same export again',
      seriesSinkFor: (q) => ({
        add: (tags, block) => dataset.add(q.name, tags, block),
        endChunk: (endMs) => dataset.endChunk(q.name, endMs),
      }),
      complete: async (_results, out) => {
        const exported = await dataset.finish();
        await writeManifest(opts.out, manifest(exported, true), stale);
        if (opts.json) return;
        const files = [...exported.values()].flatMap((e) => e.files);
        const rows = files.reduce((n, f) => n + f.rows, 0);
        out.write(`Exported ${rows} rows in ${files.length} files to ${opts.out}.\n`);
      },
      finish: () => dataset.abort(),
    };
    if (!opts.progress) return plan;
    const progress = new BackfillProgress(
      queries.map((q) => ({ name: q.name, range, stepMs: q.stepMs })),
      io.now(),
    );
    return {
      ...plan,
      onAck: (q, ackedThroughMs) => progress.ack(q.name, ackedThroughMs),
      progress: {
        tracker: progress,
        logIntervalMs,
        kind: { message: 'Export progress.', written: () => dataset.written },
      },
    };
  });
}

function exportIdentity(
  config: PromfluxConfig,
  queries: readonly QueryConfig[],
  opts: ExportOptions,
  fromMs: number,
  toMs: number,
): ExportIdentity {
  return {
    config_sha256: configHash({ queries, transform: config.transform }),
    source: { kind: 'prometheus', url: redactUrl(config.extract.endpoint.url) },
    range: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() },
    layout: opts.layout,
    format: opts.format,
    queries: queries.map((q) => ({ name: q.name, expr: q.expr, step_ms: q.stepMs })),
  };
}
