import type { PromfluxConfig, QueryConfig, TierConfig } from '../config/types.js';
import { PromfluxError, UsageError, describeError, isAbortError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import { formatDuration } from '../core/time.js';
import {
  openStoredSeriesReader,
  storedSeriesTarget,
  type StoredSeriesReader,
} from '../extract/influxdb/index.js';
import { exportStoredQuery, storedColumnOptions } from '../export/stored-export.js';
import { BackfillProgress } from '../pipeline/backfill-progress.js';
import { EXIT } from './exit-codes.js';
import { openExport, type ExportRequest } from './export-dataset.js';
import type { CliIo } from './io.js';
import { loadConfig } from './load-config.js';
import { startProgressReporter } from './progress-display.js';
import { runLogger } from './run-logger.js';
import { selectQueries } from './select-queries.js';
import { interruptOnStopSignals, signalExitCode } from './signals.js';

export interface StoredExportOptions {
  config?: string;
  json?: boolean;
  query: string[];
  tier?: string;
  request: ExportRequest;
  /** Shown on a TTY, else logged every `logIntervalMs`; undefined with `--no-progress`. */
  progress: { logIntervalMs: number } | undefined;
}

/** `--tier NAME`, or the first raw tier (required when every tier is a rollup tier). */
export function exportTier(config: PromfluxConfig, name: string | undefined): TierConfig {
  const tiers = config.load.tiers;
  const names = tiers.map((t) => t.name).join(', ');
  if (name === undefined) {
    const raw = tiers.find((t) => t.resolutionMs === undefined);
    if (!raw)
      throw new UsageError(
        `No raw tier is configured, so there is no default tier to read; name one with --tier (${names}).`,
      );
    return raw;
  }
  const tier = tiers.find((t) => t.name === name);
  if (!tier) throw new UsageError(`Unknown --tier "${name}"; configured: ${names}.`);
  return tier;
}

/** The queries named (or all) that write to `tier`; one named that does not is refused. */
export function queriesOfTier(
  config: PromfluxConfig,
  names: string[],
  tier: TierConfig,
): QueryConfig[] {
  const feeds = (q: QueryConfig) => q.tiers === undefined || q.tiers.includes(tier.name);
  const selected = selectQueries(config, names);
  const outside = selected.filter((q) => !feeds(q));
  if (names.length > 0 && outside.length > 0) {
    throw new UsageError(
      `Query ${outside.map((q) => `"${q.name}"`).join(', ')} does not write to tier "${tier.name}" (its tiers: ${outside[0]!.tiers!.join(', ')}).`,
    );
  }
  const queries = selected.filter(feeds);
  if (queries.length === 0) throw new UsageError(`No query writes to tier "${tier.name}".`);
  return queries;
}

/**
 * `promflux export --source influxdb`: what promflux stored in a tier (raw points, or a rollup's
 * windows and their fields), read back query by query in time chunks and written as the same
 * dataset the Prometheus source gives. Resolves to the exit code.
 */
export async function runStoredExport(io: CliIo, opts: StoredExportOptions): Promise<number> {
  const { config, warnings, redactor } = await loadConfig(io, opts.config);
  const tier = exportTier(config, opts.tier);
  const queries = queriesOfTier(config, opts.query, tier);
  const { request } = opts;
  if (tier.resolutionMs !== undefined && request.layout === 'wide') {
    throw new UsageError(
      `Tier "${tier.name}" holds several fields per window; the wide layout holds one value per series: use --layout long.`,
    );
  }
  const columnOptions = new Map(
    queries.map((q) => [q.name, storedColumnOptions(q, config.transform, tier)]),
  );
  const intervalOf = (q: QueryConfig) => tier.resolutionMs ?? q.stepMs;
  const logger = runLogger(config, warnings, redactor);
  const interruption = interruptOnStopSignals(logger);
  const tracker =
    opts.progress &&
    new BackfillProgress(
      queries.map((q) => ({
        name: q.name,
        range: { startMs: request.fromMs, endMs: request.toMs - 1 },
        stepMs: intervalOf(q),
      })),
      io.now(),
    );
  const reporter =
    tracker &&
    startProgressReporter({
      progress: tracker,
      stream: io.stderr,
      logger,
      logIntervalMs: opts.progress!.logIntervalMs,
      now: io.now,
      // The dataset opens after the reporter starts: rows and bytes once it exists.
      kind: {
        message: 'Export progress.',
        written: () => opened?.dataset.written ?? { rows: 0, bytes: 0 },
      },
    });
  let opened: Awaited<ReturnType<typeof openExport>> | undefined;
  let reader: StoredSeriesReader | undefined;
  try {
    reader = await openStoredSeriesReader(config.load.influxdb, {
      redact: (text) => redactor.redact(text),
      buckets: [tier.bucket],
    });
    opened = await openExport(
      io,
      request,
      config,
      queries,
      {
        kind: 'influxdb',
        url: redactUrl(config.load.influxdb.endpoint.url),
        tier: tier.name,
        bucket: tier.bucket,
        ...(tier.resolutionMs !== undefined && { resolution_ms: tier.resolutionMs }),
      },
      Math.max(...queries.map(intervalOf)),
    );
    for (const q of queries) {
      const stored = storedSeriesTarget(q, config.transform, tier, request);
      await exportStoredQuery({
        reader,
        dataset: opened.dataset,
        name: q.name,
        stepMs: intervalOf(q),
        stored,
        options: columnOptions.get(q.name)!,
        signal: interruption.signal,
        onChunk: (chunk, points) => {
          tracker?.addSamples(q.name, points);
          tracker?.ack(q.name, chunk.toMs - 1);
        },
      });
      tracker?.finish(q.name);
    }
    reporter?.stop();
    await opened.complete(io.stdout, opts.json, (exported) => {
      for (const q of queries) {
        const result = exported.get(q.name);
        const rows = result?.files.reduce((n, f) => n + f.rows, 0) ?? 0;
        const record = { query: q.name, tier: tier.name, rows, series: result?.series ?? 0 };
        const windows =
          tier.resolutionMs === undefined ? '' : ` (${formatDuration(tier.resolutionMs)} windows)`;
        io.stdout.write(
          opts.json
            ? `${JSON.stringify(record)}\n`
            : `${q.name}: ${rows} rows of ${record.series} series from tier ${tier.name}${windows}.\n`,
        );
      }
    });
    return EXIT.OK;
  } catch (err) {
    reporter?.stop();
    await opened?.dataset.abort();
    const signalled = interruption.received();
    if (signalled && isAbortError(err)) return signalExitCode(signalled);
    if (err instanceof PromfluxError && (err.code === 'CONFIG_INVALID' || err.code === 'USAGE'))
      throw err;
    const text = redactor.redact(describeError(err));
    logger.error({ err: text }, 'Export failed.');
    io.stderr.write(`promflux: ${text}\n`);
    return EXIT.FAILURE;
  } finally {
    interruption.off();
    await reader?.close();
  }
}
