import type { Writable } from 'node:stream';
import type { PromfluxConfig, QueryConfig } from '../config/types.js';
import { ConfigError, PromfluxError, describeError } from '../core/errors.js';
import type { BackfillProgress } from '../pipeline/backfill-progress.js';
import { openPipeline, runQueries, type DryRun, type Pipeline } from '../pipeline/pipeline.js';
import type { QueryRunResult, SeriesSink, TimeRange } from '../pipeline/run-query.js';
import type { TierRun } from '../pipeline/tier-runs.js';
import { rejectSummaryWithoutDryRun, type CommonOptions } from './common-options.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { loadConfig } from './load-config.js';
import { startProgressReporter, type ProgressKind } from './progress-display.js';
import { provisionAtStart } from './provision-at-start.js';
import { runLogger } from './run-logger.js';
import { interruptOnStopSignals, signalExitCode } from './signals.js';
import { rejectedPoints } from './summary.js';
import { writeRejectedNote, writeSummary } from './write-summary.js';

/** What a one-shot command (`--once`, `backfill`) runs, decided once the config is loaded. */
export interface RunPlan {
  queries: QueryConfig[];
  rangeFor: (q: QueryConfig) => TimeRange;
  /** What each tier writes (see RunOptions.tierRunsFor); without, raw points of `rangeFor`. */
  tierRunsFor?: (q: QueryConfig) => TierRun[];
  /** Progress of a query: every tier has every grid point up to `ackedThroughMs`. */
  onAck?: (q: QueryConfig, ackedThroughMs: number) => void;
  /** After the run, written or not (saves progress). */
  finish?: () => Promise<void>;
  /** Shown while the run goes on: a bar on a TTY, else log lines (a backfill's by default). */
  progress?: { tracker: BackfillProgress; logIntervalMs: number; kind?: ProgressKind };
  /** What the user can do about the unacknowledged range of a failed query (logged). */
  failureHint: (q: QueryConfig, unacknowledged: TimeRange) => string;
  /** Notes after the per-query summaries of an uninterrupted run (not with --json). */
  explainResults?: (
    pipeline: Pipeline,
    results: readonly QueryRunResult[],
    out: Writable,
  ) => Promise<void>;
  /** Each query's clean series go here instead of to a sink, and no sink is opened (export). */
  seriesSinkFor?: (q: QueryConfig) => SeriesSink;
  /** After a run in which every query succeeded, before `finish` (export's files and manifest). */
  complete?: (results: readonly QueryRunResult[], out: Writable) => Promise<void>;
}

/**
 * Runs the pipeline once over the plan's ranges, printing a summary per query, and resolves to the
 * exit code. A stop signal abandons the run; a second one exits at once.
 */
export async function runPipeline(
  io: CliIo,
  opts: CommonOptions,
  plan: (config: PromfluxConfig) => Promise<RunPlan> | RunPlan,
): Promise<number> {
  rejectSummaryWithoutDryRun(opts);
  const { config, warnings, redactor } = await loadConfig(io, opts.config);
  const {
    queries,
    rangeFor,
    tierRunsFor,
    onAck,
    finish,
    progress,
    failureHint,
    explainResults,
    seriesSinkFor,
    complete,
  } = await plan(config);
  const logger = runLogger(config, warnings, redactor);
  const dryRun: DryRun = opts.dryRun ? (opts.summary ? 'summary' : 'print') : 'off';
  // With line protocol on stdout, summaries go to stderr so the output stays pipeable.
  const report = dryRun === 'print' ? io.stderr : io.stdout;
  const summaryContext = { deadLetterPath: config.load.deadLetterPath };

  // A dry run writes nothing, so it creates nothing either.
  if (dryRun === 'off') await provisionAtStart(config, logger);
  const interruption = interruptOnStopSignals(logger);
  try {
    const pipeline = await openPipeline(config, logger, {
      dryRun,
      stdout: io.stdout,
      redactor,
      seriesSinksOnly: seriesSinkFor !== undefined,
    });
    const reporter =
      progress &&
      startProgressReporter({
        progress: progress.tracker,
        stream: io.stderr,
        logger,
        logIntervalMs: progress.logIntervalMs,
        ...(progress.kind && { kind: progress.kind }),
        now: io.now,
      });
    const stopOnClosedOutput = (err: NodeJS.ErrnoException): void => {
      // `--dry-run | head`: the reader has what it wanted, and a dry run has nothing else to do.
      if (err.code === 'EPIPE') process.exit(EXIT.OK);
    };
    if (dryRun === 'print') io.stdout.on('error', stopOnClosedOutput);
    try {
      const results = await runQueries(pipeline, queries, rangeFor, {
        signal: interruption.signal,
        failureHint,
        onAck,
        tierRunsFor,
        seriesSinkFor,
        onSamples: progress && ((q, n) => progress.tracker.addSamples(q.name, n)),
        onResult: (r) => {
          progress?.tracker.finish(r.query);
          reporter?.clear();
          writeSummary(report, r, { json: opts.json, redactor, context: summaryContext });
        },
      });
      const signalled = interruption.received();
      if (signalled) return signalExitCode(signalled);
      if (explainResults && !opts.json) await explainResults(pipeline, results, report);
      // `api: auto` found 1.x only at a write (the server was down at start) and the bucket is
      // no 1.x target: a config error, whichever query met it first.
      const invalid = results.find((r) => r.error instanceof ConfigError);
      if (invalid) throw invalid.error;
      const rejected = rejectedPoints(results);
      if (rejected > 0 && !opts.json)
        writeRejectedNote(report, rejected, config.load.deadLetterPath);
      if (results.some((r) => r.error !== undefined)) return EXIT.FAILURE;
      await complete?.(results, report);
      return rejected > 0 ? EXIT.REJECTED : EXIT.OK;
    } finally {
      io.stdout.off('error', stopOnClosedOutput);
      reporter?.stop();
      await pipeline.close();
      await finish?.();
    }
  } catch (err) {
    if (err instanceof PromfluxError && (err.code === 'CONFIG_INVALID' || err.code === 'USAGE'))
      throw err;
    logger.error({ err: describeError(err) }, 'Run failed.');
    io.stderr.write(`promflux: ${redactor.redact(describeError(err))}\n`);
    return EXIT.FAILURE;
  } finally {
    interruption.off();
  }
}
