import type { PromfluxConfig, QueryConfig } from '../config/types.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { redactUrl } from '../core/redact.js';
import {
  blockTimestamps,
  blockValues,
  firstIndexAtOrAfter,
  type SeriesBlock,
} from '../core/series.js';
import { toRfc3339 } from '../core/time.js';
import { VERSION } from '../core/version.js';
import { ContinuousDataset, type ContinuousQuery } from '../export/continuous-dataset.js';
import { LongLayoutWriter } from '../export/long-layout.js';
import { configHash } from '../export/manifest.js';
import type { WrittenFile } from '../export/row-group.js';
import { queryFingerprint, type WatermarkStore } from '../state/watermark-store.js';
import type { Pipeline } from './pipeline.js';
import { runQuery, type SeriesSink } from './run-query.js';
import {
  extractionRange,
  nextEmission,
  tierStateKey,
  type Emission,
  type HalfOpenRange,
} from './windows.js';

/** Continuous export writes one file per query per hour: the window primitive with R = 1h. */
export const EXPORT_RESOLUTION_MS = 3_600_000;
export const EXPORT_TIER = 'export';

/** Where a query's export watermark (end of its last exported hour) is kept. */
export function exportStateKey(query: Pick<QueryConfig, 'name' | 'stepMs'>): string {
  return tierStateKey({
    query: query.name,
    tier: EXPORT_TIER,
    stepMs: query.stepMs,
    resolutionMs: EXPORT_RESOLUTION_MS,
  });
}

export interface ExportPlanInput {
  nowMs: number;
  pipeline: Pick<
    PromfluxConfig['pipeline'],
    'delayMs' | 'latenessMs' | 'initialLookbackMs' | 'maxCatchupMs'
  >;
  stepMs: number;
  /** End of the query's last exported hour; undefined when it has none. */
  watermarkMs: number | undefined;
}

/**
 * The hours due for export: every whole hour after the watermark that ends by
 * `now - delay - lateness`, and what to extract for them. A query without a watermark starts with
 * the last complete hour, or further back by `initial_lookback`. Hours are written once:
 * `rewrite_windows` does not apply (a dataset file may have been read already).
 */
export function planExportHours(input: ExportPlanInput): Emission | undefined {
  return nextEmission({
    nowMs: input.nowMs,
    delayMs: input.pipeline.delayMs,
    latenessMs: input.pipeline.latenessMs,
    stepMs: input.stepMs,
    resolutionMs: EXPORT_RESOLUTION_MS,
    watermarkMs: input.watermarkMs,
    rewriteWindows: 0,
    initialLookbackMs: input.pipeline.initialLookbackMs,
    maxCatchupMs: input.pipeline.maxCatchupMs,
  });
}

/** What the daemon's metrics hear of the export. */
export interface ExportObserver {
  onWatermark(query: string, endMs: number): void;
  onFiles(query: string, files: readonly WrittenFile[]): void;
}

export interface ExportCycleContext {
  nowMs: number;
  logger: Logger;
  /** Abandons the export run in flight. */
  signal?: AbortSignal;
  /** Starts no further query once aborted (a graceful stop). */
  stop?: AbortSignal;
  observer?: ExportObserver;
}

/**
 * `load.export`: after each daemon cycle, every hour that became complete is extracted and
 * transformed as in every mode (runQuery, with a series sink instead of the InfluxDB sinks) and
 * written as one file per query, named by the hour. Each query has its own watermark in the
 * daemon's store, moved past an hour only once the hour's files are in place and the manifest
 * lists them.
 */
export class ContinuousExporter {
  private dataset: ContinuousDataset | undefined;
  private datasetKey = '';

  /** One export pass; false when a query could not be exported (retried next cycle). */
  async cycle(
    pipeline: Pipeline,
    store: WatermarkStore,
    ctx: ExportCycleContext,
  ): Promise<boolean> {
    const { config } = pipeline;
    const settings = config.load.export;
    if (!settings) return true;
    const log = ctx.logger.child({ component: 'export' });
    let dataset: ContinuousDataset;
    try {
      dataset = await this.open(config);
    } catch (err) {
      log.error(
        { err: describeError(err) },
        'Continuous export cannot use its directory; nothing is exported until that is fixed.',
      );
      return false;
    }
    const configSha256 = configHash({
      queries: config.extract.queries,
      transform: config.transform,
    });
    let ok = true;
    for (const query of config.extract.queries) {
      if (ctx.signal?.aborted || ctx.stop?.aborted) break;
      const key = exportStateKey(query);
      const fingerprint = queryFingerprint(query);
      const state = store.get(key);
      const watermarkMs = state?.fingerprint === fingerprint ? state.watermarkMs : undefined;
      if (watermarkMs !== undefined) ctx.observer?.onWatermark(query.name, watermarkMs);
      const named = continuousQuery(query);
      const problem = dataset.queryProblem(named);
      if (problem !== undefined) {
        log.error({ query: query.name }, problem);
        ok = false;
        continue;
      }
      const plan = planExportHours({
        nowMs: ctx.nowMs,
        pipeline: config.pipeline,
        stepMs: query.stepMs,
        watermarkMs,
      });
      if (!plan) continue;
      if (plan.gap) {
        log.error(
          { query: query.name, from: toRfc3339(plan.gap.fromMs), to: toRfc3339(plan.gap.toMs) },
          'Export hours older than max_catchup are skipped: no files for them (run promflux export for that range).',
        );
      }
      const failed = await this.exportHours(pipeline, dataset, query, plan.windows, {
        ...ctx,
        logger: log,
        onComplete: async (hourMs, files, requests) => {
          await dataset.save({
            configSha256,
            version: VERSION,
            createdAt: new Date().toISOString(),
          });
          const toMs = hourMs + EXPORT_RESOLUTION_MS;
          store.set(key, { watermarkMs: toMs, fingerprint });
          ctx.observer?.onFiles(query.name, files);
          ctx.observer?.onWatermark(query.name, toMs);
          log.info(
            {
              query: query.name,
              hour: toRfc3339(hourMs),
              files: files.map((f) => f.path),
              requests,
            },
            'Exported a complete hour.',
          );
        },
      });
      if (failed) ok = false;
    }
    return ok;
  }

