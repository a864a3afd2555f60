import { Command, CommanderError, Option } from 'commander';
import type { Writable } from 'node:stream';
import type { PromfluxConfig, QueryConfig } from '../config/types.js';
import { ConfigError, UsageError, describeError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { VERSION } from '../core/version.js';
import { formatDuration, parseDurationMs, parseTimeMs, toRfc3339 } from '../core/time.js';
import { transformWarnings } from '../transform/config-warnings.js';
import { createPrometheusClient, type Pipeline } from '../pipeline/pipeline.js';
import type { QueryRunResult, TimeRange } from '../pipeline/run-query.js';
import { redactedStream } from '../core/redact.js';
import { runDaemon } from '../daemon/daemon.js';
import { runChecks } from './check.js';
import { planBackfill } from '../pipeline/backfill-plan.js';
import { BackfillProgress } from '../pipeline/backfill-progress.js';
import { resumeBackfill } from '../pipeline/backfill-resume.js';
import { EXIT } from './exit-codes.js';
import { closestMatch } from '../config/suggest.js';
import {
  withCommonOptions,
  rejectSummaryWithoutDryRun,
  type CommonOptions,
} from './common-options.js';
import type { CliIo } from './io.js';
import { loadConfig } from './load-config.js';
import { runLogger } from './run-logger.js';
import { runPipeline, type RunPlan } from './run-pipeline.js';
import { onHangup, onStopSignals } from './signals.js';
import { writeSummary } from './write-summary.js';

export type { CliIo } from './io.js';

type BackfillOptions = CommonOptions & {
  from: string;
  to: string;
  query: string[];
  plan?: boolean;
  fresh?: boolean;
  /** false with --no-progress. */
  progress: boolean;
  progressInterval: string;
};

/** Runs the CLI and resolves to the process exit code (see exit-codes.ts); never throws. */
export async function main(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const ctx: CliIo = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
    now: io.now ?? Date.now,
  };
  let exitCode: number = EXIT.OK;
  const program = buildProgram(ctx, (code) => (exitCode = code));
  // A reader that stops early (`| head`) only ends the output; the run goes on.
  const ignoreClosedOutput = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE') throw err;
  };
  ctx.stdout.on('error', ignoreClosedOutput);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    return reportFatal(ctx, err);
  } finally {
    ctx.stdout.off('error', ignoreClosedOutput);
  }
}

function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('promflux')
    .description('Moves health metrics from Prometheus into InfluxDB.')
    .version(VERSION)
    .exitOverride()
    // Root options (--once, --config) only before a subcommand, so `backfill --config` is backfill's.
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)')
    // `promflux help [command]`: the root's own action would otherwise hide commander's.
    .helpCommand(true)
    // Operands reach the root action only when they name no command: reported there as unknown.
    .allowExcessArguments();

  withCommonOptions(program)
    .option('--once', 'run one cycle over the last interval and exit (same as `run --once`)')
    .action(async (opts: CommonOptions & { once?: boolean }) => {
      const [word] = program.args;
      if (word !== undefined) {
        const names = [...program.commands.map((c) => c.name()), 'help'];
        const guess = closestMatch(word, names);
        program.error(
          `error: unknown command '${word}'${guess ? `, did you mean ${guess}?` : ''} ` +
            `(commands: ${names.join(', ')})`,
          { exitCode: EXIT.USAGE, code: 'commander.unknownCommand' },
        );
      }
      if (!opts.once) {
        program.outputHelp();
        setExit(EXIT.USAGE);
        return;
      }
      setExit(await runOnce(io, opts));
    });

  withCommonOptions(program.command('run'))
    .description(
      'run a cycle every interval_seconds, each from the watermark of every query to now - delay; ' +
        'with --once, one cycle over [now - interval_seconds, now - delay]',
    )
    .option('--once', 'run one cycle and exit')
    .action(async (opts: CommonOptions & { once?: boolean }) => {
      if (opts.once) setExit(await runOnce(io, opts));
      else setExit(await runDaemonCommand(io, opts));
    });

  withCommonOptions(program.command('backfill'))
    .description('run the pipeline over a historical range')
    .requiredOption(
      '--from <time>',
      'start: RFC 3339, unix seconds, or now-<duration> (e.g. now-24h)',
    )
    .requiredOption('--to <time>', 'end (inclusive), same forms; e.g. now')
    .addOption(
      new Option('--query <name>', 'only this query (repeatable)').argParser(collect).default([]),
    )
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
      setExit(await runBackfill(io, opts));
    });

  program
    .command('check-config')
    .description('validate the configuration file and exit (0 valid, 2 invalid)')
    .option('-c, --config <file>', 'config file')
    .action(async (opts: { config?: string }) => {
      const { config, path, warnings } = await loadConfig(io, opts.config);
      for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
      for (const w of transformWarnings(config)) io.stderr.write(`warning: ${w}\n`);
      io.stdout.write(
        `${path}: valid. ${config.extract.queries.length} queries: ` +
          `${config.extract.queries.map((q) => q.name).join(', ')}.\n`,
      );
      setExit(EXIT.OK);
    });

  program
    .command('check')
    .description(
      'check connectivity: Prometheus ready + build info; InfluxDB reachable, authenticated, target exists',
    )
    .option('-c, --config <file>', 'config file')
    .action(async (opts: { config?: string }) => {
      const { config, redactor } = await loadConfig(io, opts.config);
      const logger = createLogger({ level: 'warn', redactor });
      const ok = await runChecks(config, logger, redactedStream(io.stdout, redactor));
      setExit(ok ? EXIT.OK : EXIT.FAILURE);
    });

  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function runOnce(io: CliIo, opts: CommonOptions): Promise<number> {
  const now = io.now();
  return runPipeline(io, opts, (config) => ({
    queries: config.extract.queries,
    rangeFor: () => ({
      startMs: now - config.pipeline.intervalSeconds * 1000,
      endMs: now - config.pipeline.delayMs,
    }),
    failureHint: (q, r) =>
      '--once keeps no watermark, so nothing retries the rest: run ' +
      `\`promflux backfill --query ${q.name} --from ${toRfc3339(r.startMs)} --to ${toRfc3339(r.endMs)}\`` +
      ', or `promflux run`, which retries until it is written',
    explainResults: (pipeline, results, out) => explainEmptyRuns(pipeline, results, config, out),
  }));
}

