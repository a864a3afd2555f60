/** Rollup test helpers: a reference implementation, random series, and chunked feeding. */
import fc from 'fast-check';
import { expect } from 'vitest';
import { emptyDropCounts, type SeriesBlock } from '../../../src/core/series.js';
import { dropInvalidSamples } from '../../../src/transform/clean.js';
import {
  RollupAccumulator,
  type MetricKind,
  type WindowAggregate,
} from '../../../src/transform/rollup.js';

export const HOUR = 3_600_000;
export const T0 = 1_700_000_000_000 - (1_700_000_000_000 % HOUR);

export interface Point {
  t: number;
  /** NaN stands for a point the transform stage drops (a gap after cleaning). */
  v: number;
}

export interface Window {
  series: number;
  startMs: number;
  count: number;
  sum?: number;
  min?: number;
  max?: number;
  first?: number;
  last: number;
  increase?: number;
  resets?: number;
}

export function snapshot(kind: MetricKind, series: number, w: WindowAggregate): Window {
  return kind === 'gauge'
    ? {
        series,
        startMs: w.startMs,
        count: w.count,
        sum: w.sum,
        min: w.min,
        max: w.max,
        last: w.last,
      }
    : {
        series,
        startMs: w.startMs,
        count: w.count,
        first: w.first,
        last: w.last,
        increase: w.increase,
        resets: w.resets,
      };
}

export function byStart(a: Window, b: Window): number {
  return a.series - b.series || a.startMs - b.startMs;
}

/** The definition, point by point: what every window of `[fromMs, toMs)` must hold. */
export function reference(
  kind: MetricKind,
  stepMs: number,
  resolutionMs: number,
  fromMs: number,
  toMs: number,
  series: Point[][],
): Window[] {
  const out: Window[] = [];
  series.forEach((raw, index) => {
    const points = raw.filter((p) => !Number.isNaN(p.v));
    const at = new Map(points.map((p) => [p.t, p.v]));
    for (let s = fromMs; s < toMs; s += resolutionMs) {
      const inside = points.filter((p) => p.t >= s && p.t < s + resolutionMs);
      if (inside.length === 0) continue;
      const values = inside.map((p) => p.v);
      if (kind === 'gauge') {
        out.push({
          series: index,
          startMs: s,
          count: values.length,
          sum: values.reduce((a, b) => a + b, 0),
          min: Math.min(...values),
          max: Math.max(...values),
          last: values[values.length - 1]!,
        });
        continue;
      }
      let increase = 0;
      let resets = 0;
      for (const p of inside) {
        const before = at.get(p.t - stepMs);
        if (before === undefined) continue;
        if (p.v >= before) increase += p.v - before;
        else {
          increase += p.v;
          resets++;
        }
      }
      out.push({
        series: index,
        startMs: s,
        count: values.length,
        first: values[0]!,
        last: values[values.length - 1]!,
        increase,
        resets,
      });
    }
  });
  return out.sort(byStart);
}

/** One chunk's blocks as the decoder hands them out: series sharing one set of columns. */
export function chunkBlocks(
  series: Point[][],
  fromMs: number,
  toMs: number,
): (SeriesBlock | undefined)[] {
  const parts = series.map((points) => points.filter((p) => p.t >= fromMs && p.t < toMs));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const columns = { timestampsMs: new Float64Array(total), values: new Float64Array(total) };
  let offset = 0;
  return parts.map((part, index) => {
    // A series absent from a chunk sends no block (or, sometimes, an empty one).
    if (part.length === 0) return index % 2 === 0 ? undefined : emptyBlock();
    const block: SeriesBlock = {
      labels: { series: String(index) },
      columns,
      offset,
      length: part.length,
      nullValues: 0,
    };
    for (const p of part) {
      columns.timestampsMs[offset] = p.t;
      columns.values[offset++] = p.v;
    }
    return block;
  });
}

function emptyBlock(): SeriesBlock {
  const columns = { timestampsMs: new Float64Array(0), values: new Float64Array(0) };
  return { labels: {}, columns, offset: 0, length: 0, nullValues: 0 };
}

export interface Run {
  kind: MetricKind;
  stepMs: number;
  resolutionMs: number;
  /** First window emitted; extraction starts at `extractFromMs` (default a step before). */
  fromMs: number;
  toMs: number;
  extractFromMs?: number;
  /** Chunk boundaries strictly inside the extracted range. */
  cuts: number[];
}

