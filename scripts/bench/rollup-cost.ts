/**
 * CPU cost of the rollup tiers, in this process: 10M step-grid points in decoder-shaped chunks
 * (series sharing one set of Float64Array columns; gauges take the bench fixture's values) fed
 * (a) through a bare loop over the columns,
 * (b) through the raw tier's line encoding, (c) through two rollup tiers (5m and 1h, windows
 * encoded as line protocol, and once more without encoding them). Reports CPU seconds (median of
 * runs) and the ratios. Raw encoding here formats every value; promflux's real raw path copies
 * Prometheus' spelling instead, so compare the rollup cost with the whole process's CPU per point
 * (`npm run bench`) rather than with this raw figure alone.
 *
 *   npm run build && npx tsx scripts/bench/rollup-cost.ts [points=10000000] [runs=3] [kind=counter]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadFixtureValue } from '../lib/openmetrics-fixture.js';
import { decoderChunks } from './decoder-chunks.js';

type LineBatcherModule = typeof import('../../src/transform/line-batcher.js');
type LineProtocolModule = typeof import('../../src/transform/line-protocol.js');
type RollupModule = typeof import('../../src/transform/rollup.js');
type RollupLinesModule = typeof import('../../src/transform/rollup-lines.js');
type SeriesBlock = import('../../src/core/series.js').SeriesBlock;

const DIST = resolve(import.meta.dirname, '../../dist/transform');
const load = async <T>(file: string): Promise<T> =>
  (await import(pathToFileURL(resolve(DIST, file)).href)) as T;

const { LineBatcher } = await load<LineBatcherModule>('line-batcher.js');
const { encodeSeriesKey, encodeSeriesPrefix } = await load<LineProtocolModule>('line-protocol.js');
const { RollupAccumulator } = await load<RollupModule>('rollup.js');
const { RollupLineWriter } = await load<RollupLinesModule>('rollup-lines.js');

const TOTAL = Number(process.argv[2] ?? 10_000_000);
const RUNS = Number(process.argv[3] ?? 3);
const KIND = (process.argv[4] ?? 'counter') as 'counter' | 'gauge';
const STEP_MS = 15_000;
const SERIES = 1_000;
/** Points per series per chunk: what an 11,000-point request limit allows, rounded. */
const CHUNK_POINTS = 1_000;
const START_MS = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);

interface Chunk {
  blocks: SeriesBlock[];
  endMs: number;
}

function makeChunks(): Chunk[] {
  const counters = new Float64Array(SERIES);
  return [
    ...decoderChunks({
      total: TOTAL,
      series: SERIES,
      chunkPoints: CHUNK_POINTS,
      startMs: START_MS,
      stepMs: STEP_MS,
      labels: (s) => ({ s: String(s) }),
      // A counter growing by a few units a step, restarting now and then; gauges as in the
      // bench fixture (two decimals, so window sums and means need 16-17 digits).
      value: (s, i, k) =>
        KIND === 'gauge'
          ? loadFixtureValue(s, i)
          : (counters[s] = (i + s) % 5000 === 0 ? 0 : counters[s]! + ((k * 7 + s) % 13) / 4),
    }),
  ];
}

function cpuSeconds(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const chunks = makeChunks();
const points = chunks.reduce((n, c) => n + c.blocks.reduce((m, b) => m + b.length, 0), 0);
const keys = Array.from({ length: SERIES }, (_, s) =>
  encodeSeriesKey('bench_metric', [
    ['instance', `host-${s}:9100`],
    ['job', 'bench'],
  ]),
);
const prefixes = keys.map(
  (_, s) =>
    new Uint8Array(
      Buffer.from(
        encodeSeriesPrefix(
          'bench_metric',
          [
            ['instance', `host-${s}:9100`],
            ['job', 'bench'],
          ],
          'value',
        ),
      ),
    ),
);
let sink = 0;
const batcher = (): InstanceType<typeof LineBatcher> =>
  new LineBatcher({ batchSize: 5000, query: 'bench', emit: (b) => (sink += b.lines) });

function iterate(): void {
  let sum = 0;
  for (const chunk of chunks) {
    for (const block of chunk.blocks) {
      const { timestampsMs, values } = block.columns;
      for (let i = block.offset; i < block.offset + block.length; i++) {
        sum += values[i]! + timestampsMs[i]!;
      }
    }
  }
  sink += sum > 0 ? 1 : 0;
}

function raw(): void {
  const out = batcher();
  for (const chunk of chunks) {
    chunk.blocks.forEach((block, s) => out.append(prefixes[s]!, block));
  }
  out.flush();
}

function rollups(encode: boolean): void {
  const out = batcher();
  const writer = new RollupLineWriter(KIND, 'value');
  const keyBytes = keys.map((k) => new Uint8Array(Buffer.from(k)));
  const tiers = [300_000, 3_600_000].map(
    (resolutionMs) =>
      new RollupAccumulator<Uint8Array>(
        { kind: KIND, stepMs: STEP_MS, resolutionMs, fromMs: START_MS },
        encode ? (w) => writer.append(out, w.key, w) : (w) => (sink += w.count),
      ),
  );
  const states = tiers.map((tier) => keyBytes.map((key) => tier.series(key)));
  for (const chunk of chunks) {
    chunk.blocks.forEach((block, s) => {
      for (let t = 0; t < tiers.length; t++) tiers[t]!.add(states[t]![s]!, block);
    });
    for (const tier of tiers) tier.closeThrough(chunk.endMs);
  }
  out.flush();
}

const results: Record<string, number[]> = { iterate: [], raw: [], rollups: [], aggregate: [] };
for (let run = 0; run < RUNS + 1; run++) {
  // The first round warms the JIT up and is not counted.
  const round = {
    iterate: cpuSeconds(iterate),
    raw: cpuSeconds(raw),
    rollups: cpuSeconds(() => rollups(true)),
    aggregate: cpuSeconds(() => rollups(false)),
  };
  if (run === 0) continue;
  for (const [name, seconds] of Object.entries(round)) results[name]!.push(seconds);
}
const iterateS = median(results.iterate!);
const rawS = median(results.raw!);
const rollupS = median(results.rollups!);
const aggregateS = median(results.aggregate!);
const nsPerPoint = (s: number): number => Math.round((s / points) * 1e9 * 10) / 10;
console.log(
  JSON.stringify(
    {
      points,
      kind: KIND,
      tiers: ['5m', '1h'],
      cpu_seconds: {
        iterate: iterateS,
        raw_encode: rawS,
        two_rollup_tiers: rollupS,
        two_rollup_tiers_unencoded: aggregateS,
      },
      ns_per_point: {
        iterate: nsPerPoint(iterateS),
        raw_encode: nsPerPoint(rawS),
        two_rollup_tiers: nsPerPoint(rollupS),
        two_rollup_tiers_unencoded: nsPerPoint(aggregateS),
      },
      ratio_rollups_to_iterate: Math.round((rollupS / iterateS) * 100) / 100,
      ratio_raw_plus_rollups_to_raw_encode: Math.round(((rawS + rollupS) / rawS) * 100) / 100,
      lines_written: sink,
    },
    null,
    2,
  ),
);
