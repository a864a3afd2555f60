import type { PromfluxConfig } from '../../config/types.js';
import { UsageError, describeError } from '../../core/errors.js';
import { runDaemon } from '../../daemon/daemon.js';
import { rejectSummaryWithoutDryRun, type CommonOptions } from '../common-options.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { loadConfig } from '../load-config.js';
import { runLogger } from '../run-logger.js';
import { provisionAtStart } from '../provision-at-start.js';
import { onHangup, onStopSignals } from '../signals.js';
import { writeSummary } from '../write-summary.js';

/**
 * Runs the daemon until a stop signal (a second one kills the cycle in flight). SIGHUP loads the
 * configuration again; a valid one applies from the next cycle, an invalid one is logged.
 */
export async function runDaemonCommand(io: CliIo, opts: CommonOptions): Promise<number> {
  rejectSummaryWithoutDryRun(opts);
  if (opts.dryRun)
    throw new UsageError('`promflux run` writes; use --dry-run with --once or backfill.');
  const { config, warnings, redactor } = await loadConfig(io, opts.config);
  const logger = runLogger(config, warnings, redactor);
  await provisionAtStart(config, logger);
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
  const offStop = onStopSignals((signal) => {
    if (stop.signal.aborted) kill.abort();
    else {
      logger.info({ signal }, 'Received a stop signal.');
      stop.abort();
    }
  });
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
