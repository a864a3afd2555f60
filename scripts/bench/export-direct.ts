/**
 * The direct Parquet writer (src/export/parquet-direct/) against the parquet-wasm encoder
 * (parquet-encoder.ts) on the same synthetic long-layout row groups, in one process, rounds
 * alternating: CPU seconds per 1M rows (both run in this thread; the wasm writer too), file
 * bytes, and the bytes of DuckDB's own `COPY ... (FORMAT parquet, COMPRESSION zstd)` of the same
 * rows. Medians over the rounds; the machine is shared, so the load average is printed too.
 *
 *   npx tsx scripts/bench/export-direct.ts [rounds=5] [groups=10] [rowGroupRows=131072]
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DirectParquetWriter } from '../../src/export/parquet-direct/file-writer.js';
import {
  float64Chunk,
  stringChunk,
  timestampChunk,
} from '../../src/export/parquet-direct/pages.js';
import { zstd } from '../../src/export/parquet-direct/zstd.js';
import { ParquetEncoder } from '../../src/export/parquet-encoder.js';
import type { ColumnData, ColumnSpec, RowGroup } from '../../src/export/row-group.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const GROUPS = Number(process.argv[3] ?? 10);
const ROWS = Number(process.argv[4] ?? 131_072);
// Rows of one series in a row, as the decoder's chunks give them: at the bench fixture's 2000
// series, 250,000 samples a request are 125 points a series (the timestamps jump back at every
// run, so nearly every DELTA_BINARY_PACKED block is ~21 bits wide).
const RUN = 125;
const STEP_MS = 15_000;
const START_MS = Date.UTC(2024, 2, 1);
const TAGS: readonly { name: string; values: (s: number) => string }[] = [
  { name: 'container', values: (s) => `c-${s % 20}` },
  { name: 'env', values: (s) => ['prod', 'staging', 'dev'][s % 3]! },
  { name: 'instance', values: (s) => `host-${s}:9100` },
  { name: 'job', values: (s) => (s % 10 === 0 ? 'api' : 'node') },
  { name: 'pod', values: (s) => `pod-${s}-7d9f8c6b5-x2k4q` },
  { name: 'region', values: (s) => `eu-${s % 4}` },
];
const COLUMNS: ColumnSpec[] = [
  { name: 'timestamp', kind: 'timestamp' },
  { name: 'query', kind: 'string' },
  ...TAGS.map(({ name }) => ({ name, kind: 'string' as const })),
  { name: 'value', kind: 'float64' },
];

/** Row group `g`: series after series, RUN rows each, as long-layout.ts builds them. */
function rowGroup(g: number): RowGroup {
  const ms = new Float64Array(ROWS);
  const values = new Float64Array(ROWS);
  const tagCodes = TAGS.map(() => new Int32Array(ROWS));
  const dictionaries = TAGS.map(() => [] as string[]);
  const indexes = TAGS.map(() => new Map<string, number>());
  for (let start = 0; start < ROWS; start += RUN) {
    const s = Math.floor((g * ROWS + start) / RUN);
    const end = Math.min(start + RUN, ROWS);
    TAGS.forEach((tag, t) => {
      const text = tag.values(s % 1_000);
      let code = indexes[t]!.get(text);
      if (code === undefined) {
        code = dictionaries[t]!.push(text) - 1;
        indexes[t]!.set(text, code);
      }
      tagCodes[t]!.fill(code, start, end);
    });
    for (let i = start; i < end; i++) {
      const point = Math.floor(s / 1_000) * RUN + (i - start);
      ms[i] = START_MS + point * STEP_MS;
      values[i] = Math.round(Math.sin(point / 50 + s) * 100_000) / 1000;
    }
  }
  const columns: ColumnData[] = [
    { kind: 'timestamp', name: 'timestamp', ms },
    { kind: 'string', name: 'query', codes: new Int32Array(ROWS), dictionary: ['bench'] },
    ...TAGS.map(({ name }, t): ColumnData => ({
      kind: 'string',
      name,
      codes: tagCodes[t]!,
      dictionary: dictionaries[t]!,
    })),
    { kind: 'float64', name: 'value', values },
  ];
  const runStarts = Int32Array.from({ length: Math.ceil(ROWS / RUN) }, (_, r) => r * RUN);
  return { rows: ROWS, columns, runStarts };
}

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

async function existing(groups: readonly RowGroup[]): Promise<{ cpu: number; bytes: Uint8Array }> {
  const parts: Uint8Array[] = [];
  const start = process.cpuUsage();
  const encoder = new ParquetEncoder(
    COLUMNS,
    { rowGroupRows: ROWS, createdBy: 'promflux bench' },
    (chunk) => parts.push(chunk.slice()),
  );
  for (const group of groups) await encoder.write(group);
  await encoder.close();
  return { cpu: cpuSeconds(process.cpuUsage(start)), bytes: Buffer.concat(parts) };
}