async function runBackfill(io: CliIo, opts: BackfillOptions): Promise<number> {
  const now = io.now();
  const range: TimeRange = {
    startMs: parseTimeMs(opts.from, now),
    endMs: parseTimeMs(opts.to, now),
  };
  if (range.endMs < range.startMs) {
    throw new UsageError(
      `--to (${toRfc3339(range.endMs)}) is before --from (${toRfc3339(range.startMs)}).`,
    );
  }
  if (opts.plan) return printBackfillPlan(io, opts, range);
  const logIntervalMs = parseDurationMs(opts.progressInterval);
  if (logIntervalMs === undefined || logIntervalMs <= 0) {
    throw new UsageError(
      `--progress-interval "${opts.progressInterval}" is not a positive duration (e.g. 10s, 1m).`,
    );
  }
  return runPipeline(io, opts, async (config) => {
    const queries = selectQueries(config, opts.query);
    if (opts.dryRun)
      return { queries, rangeFor: () => range, failureHint: () => 'nothing was written' };
    const resume = await resumeBackfill(config, queries, range, opts.fresh === true, (line) =>
      io.stderr.write(`${line}\n`),
    );
    const plan: RunPlan = {
      ...resume,
      failureHint: (_q, r) =>
        `run the same backfill again to resume from ${toRfc3339(r.startMs)}, after what was acknowledged`,
    };
    if (!opts.progress) return plan;
    const progress = new BackfillProgress(
      plan.queries.map((q) => ({ name: q.name, range: plan.rangeFor(q), stepMs: q.stepMs })),
      io.now(),
    );
    return {
      ...plan,
      onAck: (q, ackedThroughMs) => {
        plan.onAck?.(q, ackedThroughMs);
        progress.ack(q.name, ackedThroughMs);
      },
      progress: { tracker: progress, logIntervalMs },
    };
  });
}

async function printBackfillPlan(
  io: CliIo,
  opts: CommonOptions & { query: string[] },
  range: TimeRange,
): Promise<number> {
  const { config } = await loadConfig(io, opts.config);
  const queries = selectQueries(config, opts.query);
  const client = createPrometheusClient(config.extract);
  try {
    io.stdout.write(
      `Backfill plan ${toRfc3339(range.startMs)} .. ${toRfc3339(range.endMs)} (nothing is run):\n`,
    );
    for (const query of queries) {
      const series = await client.countSeries(query.expr, range.endMs);
      const plan = planBackfill(range, query.stepMs, series, config.extract);
      io.stdout.write(
        `  ${query.name}: ${plan.points} points a series, ` +
          `${series === undefined ? 'unknown number of' : series} series` +
          ` → ${plan.samples === undefined ? '?' : plan.samples} samples in ${plan.chunks.length} ` +
          `request${plan.chunks.length === 1 ? '' : 's'}\n`,
      );
      for (const chunk of plan.chunks.slice(0, 3)) {
        io.stdout.write(`      ${toRfc3339(chunk.startMs)} .. ${toRfc3339(chunk.endMs)}\n`);
      }
      if (plan.chunks.length > 3) io.stdout.write(`      ... ${plan.chunks.length - 3} more\n`);
    }
    return EXIT.OK;
  } finally {
    client.close();
  }
}

