import type { TransformConfig } from '../config/types.js';
import { storedSeriesQuery, type StoredSeriesReader } from '../extract/influxdb/index.js';
import type { TierContents, VerifyCheck } from './verify.js';
import { storedTags, WindowTable, type FieldValues } from './verify-windows.js';

/**
 * What a tier holds for a check, read back with the stored-series reader (InfluxQL on 1.x, Flux
 * on 2.x): a raw tier's points counted and summed per window, a rollup tier's fields per window.
 * Only the query's series (its `metric_type`) in the check's range are read.
 */
export class StoredTierContents implements TierContents {
  constructor(
    private readonly reader: Pick<StoredSeriesReader, 'read'>,
    private readonly transform: TransformConfig,
  ) {}

  async read(check: VerifyCheck, signal?: AbortSignal): Promise<WindowTable> {
    const table = new WindowTable(check.windowMs);
    const raw = check.kind === 'raw';
    const range = raw
      ? { fromMs: check.points.startMs, toMs: check.points.endMs + 1 }
      : check.windows;
    const query = storedSeriesQuery(
      check.query,
      this.transform,
      check.tier,
      range,
      raw ? undefined : check.kind,
    );
    for await (const chunk of this.reader.read(query, signal)) {
      for (const series of chunk.series) {
        const tags = storedTags(Object.entries(series.tags), false);
        const ts = series.timestampsMs;
        for (let i = 0; i < ts.length; i++) {
          if (raw) {
            const v = series.fields[0]![i]!;
            if (!Number.isNaN(v)) table.addPoint(tags, ts[i]!, v);
            continue;
          }
          const fields: FieldValues = {};
          let present = false;
          query.fields.forEach((name, f) => {
            const v = series.fields[f]![i]!;
            if (Number.isNaN(v)) return;
            fields[name] = v;
            present = true;
          });
          if (present) Object.assign(table.window(tags, ts[i]!), fields);
        }
      }
    }
    return table;
  }
}
