/**
 * Cost of the long-layout Parquet export, in this process's children: 10M step-grid samples in
 * decoder-shaped chunks (1,000 series sharing one set of Float64Array columns per chunk, two tags
 * each) (a) only iterated, (b) written as long-layout Parquet. Each mode runs in its own child
 * process so its peak RSS (VmHWM) is its own; chunks are generated as they are consumed in both.
 * Then DuckDB's own `COPY ... (FORMAT parquet, COMPRESSION zstd)` of the same rows, for the file
 * size ratio. Not a timed test: prints the numbers and the ratios.
 *
 *   npm run build && npx tsx scripts/bench/export-cost.ts [samples=10000000] [rowGroupRows=131072]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decoderChunks } from './decoder-chunks.js';

type LongLayoutModule = typeof import('../../src/export/long-layout.js');
type SeriesBlock = import('../../src/core/series.js').SeriesBlock;

const TOTAL = Number(process.argv[2] ?? 10_000_000);
const ROW_GROUP_ROWS = Number(process.argv[3] ?? 131_072);
const MODE = process.argv[4];
const SERIES = 1_000;
const CHUNK_POINTS = 1_000;
const STEP_MS = 15_000;
const START_MS = Date.UTC(2024, 2, 1);

function* chunks(): Generator<SeriesBlock[]> {
  for (const { blocks } of decoderChunks({
    total: TOTAL,
    series: SERIES,
    chunkPoints: CHUNK_POINTS,
    startMs: START_MS,
    stepMs: STEP_MS,
    labels: (s) => ({ instance: `host-${s}:9100`, job: s % 10 === 0 ? 'api' : 'node' }),
    // A gauge with three decimals, like most exporters' values.
    value: (s, i) => Math.round(Math.sin(i / 50 + s) * 100_000) / 1000,
  })) {
    yield blocks;
  }
}

function peakRssMb(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

async function child(mode: string, dir: string): Promise<void> {
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  let rows = 0;
  if (mode === 'iterate') {
    let sum = 0;
    for (const blocks of chunks()) {
      for (const b of blocks) {
        for (let i = b.offset; i < b.offset + b.length; i++)
          sum += b.columns.values[i]! + b.columns.timestampsMs[i]!;
        rows += b.length;
      }
    }
    if (sum === 42) console.error('');
  } else {
    const dist = resolve(import.meta.dirname, '../../dist/export/long-layout.js');
    const { LongLayoutWriter, exportSeries } = (await import(
      pathToFileURL(dist).href
    )) as LongLayoutModule;
    const writer = new LongLayoutWriter({
      dir,
      query: 'bench',
      format: 'parquet',
      rowGroupRows: ROW_GROUP_ROWS,
      createdBy: 'promflux bench',
    });
    for (const blocks of chunks()) {
      for (const b of blocks) await writer.add(exportSeries(b));
      const last = blocks[0]!;
      await writer.closeBefore(last.columns.timestampsMs[last.offset + last.length - 1]!);
    }
    rows = (await writer.finish()).reduce((n, f) => n + f.rows, 0);
  }
  console.log(
    JSON.stringify({
      mode,
      rows,
      seconds: (performance.now() - started) / 1000,
      // Of every thread of the process (the Parquet encoder thread included).
      cpuSeconds: cpuSeconds(process.cpuUsage(cpuAtStart)),
      peakRssMb: peakRssMb(),
    }),
  );
}

interface Result {
  mode: string;
  rows: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

function runChild(mode: string, dir: string): Result {
  const out = execFileSync(
    process.execPath,
    [...process.execArgv, import.meta.filename, String(TOTAL), String(ROW_GROUP_ROWS), mode, dir],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as Result;
}

async function duckdbCopySize(dir: string): Promise<{ ours: number; duckdb: number }> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const glob = join(dir, '**/*.parquet');
  const target = join(dir, 'duckdb-copy.parquet');
  await connection.run(
    `COPY (SELECT * FROM read_parquet('${glob}')) TO '${target}' (FORMAT parquet, COMPRESSION zstd)`,
  );
  connection.closeSync();
  instance.closeSync();
  const files = execFileSync(
    'find',
    [dir, '-name', '*.parquet', '-not', '-name', 'duckdb-copy.parquet', '-printf', '%s\n'],
    {
      encoding: 'utf8',
    },
  );
  const oursBytes = files
    .trim()
    .split('\n')
    .reduce((n, s) => n + Number(s), 0);
  const duckdb = (await stat(target)).size;
  return { ours: oursBytes, duckdb };
}

if (MODE) {
  await child(MODE, process.argv[5]!);
} else {
  const dir = await mkdtemp(join(tmpdir(), 'promflux-export-bench-'));
  try {
    const iterate = runChild('iterate', dir);
    const parquet = runChild('parquet', dir);
    const size = await duckdbCopySize(dir);
    const table = {
      samples: parquet.rows,
      rowGroupRows: ROW_GROUP_ROWS,
      iterateSeconds: round(iterate.seconds),
      parquetSeconds: round(parquet.seconds),
      timeRatio: round(parquet.seconds / iterate.seconds),
      iterateCpuSeconds: round(iterate.cpuSeconds),
      parquetCpuSeconds: round(parquet.cpuSeconds),
      iteratePeakRssMb: round(iterate.peakRssMb),
      parquetPeakRssMb: round(parquet.peakRssMb),
      parquetMb: round(size.ours / 1e6),
      duckdbCopyMb: round(size.duckdb / 1e6),
      sizeRatio: round(size.ours / size.duckdb),
    };
    console.table(table);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