function selectQueries(config: PromfluxConfig, names: string[]): QueryConfig[] {
  const all = config.extract.queries;
  const unknown = names.filter((name) => !all.some((q) => q.name === name));
  if (unknown.length > 0) {
    throw new UsageError(
      `Unknown --query ${unknown.map((n) => `"${n}"`).join(', ')}; configured: ${all.map((q) => q.name).join(', ')}.`,
    );
  }
  return names.length > 0 ? all.filter((q) => names.includes(q.name)) : all;
}

/**
 * For each query that found no samples, one line saying why, as far as Prometheus can tell: the
 * series exist now but are younger than the range (its end is `delay` ago), or they exist not at all.
 */
async function explainEmptyRuns(
  pipeline: Pipeline,
  results: readonly QueryRunResult[],
  config: PromfluxConfig,
  out: Writable,
): Promise<void> {
  for (const r of results) {
    if (r.error !== undefined || r.samples > 0) continue;
    const query = config.extract.queries.find((q) => q.name === r.query);
    if (!query) continue;
    const nowMs = r.range.endMs + config.pipeline.delayMs;
    const series = await pipeline.client.countSeries(query.expr, nowMs);
    if (series === undefined) continue;
    const delay = formatDuration(config.pipeline.delayMs);
    out.write(
      series > 0
        ? `  note: ${r.query} has ${series} series now, but no sample before the range ended ` +
            `(${toRfc3339(r.range.endMs)}, pipeline.delay ${delay} ago): the data is newer than ` +
            'the range; run again later, or lower pipeline.delay.\n'
        : `  note: ${r.query} selects no series, in the range or now: check the query and that ` +
            'Prometheus scrapes its targets.\n',
    );
  }
}

async function runDaemonCommand(io: CliIo, opts: CommonOptions): Promise<number> {
  rejectSummaryWithoutDryRun(opts);
  if (opts.dryRun)
    throw new UsageError('`promflux run` writes; use --dry-run with --once or backfill.');
  const { config, warnings, redactor } = await loadConfig(io, opts.config);
  const logger = runLogger(config, warnings, redactor);
  const stop = new AbortController();
  const kill = new AbortController();
  let pendingReload: PromfluxConfig | undefined;
  const reload = (): void => {
    loadConfig(io, opts.config).then(
      ({ config: next, warnings: nextWarnings }) => {
        for (const w of nextWarnings) logger.warn(w);
        pendingReload = next;
        logger.info('SIGHUP: the new configuration is valid; it applies from the next cycle.');
      },
      (err: unknown) =>
        logger.error(
          { err: describeError(err) },
          'SIGHUP: the new configuration is invalid and was rejected; the running one stays.',
        ),
    );
  };
  const offHangup = onHangup(reload);
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) kill.abort();
    else {
      logger.info({ signal }, 'Received a stop signal.');
      stop.abort();
    }
  };
  const offStop = onStopSignals(onSignal);
  try {
    await runDaemon({
      config,
      logger,
      redactor,
      stop: stop.signal,
      kill: kill.signal,
      takeReload: () => {
        const next = pendingReload;
        pendingReload = undefined;
        return next;
      },
      onResult: (r) => {
        if (opts.json)
          writeSummary(io.stdout, r, {
            json: true,
            redactor,
            context: { deadLetterPath: config.load.deadLetterPath },
          });
      },
    });
    logger.info('Stopped.');
    return EXIT.OK;
  } catch (err) {
    logger.error({ err: describeError(err) }, 'The daemon stopped on an error.');
    io.stderr.write(`promflux: ${redactor.redact(describeError(err))}\n`);
    return EXIT.FAILURE;
  } finally {
    offStop();
    offHangup();
  }
}

function reportFatal(io: CliIo, err: unknown): number {
  if (err instanceof ConfigError) {
    io.stderr.write(`promflux: ${err.message}\n`);
    return EXIT.USAGE;
  }
  if (err instanceof UsageError) {
    io.stderr.write(`promflux: ${err.message}\n`);
    return EXIT.USAGE;
  }
  const text = describeError(err);
  io.stderr.write(`promflux: ${io.redactor ? io.redactor.redact(text) : text}\n`);
  return EXIT.FAILURE;
}