  /**
   * Each hour of `windows` in turn, one query run per hour (over `[h - step, h + 1h - step]`), so
   * that an hour's chunks, and so the order of its rows and its bytes, do not depend on where a
   * run started. Stops at the first hour that fails; true when one did.
   */
  private async exportHours(
    pipeline: Pipeline,
    dataset: ContinuousDataset,
    query: QueryConfig,
    windows: HalfOpenRange,
    ctx: ExportCycleContext & {
      /** `requests`: the range requests the hour took (its chunks). */
      onComplete: (
        hourMs: number,
        files: readonly WrittenFile[],
        requests: number,
      ) => Promise<void>;
    },
  ): Promise<boolean> {
    const { config } = pipeline;
    for (let hourMs = windows.fromMs; hourMs < windows.toMs; hourMs += EXPORT_RESOLUTION_MS) {
      if (ctx.signal?.aborted || ctx.stop?.aborted) return false;
      const hour = { fromMs: hourMs, toMs: hourMs + EXPORT_RESOLUTION_MS };
      const files = new HourFiles(dataset, query, hour, config.load.export!.format);
      const result = await runQuery(pipeline.client, [], {
        query,
        range: extractionRange(hour, query.stepMs),
        extract: config.extract,
        transform: config.transform,
        batchSize: config.load.influxdb.batchSize,
        maxWritesInFlight: 1,
        signal: ctx.signal,
        logger: ctx.logger,
        seriesSink: files,
        failureHint: () => 'the hour is exported again next cycle',
      });
      // runQuery logged its own failure.
      let failed = result.error !== undefined;
      if (!failed) {
        try {
          await ctx.onComplete(hourMs, await files.place(), result.chunks);
        } catch (err) {
          ctx.logger.error({ query: query.name, err: describeError(err) }, 'Export failed.');
          failed = true;
        }
      }
      if (failed) {
        await files.abort();
        return true;
      }
    }
    return false;
  }

  private async open(config: PromfluxConfig): Promise<ContinuousDataset> {
    const { dir, format } = config.load.export!;
    const { index, count } = config.pipeline.shard;
    const manifestName = count > 1 ? `manifest-shard-${index}-of-${count}.json` : undefined;
    const key = JSON.stringify([dir, format, manifestName]);
    if (!this.dataset || this.datasetKey !== key) {
      this.dataset = await ContinuousDataset.open({
        dir,
        format,
        sourceUrl: redactUrl(config.extract.endpoint.url),
        ...(manifestName !== undefined && { manifestName }),
      });
      this.datasetKey = key;
    }
    return this.dataset;
  }
}

function continuousQuery(query: QueryConfig): ContinuousQuery {
  return { name: query.name, expr: query.expr, step_ms: query.stepMs };
}

/**
 * The series sink of one hour's export run: samples in `[fromMs, toMs)` go to the hour's file
 * (the point one step before, which the extraction includes, is left out); `place` renames it
 * into place and records it in the dataset.
 */
class HourFiles implements SeriesSink {
  private readonly writer: LongLayoutWriter;
  private readonly keys = new Map<readonly [string, string][], string>();
  private readonly series = new Set<string>();

  constructor(
    private readonly dataset: ContinuousDataset,
    private readonly query: QueryConfig,
    private readonly hour: HalfOpenRange,
    format: 'parquet' | 'csv',
  ) {
    this.writer = new LongLayoutWriter({
      dir: dataset.dir,
      query: query.name,
      format,
      createdBy: `promflux ${VERSION}`,
      periodMs: EXPORT_RESOLUTION_MS,
      nameByPeriod: true,
    });
  }

  async add(tags: readonly [string, string][], block: SeriesBlock): Promise<void> {
    const ts = blockTimestamps(block);
    const start = firstIndexAtOrAfter(ts, this.hour.fromMs);
    const end = firstIndexAtOrAfter(ts, this.hour.toMs);
    if (start === end) return;
    let key = this.keys.get(tags);
    if (key === undefined) {
      key = JSON.stringify([...tags].sort());
      this.keys.set(tags, key);
      this.series.add(key);
    }
    await this.writer.add({
      labels: Object.fromEntries(tags),
      timestampsMs: ts.subarray(start, end),
      fields: [blockValues(block).subarray(start, end)],
    });
  }

  endChunk(): Promise<void> {
    return Promise.resolve();
  }

  /** Places the hour's files (none for an hour without samples) and records them. */
  async place(): Promise<WrittenFile[]> {
    const files = await this.writer.finish();
    await this.dataset.putHour(
      continuousQuery(this.query),
      this.hour.fromMs,
      this.hour.toMs,
      files,
      this.series.size,
    );
    return files;
  }

  /** Removes the hour's temporary files. */
  async abort(): Promise<void> {
    await this.writer.abort();
  }
}