/** Streams the series through one accumulator in chunks, as a run feeds it. */
export function rollUp(run: Run, series: Point[][]): Window[] {
  const out: Window[] = [];
  const acc = new RollupAccumulator<number>(run, (w) => out.push(snapshot(run.kind, w.key, w)));
  const states = series.map((_, i) => acc.series(i));
  const start = run.extractFromMs ?? run.fromMs - run.stepMs;
  const bounds = [start, ...run.cuts.filter((c) => c > start && c < run.toMs), run.toMs];
  for (let c = 1; c < bounds.length; c++) {
    const blocks = chunkBlocks(series, bounds[c - 1]!, bounds[c]!);
    blocks.forEach((block, i) => {
      if (!block) return;
      dropInvalidSamples(block, { maxTimestampMs: Infinity }, emptyDropCounts());
      acc.add(states[i]!, block);
    });
    acc.closeThrough(bounds[c]!);
    expect(acc.openSeries).toBeLessThanOrEqual(series.length);
  }
  expect(acc.openSeries).toBe(0);
  return out.sort(byStart);
}

/** Values of one series on the grid: gaps, NaN (cleaned away), resets, spikes. */
export function seriesArb(
  kind: MetricKind,
  integers: boolean,
  points: number,
  stepMs: number,
  startMs: number,
) {
  const magnitude = integers
    ? fc.integer({ min: 0, max: 1000 })
    : fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true });
  return fc
    .tuple(
      fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 19 }), magnitude), {
        minLength: points,
        maxLength: points,
      }),
    )
    .map(([initial, ops]) => {
      const out: Point[] = [];
      let counter = integers ? Math.round(initial) : initial;
      ops.forEach(([op, m], i) => {
        const t = startMs + i * stepMs;
        if (op < 3) return; // no point: a gap
        if (op === 3) {
          out.push({ t, v: NaN });
          return;
        }
        if (kind === 'gauge') {
          out.push({ t, v: op % 2 === 0 ? m : -m });
          return;
        }
        counter = op === 4 ? m / 2 : counter + m; // op 4: the target restarted
        if (integers) counter = Math.round(counter);
        out.push({ t, v: counter });
      });
      return out;
    });
}

/** A case: a range of whole windows, the series over it (from a few steps before), and cuts. */
export function caseArb(kind: MetricKind, integers = false) {
  return fc
    .record({
      stepMs: fc.constantFrom(15_000, 60_000),
      factor: fc.constantFrom(1, 5, 20),
      windows: fc.integer({ min: 1, max: 6 }),
      firstWindow: fc.integer({ min: 0, max: 3 }),
      seriesCount: fc.integer({ min: 1, max: 4 }),
    })
    .chain(({ stepMs, factor, windows, firstWindow, seriesCount }) => {
      const resolutionMs = stepMs * factor;
      const fromMs = T0 + firstWindow * resolutionMs;
      const toMs = fromMs + windows * resolutionMs;
      const dataFromMs = fromMs - 3 * stepMs;
      const points = (toMs - dataFromMs) / stepMs;
      const cut = fc.integer({ min: 1, max: points - 1 }).map((k) => dataFromMs + k * stepMs);
      return fc.record({
        run: fc.constant({ kind, stepMs, resolutionMs, fromMs, toMs }),
        series: fc.array(seriesArb(kind, integers, points, stepMs, dataFromMs), {
          minLength: seriesCount,
          maxLength: seriesCount,
        }),
        cuts: fc.uniqueArray(cut, { maxLength: 12 }).map((c) => c.sort((a, b) => a - b)),
        otherCuts: fc.uniqueArray(cut, { maxLength: 12 }).map((c) => c.sort((a, b) => a - b)),
        extractEarlier: fc.integer({ min: 0, max: 2 }),
      });
    });
}

/** Rollup lines back as windows, in the reference's shape; `seriesOf` numbers a line's key. */
export function parseRollupLines(
  kind: MetricKind,
  lines: readonly string[],
  seriesOf: (key: string) => number,
): Window[] {
  return lines
    .map((line): Window => {
      const [key, fieldText, ts] = line.split(' ') as [string, string, string];
      const series = seriesOf(key);
      const f = Object.fromEntries(
        fieldText.split(',').map((kv) => {
          const [k, v] = kv.split('=') as [string, string];
          return [k.replace(/^value_/, ''), Number(v.replace(/i$/, ''))];
        }),
      );
      const startMs = Number(ts) * 1000;
      if (kind === 'gauge') {
        expect(f['mean']).toBe(f['sum']! / f['count']!);
        return {
          series,
          startMs,
          count: f['count']!,
          sum: f['sum']!,
          min: f['min']!,
          max: f['max']!,
          last: f['last']!,
        };
      }
      return {
        series,
        startMs,
        count: f['count']!,
        first: f['first']!,
        last: f['last']!,
        increase: f['increase']!,
        resets: f['resets']!,
      };
    })
    .sort(byStart);
}
