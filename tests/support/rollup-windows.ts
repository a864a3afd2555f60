/**
 * Gauge rollup windows of the health fixture on both ends, in one comparable form
 * (`series@start` → fields): what a retention policy of InfluxDB 1.x holds, and the reference
 * rollup of what Prometheus answers on the grid. For the daemon and tier tests.
 */
import { expect } from 'vitest';
import type { InfluxV1Server } from '../../scripts/lib/servers.js';
import { finiteSamples, prometheusRange } from './prometheus-range.js';
import { addToWindow, type ReferenceWindow } from './rollup-reference.js';

export const GAUGE_FIELDS = ['count', 'sum', 'min', 'max', 'last', 'mean'] as const;

/** One rollup window of one series: `series@start` → fields. */
export type Windows = Map<string, Record<string, number>>;

/** A series' identity from the labels that stay tags of the same name in InfluxDB. */
export function healthSeriesId(labels: Record<string, string>): string {
  return ['instance', 'method', 'status'].map((k) => labels[k] ?? '').join('|');
}

/** Every window `db.rp` holds for a query (`metric_type`); a window held twice fails the test. */
export async function influxWindows(
  influx: InfluxV1Server,
  db: string,
  rp: string,
  query: string,
): Promise<Windows> {
  const fields = GAUGE_FIELDS.map((f) => `value_${f}`).join(', ');
  const res = await influx.query(
    `SELECT ${fields} FROM "${db}"."${rp}"."health_metrics" WHERE metric_type = '${query}' GROUP BY *`,
    db,
    { epoch: 'ms' },
  );
  const windows: Windows = new Map();
  for (const series of res.results[0]?.series ?? []) {
    const id = healthSeriesId(series.tags ?? {});
    for (const row of series.values ?? []) {
      const [time, ...values] = row as number[];
      const key = `${id}@${time}`;
      expect(windows.has(key), `${rp} ${key} twice`).toBe(false);
      windows.set(key, Object.fromEntries(GAUGE_FIELDS.map((f, i) => [f, values[i]!])));
    }
  }
  return windows;
}

/** The reference windows of length `r` in [fromMs, toMs) of `expr`, from Prometheus' grid points. */
export async function prometheusWindows(
  prometheusUrl: string,
  expr: string,
  stepMs: number,
  r: number,
  fromMs: number,
  toMs: number,
): Promise<Windows> {
  const windows = new Map<string, ReferenceWindow>();
  const series = await prometheusRange(prometheusUrl, expr, {
    startMs: fromMs,
    endMs: toMs - stepMs,
    stepMs,
  });
  for (const block of series) {
    const id = healthSeriesId(block.labels);
    for (const { timestampMs, value } of finiteSamples(block)) {
      addToWindow(windows, `${id}@${timestampMs - (timestampMs % r)}`, value);
    }
  }
  return windows;
}
