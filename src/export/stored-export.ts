import type { QueryConfig, TierConfig, TransformConfig } from '../config/types.js';
import { PromfluxError } from '../core/errors.js';
import { bareSelectorMetric, decideKind, rollupFieldNames } from '../core/metric-kind.js';
import type {
  StoredChunk,
  StoredSeries,
  StoredSeriesQuery,
  StoredSeriesReader,
} from '../extract/influxdb/index.js';
import type { DatasetExport } from './dataset-export.js';

/**
 * The value columns a query's export from a tier may have, most likely first: `value` (the
 * query's field) for a raw tier; a rollup tier's fields for the query's kind. When that kind was
 * decided by Prometheus' metadata (`kind: auto` on a bare selector of a fixed metric), the
 * metadata may have said otherwise than the name's suffix, so both kinds are candidates and the
 * stored points tell.
 */
export function storedColumnOptions(
  query: QueryConfig,
  transform: TransformConfig,
  tier: TierConfig,
): string[][] {
  const field = query.field ?? transform.field;
  if (tier.resolutionMs === undefined) return [[field]];
  const setting = query.kind ?? 'auto';
  const decision = decideKind(query.name, query.expr, setting, undefined);
  if (decision.error !== undefined) throw new PromfluxError('CONFIG_INVALID', decision.error);
  const likely = rollupFieldNames(decision.kind, field);
  if (setting !== 'auto' || bareSelectorMetric(query.expr)?.name === undefined) return [likely];
  const other = rollupFieldNames(decision.kind === 'gauge' ? 'counter' : 'gauge', field);
  return [likely, other];
}

/** Every field of the options, once, in order of appearance: what is read from storage. */
export function fieldsToRead(options: readonly (readonly string[])[]): string[] {
  return [...new Set(options.flat())];
}

/**
 * The option whose every field the series' first point holds (a rollup window has all the fields
 * of its kind), as indexes into `read`; undefined when none fits.
 */
export function columnsOf(
  options: readonly (readonly string[])[],
  read: readonly string[],
  series: StoredSeries,
): number[] | undefined {
  for (const option of options) {
    const indexes = option.map((f) => read.indexOf(f));
    if (indexes.every((i) => !Number.isNaN(series.fields[i]![0]!))) return indexes;
  }
  return undefined;
}

export interface StoredQueryExport {
  reader: StoredSeriesReader;
  dataset: DatasetExport;
  /** The query's name in the dataset (its `query` column and directory). */
  name: string;
  /** The dataset's grid step for the query (the wide layout's). */
  stepMs: number;
  stored: Omit<StoredSeriesQuery, 'fields'>;
  /** From {@link storedColumnOptions}. */
  options: readonly (readonly string[])[];
  signal?: AbortSignal;
  /** After each chunk is in the dataset (progress). */
  onChunk?: (chunk: StoredChunk, points: number) => void;
}

/**
 * Streams one query's stored series into the dataset, chunk by chunk; the query's writers open
 * once its value columns are known (at the first stored point when the kind is to be told).
 */
export async function exportStoredQuery(opts: StoredQueryExport): Promise<void> {
  const { dataset, name, options } = opts;
  const read = fieldsToRead(options);
  let columns: number[] | undefined;
  const start = (indexes: number[]): number[] => {
    dataset.startQuery(
      name,
      opts.stepMs,
      indexes.map((i) => read[i]!),
    );
    return indexes;
  };
  if (options.length === 1) columns = start(options[0]!.map((_, i) => i));
  for await (const chunk of opts.reader.read({ ...opts.stored, fields: read }, opts.signal)) {
    let points = 0;
    for (const series of chunk.series) {
      if (!columns) {
        const fit = columnsOf(options, read, series);
        if (!fit) {
          throw new PromfluxError(
            'RESPONSE_MALFORMED',
            `Query "${name}": the stored point of ${JSON.stringify(series.tags)} at ${new Date(series.timestampsMs[0]!).toISOString()} has none of the field sets ${options.map((o) => o.join(',')).join(' or ')}.`,
          );
        }
        columns = start(fit);
      }
      const fields = columns.map((i) => series.fields[i]!);
      await dataset.addSeries(name, {
        labels: series.tags,
        timestampsMs: series.timestampsMs,
        fields,
      });
      points += series.timestampsMs.length;
    }
    if (columns) await dataset.endChunk(name, chunk.toMs - 1);
    opts.onChunk?.(chunk, points);
  }
  columns ??= start(options[0]!.map((f) => read.indexOf(f)));
}
