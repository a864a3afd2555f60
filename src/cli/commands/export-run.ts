import { UsageError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import { parseDurationMs, parseHalfOpenRange } from '../../core/time.js';
import { parseSplitSpec } from '../../export/splits.js';
import { DEFAULT_MAX_COLUMNS } from '../../export/wide-layout.js';
import { BackfillProgress } from '../../pipeline/backfill-progress.js';
import type { TimeRange } from '../../pipeline/run-query.js';
import { openExport, type ExportRequest } from '../export-dataset.js';
import { runStoredExport } from '../export-stored.js';
import type { CliIo } from '../io.js';
import { runPipeline, type RunPlan } from '../run-pipeline.js';
import { selectQueries } from '../select-queries.js';
import type { ExportOptions } from './export.js';

/**
 * The action of `promflux export` (./export.ts), a module of its own so that Arrow and Parquet
 * load only when a command exports.
 */
export async function runExport(io: CliIo, opts: ExportOptions): Promise<number> {
  if (opts.source !== 'prometheus' && opts.source !== 'influxdb') {
    throw new UsageError(`--source "${opts.source}" is unknown; use prometheus or influxdb.`);
  }
  if (opts.tier !== undefined && opts.source !== 'influxdb') {
    throw new UsageError(
      '--tier applies to --source influxdb (Prometheus holds raw samples only).',
    );
  }
  const maxColumns = opts.maxColumns === undefined ? DEFAULT_MAX_COLUMNS : Number(opts.maxColumns);
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
  const { fromMs, toMs } = parseHalfOpenRange(opts.from, opts.to, now);
  if (opts.gap !== undefined && opts.split === undefined) {
    throw new UsageError('--gap only applies to --split.');
  }
  const splitParts = opts.split === undefined ? undefined : parseSplitSpec(opts.split);
  const gapMs = opts.gap === undefined ? undefined : parseDurationMs(opts.gap);
  if (opts.gap !== undefined && gapMs === undefined) {
    throw new UsageError(`--gap "${opts.gap}" is not a duration (e.g. 5m, 1h).`);
  }
  const request: ExportRequest = {
    out: opts.out,
    format: opts.format,
    layout: opts.layout,
    fromMs,
    toMs,
    maxColumns,
    ...(splitParts && { splitParts }),
    ...(gapMs !== undefined && { gapMs }),
    ...(opts.stats && { stats: true }),
  };
  const progress = opts.progress ? { logIntervalMs } : undefined;
  if (opts.source === 'influxdb') {
    return runStoredExport(io, { ...opts, request, progress });
  }
  // The pipeline's ranges are inclusive; timestamps are whole milliseconds.
  const range: TimeRange = { startMs: fromMs, endMs: toMs - 1 };
  return runPipeline(io, opts, async (config) => {
    const queries = selectQueries(config, opts.query);
    const opened = await openExport(
      io,
      request,
      config,
      queries,
      { kind: 'prometheus', url: redactUrl(config.extract.endpoint.url) },
      Math.max(...queries.map((q) => q.stepMs)),
    );
    const { dataset } = opened;
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
        await opened.complete(out, opts.json);
      },
      finish: () => dataset.abort(),
    };
    if (!progress) return plan;
    const tracker = new BackfillProgress(
      queries.map((q) => ({ name: q.name, range, stepMs: q.stepMs })),
      io.now(),
    );
    return {
      ...plan,
      onAck: (q, ackedThroughMs) => tracker.ack(q.name, ackedThroughMs),
      progress: {
        tracker,
        logIntervalMs,
        kind: { message: 'Export progress.', written: () => dataset.written },
      },
    };
  });
}