async function direct(
  groups: readonly RowGroup[],
): Promise<{ cpu: number; zstdCpu: number; bytes: Uint8Array }> {
  const parts: Uint8Array[] = [];
  let zstdCpu = 0;
  // CPU, not wall time: the machine is shared. A few hundred calls, so the syscalls cost little.
  const timedZstd = (data: Uint8Array) => {
    const t = process.cpuUsage();
    const out = zstd(data);
    zstdCpu += cpuSeconds(process.cpuUsage(t));
    return out;
  };
  const writer = await DirectParquetWriter.create(
    COLUMNS,
    { createdBy: 'promflux bench' },
    (chunk) => parts.push(chunk),
    timedZstd,
  );
  const start = process.cpuUsage();
  for (const group of groups) writer.write(group);
  writer.close();
  const cpu = cpuSeconds(process.cpuUsage(start));
  return { cpu, zstdCpu, bytes: Buffer.concat(parts) };
}

/** The direct writer's CPU by column kind (zstd included), over every row group. */
function directByKind(groups: readonly RowGroup[]): Record<string, number> {
  const seconds: Record<string, number> = { timestamp: 0, string: 0, float64: 0 };
  for (const group of groups) {
    for (const column of group.columns) {
      const start = process.cpuUsage();
      if (column.kind === 'timestamp') timestampChunk(column, group.rows, zstd);
      else if (column.kind === 'string') stringChunk(column, group.rows, zstd);
      else float64Chunk(column, group.rows, zstd);
      seconds[column.kind]! += cpuSeconds(process.cpuUsage(start));
    }
  }
  return seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const groups = Array.from({ length: GROUPS }, (_, g) => rowGroup(g));
  const millions = (GROUPS * ROWS) / 1e6;
  const loadBefore = loadavg();
  const runs = { existing: [] as number[], direct: [] as number[], zstd: [] as number[] };
  const byKind: Record<string, number>[] = [];
  let existingBytes: Uint8Array | undefined;
  let directBytes: Uint8Array | undefined;
  // A warm-up of each, then alternating rounds (which goes first alternates too).
  await existing(groups.slice(0, 1));
  await direct(groups.slice(0, 1));
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? ['existing', 'direct'] : ['direct', 'existing'];
    for (const which of order) {
      if (which === 'existing') {
        const e = await existing(groups);
        runs.existing.push(e.cpu / millions);
        existingBytes = e.bytes;
      } else {
        const d = await direct(groups);
        runs.direct.push(d.cpu / millions);
        runs.zstd.push(d.zstdCpu / millions);
        directBytes = d.bytes;
        byKind.push(directByKind(groups));
      }
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'promflux-export-direct-'));
  try {
    const existingPath = join(dir, 'existing.parquet');
    const directPath = join(dir, 'direct.parquet');
    const duckPath = join(dir, 'duckdb.parquet');
    await writeFile(existingPath, existingBytes!);
    await writeFile(directPath, directBytes!);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const count = async (path: string) =>
      (
        await connection.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM '${path}'`)
      ).getRows()[0]![0];
    await connection.run(
      `COPY (SELECT * FROM '${existingPath}') TO '${duckPath}' (FORMAT parquet, COMPRESSION zstd)`,
    );
    const same = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER FROM (SELECT * FROM '${existingPath}' EXCEPT ALL SELECT * FROM '${directPath}')`,
    );
    const columnBytes = async (path: string): Promise<Record<string, unknown>> =>
      Object.fromEntries(
        (
          await connection.runAndReadAll(
            `SELECT path_in_schema, sum(total_compressed_size)::INTEGER FROM parquet_metadata('${path}') GROUP BY ALL ORDER BY 1`,
          )
        )
          .getRows()
          .map(([name, bytes]) => [String(name), Number(bytes)] as const),
      );
    const perColumn = {
      existing: await columnBytes(existingPath),
      direct: await columnBytes(directPath),
      duckdb: await columnBytes(duckPath),
    };
    const sizes = {
      existing: (await stat(existingPath)).size,
      direct: (await stat(directPath)).size,
      duckdb: (await stat(duckPath)).size,
    };
    console.log(
      JSON.stringify(
        {
          rows: GROUPS * ROWS,
          rounds: ROUNDS,
          loadavgBefore: loadBefore.map((l) => l.toFixed(2)),
          loadavgAfter: loadavg().map((l) => l.toFixed(2)),
          cpuSecondsPerMillionRows: {
            existing: { median: median(runs.existing), all: runs.existing },
            direct: { median: median(runs.direct), all: runs.direct },
            directZstdPart: { median: median(runs.zstd), all: runs.zstd },
            // Per column of the kind (six tags and `query` are seven string columns).
            directByColumnKind: {
              timestamp: median(byKind.map((k) => k['timestamp']!)) / millions,
              stringEach: median(byKind.map((k) => k['string']!)) / millions / (TAGS.length + 1),
              float64: median(byKind.map((k) => k['float64']!)) / millions,
            },
          },
          bytes: {
            ...sizes,
            directVsExisting: sizes.direct / sizes.existing,
            directVsDuckdb: sizes.direct / sizes.duckdb,
            existingVsDuckdb: sizes.existing / sizes.duckdb,
          },
          compressedBytesPerColumn: perColumn,
          rowCounts: { existing: await count(existingPath), direct: await count(directPath) },
          rowsInExistingNotInDirect: same.getRows()[0]![0],
        },
        null,
        2,
      ),
    );
    connection.closeSync();
    instance.closeSync();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
