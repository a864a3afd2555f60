import type { FluxTableMetaData, InfluxDB } from '@influxdata/influxdb-client';

import { PromfluxError } from '../../core/errors.js';
import { isHttpError } from '../../core/influx-http.js';
import { StoredSeriesCollector, type CollectedSeries } from './series-columns.js';
import { StoredReadError } from './read-error.js';
import type { StoredSeries, StoredSeriesQuery } from './stored-series.js';

/** A Flux string literal. */
export function fluxString(text: string): string {
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\$\{/g, '\\${')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
  return `"${escaped}"`;
}

/** A Flux record member (`r["metric_type"]`). */
function member(name: string): string {
  return `r[${fluxString(name)}]`;
}

/**
 * The Flux query for one time chunk: the bucket, `range` (half-open, as Flux's is), the
 * measurement, the `where` tags and the fields. The answer is one table per series and field.
 */
export function fluxSelect(
  query: StoredSeriesQuery,
  chunk: { fromMs: number; toMs: number },
): string {
  const tags = Object.entries(query.where)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([tag, value]) => ` and ${member(tag)} == ${fluxString(value)}`)
    .join('');
  const fields = query.fields.map((f) => `r._field == ${fluxString(f)}`).join(' or ');
  return [
    `from(bucket: ${fluxString(query.bucket)})`,
    `  |> range(start: ${new Date(chunk.fromMs).toISOString()}, stop: ${new Date(chunk.toMs).toISOString()})`,
    `  |> filter(fn: (r) => r._measurement == ${fluxString(query.measurement)}${tags})`,
    `  |> filter(fn: (r) => ${fields})`,
  ].join('\n');
}

/** Annotated CSV columns that are not tags. */
const SYSTEM_COLUMNS = new Set([
  '',
  'result',
  'table',
  '_start',
  '_stop',
  '_time',
  '_value',
  '_field',
  '_measurement',
]);

export interface FluxConnection {
  client: InfluxDB;
  org: string;
  /** Sent with each query besides the client's own (an `Authorization` when there is no token). */
  headers: Record<string, string>;
  displayUrl: string;
  redact: (text: string) => string;
}

/** Where the columns of one annotated CSV block are. */
interface Layout {
  table: number;
  time: number;
  value: number;
  field: number;
  tags: { name: string; index: number }[];
}

/**
 * Reads one chunk through the client library's QueryApi (annotated CSV, streamed row by row).
 * Rows of one table share their series: its tags are read once per table.
 */
export async function readFluxChunk(
  conn: FluxConnection,
  query: StoredSeriesQuery,
  chunk: { fromMs: number; toMs: number },
  signal?: AbortSignal,
): Promise<StoredSeries[]> {
  const api = conn.client.getQueryApi({ org: conn.org, gzip: false, headers: conn.headers });
  const collector = new StoredSeriesCollector(query.fields.length);
  const fieldIndex = new Map(query.fields.map((f, i) => [f, i]));
  const layouts = new WeakMap<FluxTableMetaData, Layout>();
  let lastMeta: FluxTableMetaData | undefined;
  let lastTable: string | undefined;
  let series: CollectedSeries | undefined;
  let field = -1;
  try {
    for await (const { values, tableMeta } of api.iterateRows(fluxSelect(query, chunk))) {
      if (signal?.aborted) throw new PromfluxError('ABORTED', 'Reading stored series was aborted.');
      let layout = layouts.get(tableMeta);
      if (!layout) {
        layout = layoutOf(tableMeta);
        layouts.set(tableMeta, layout);
      }
      const table = values[layout.table];
      if (tableMeta !== lastMeta || table !== lastTable) {
        lastMeta = tableMeta;
        lastTable = table;
        const tags: Record<string, string> = {};
        for (const t of layout.tags) tags[t.name] = values[t.index] ?? '';
        series = collector.seriesFor(tags);
        field = fieldIndex.get(values[layout.field] ?? '') ?? -1;
      }
      if (field < 0) continue;
      collector.add(series!, field, Date.parse(values[layout.time]!), Number(values[layout.value]));
    }
  } catch (err) {
    if (isHttpError(err)) {
      throw StoredReadError.fromStatus(
        err.statusCode,
        { text: err.body ?? err.message, headers: err.headers ?? {} },
        conn,
        query,
      );
    }
    throw StoredReadError.wrap(err, conn);
  }
  return collector.build();
}

function layoutOf(meta: FluxTableMetaData): Layout {
  const at = (label: string): number => {
    const column = meta.columns.find((c) => c.label === label);
    if (!column) {
      throw new StoredReadError(
        'RESPONSE_MALFORMED',
        `The Flux answer has no ${label} column (columns: ${meta.columns.map((c) => c.label).join(', ')}).`,
      );
    }
    return column.index;
  };
  return {
    table: at('table'),
    time: at('_time'),
    value: at('_value'),
    field: at('_field'),
    tags: meta.columns
      .filter((c) => !SYSTEM_COLUMNS.has(c.label))
      .map((c) => ({ name: c.label, index: c.index })),
  };
}
