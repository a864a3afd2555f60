import type { MetricKind } from '../core/metric-kind.js';
import type { SeriesBlock } from '../core/series.js';
import { toRfc3339 } from '../core/time.js';
import { compareUtf8, storedTagText } from '../transform/line-protocol.js';
import { rollupFieldValues } from '../transform/rollup-lines.js';
import { RollupAccumulator, type RollupSeries } from '../transform/rollup.js';
import type { SeriesSink } from './run-query.js';
import type { HalfOpenRange } from './windows.js';

/**
 * `promflux verify`'s pure core: a tier's content over a range as a table of windows (series →
 * window start → field values), what the table should hold (computed from the clean series the
 * pipeline extracts, as every mode computes it) and the differences between two tables.
 */

/** A window's values by field name. */
export type FieldValues = Record<string, number>;

/** Tags as InfluxDB stores them: sanitised, no empty key or value, sorted by key. */
export type StoredTags = readonly (readonly [string, string])[];

export interface TableSeries {
  tags: StoredTags;
  /** Window start → its fields. */
  windows: Map<number, FieldValues>;
}

/** The windows of one tier and query: every series keyed by its stored tags. */
export class WindowTable {
  readonly series = new Map<string, TableSeries>();

  constructor(
    /** Window length (the tier's resolution, or the raw tier's counting window). */
    readonly windowMs: number,
  ) {}

  /** The window starting at `startMs` of the series with `tags` (created empty when new). */
  window(tags: StoredTags, startMs: number): FieldValues {
    const key = seriesKey(tags);
    let series = this.series.get(key);
    if (!series) {
      series = { tags, windows: new Map() };
      this.series.set(key, series);
    }
    let fields = series.windows.get(startMs);
    if (!fields) {
      fields = {};
      series.windows.set(startMs, fields);
    }
    return fields;
  }

  /** Adds one raw point to its window's `count` and `sum`. */
  addPoint(tags: StoredTags, timeMs: number, value: number): void {
    const fields = this.window(tags, windowStartOf(timeMs, this.windowMs));
    fields.count = (fields.count ?? 0) + 1;
    fields.sum = (fields.sum ?? 0) + value;
  }
}

/**
 * Tags as a series' identity in InfluxDB: keys and values as stored, empty ones left out (InfluxQL's
 * `GROUP BY *` reports a tag a series lacks as ""), sorted by key. `sanitise` is for tags as the
 * transform maps them, before line protocol.
 */
export function storedTags(
  tags: Iterable<readonly [string, string]>,
  sanitise: boolean,
): StoredTags {
  const out: [string, string][] = [];
  for (const [k, v] of tags) {
    const key = sanitise ? storedTagText(k) : k;
    const value = sanitise ? storedTagText(v) : v;
    if (key !== '' && value !== '') out.push([key, value]);
  }
  return out.sort((a, b) => compareUtf8(a[0], b[0]));
}

export function seriesKey(tags: StoredTags): string {
  return JSON.stringify(tags);
}

/** `{k1="v1", k2="v2"}`, as a series is named in a report. */
export function formatTags(tags: StoredTags): string {
  return `{${tags.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
}

function windowStartOf(t: number, windowMs: number): number {
  return t - (((t % windowMs) + windowMs) % windowMs);
}

/** A SeriesSink that also says when the run is over. */
export interface ExpectationSink extends SeriesSink {
  /** Call once every chunk was added; the table is then complete. */
  finish(): WindowTable;
}

/**
 * What a raw tier holds: the count and sum of the clean points per series and window of
 * `windowMs` (the points themselves are the pipeline's, so this is what a backfill wrote).
 */
export function rawExpectation(windowMs: number): ExpectationSink {
  const table = new WindowTable(windowMs);
  return {
    add(tags, block) {
      const stored = storedTags(tags, true);
      forEachPoint(block, (t, v) => table.addPoint(stored, t, v));
      return Promise.resolve();
    },
    endChunk: () => Promise.resolve(),
    finish: () => table,
  };
}

export interface RollupExpectationOptions {
  kind: MetricKind;
  /** The query's field (`value`): fields are `<field>_<aggregate>`. */
  field: string;
  stepMs: number;
  resolutionMs: number;
  /** The whole windows to compute; the series must be extracted from one step before. */
  windows: HalfOpenRange;
}

/**
 * What a rollup tier holds: every window's fields, from the same RollupAccumulator and field
 * names as the pipeline writes them, fed the clean series of `[windows.fromMs - step,
 * windows.toMs)`.
 */
export function rollupExpectation(opts: RollupExpectationOptions): ExpectationSink {
  const table = new WindowTable(opts.resolutionMs);
  const tagsOf = new Map<string, StoredTags>();
  const accumulator = new RollupAccumulator<string>(
    {
      kind: opts.kind,
      stepMs: opts.stepMs,
      resolutionMs: opts.resolutionMs,
      fromMs: opts.windows.fromMs,
    },
    (w) => {
      const fields = table.window(tagsOf.get(w.key)!, w.startMs);
      Object.assign(fields, rollupFieldValues(opts.kind, opts.field, w));
    },
  );
  const open = new Map<string, RollupSeries<string>>();
  return {
    add(tags, block) {
      const stored = storedTags(tags, true);
      const key = seriesKey(stored);
      let series = open.get(key);
      if (!series) {
        series = accumulator.series(key);
        open.set(key, series);
        tagsOf.set(key, stored);
      }
      accumulator.add(series, block);
      return Promise.resolve();
    },
    endChunk(endMs) {
      // Every point up to endMs is in: a window ending right after it is complete.
      accumulator.closeThrough(endMs + 1);
      return Promise.resolve();
    },
    finish() {
      accumulator.closeThrough(opts.windows.toMs);
      return table;
    },
  };
}

function forEachPoint(block: SeriesBlock, f: (t: number, v: number) => void): void {
  const { timestampsMs, values } = block.columns;
  for (let i = block.offset; i < block.offset + block.length; i++) f(timestampsMs[i]!, values[i]!);
}

/** One field of one series' window that InfluxDB and the expectation disagree on. */
export interface FieldDifference {
  field: string;
  /** undefined: the expectation has no such field (InfluxDB holds a window it should not). */
  expected: number | undefined;
  /** undefined: InfluxDB lacks it (a missing window, series or field). */
  found: number | undefined;
}

export interface WindowDifference {
  startMs: number;
  endMs: number;
  tags: StoredTags;
  fields: FieldDifference[];
}

export interface Comparison {
  /** Windows (start times) either side holds. */
  windows: number;
  /** Series × windows either side holds. */
  seriesWindows: number;
  /** In window, then series order. */
  differences: WindowDifference[];
}

/**
 * Compares what InfluxDB holds (`found`) with what it should (`expected`), field by field: counts
 * and integers exactly, floats to a relative 1e-9 (InfluxDB may add a window's points in another
 * order than promflux).
 */
export function compareTables(expected: WindowTable, found: WindowTable): Comparison {
  const differences: WindowDifference[] = [];
  const starts = new Set<number>();
  let seriesWindows = 0;
  const keys = new Set([...expected.series.keys(), ...found.series.keys()]);
  for (const key of keys) {
    const e = expected.series.get(key);
    const f = found.series.get(key);
    const tags = (e ?? f)!.tags;
    const windowStarts = new Set([...(e?.windows.keys() ?? []), ...(f?.windows.keys() ?? [])]);
    for (const startMs of windowStarts) {
      starts.add(startMs);
      seriesWindows++;
      const fields = compareFields(e?.windows.get(startMs), f?.windows.get(startMs));
      if (fields.length > 0) {
        differences.push({ startMs, endMs: startMs + expected.windowMs, tags, fields });
      }
    }
  }
  differences.sort(
    (a, b) => a.startMs - b.startMs || compareUtf8(seriesKey(a.tags), seriesKey(b.tags)),
  );
  return { windows: starts.size, seriesWindows, differences };
}

function compareFields(
  expected: FieldValues | undefined,
  found: FieldValues | undefined,
): FieldDifference[] {
  const names = [...new Set([...Object.keys(expected ?? {}), ...Object.keys(found ?? {})])];
  const out: FieldDifference[] = [];
  for (const field of names) {
    const e = expected?.[field];
    const f = found?.[field];
    if (e === undefined || f === undefined || !sameValue(e, f)) {
      out.push({ field, expected: e, found: f });
    }
  }
  return out;
}

/** Equal, or within a relative 1e-9 (both NaN counts as equal). */
export function sameValue(a: number, b: number): boolean {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

/** One line per differing window: `2026-…Z/2026-…Z {tags}: count expected 240, found 180; …`. */
export function formatDifference(d: WindowDifference): string {
  const fields = d.fields
    .map((f) => `${f.field} expected ${f.expected ?? 'nothing'}, found ${f.found ?? 'nothing'}`)
    .join('; ');
  return `${toRfc3339(d.startMs)}/${toRfc3339(d.endMs)} ${formatTags(d.tags)}: ${fields}`;
}
