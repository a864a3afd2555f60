/**
 * The export part of `npm run bench`: over the fixture's whole range, `promflux backfill --dry-run
 * --summary` (extract and transform, nothing written) and `promflux export` to long Parquet, side
 * by side in one run (alternating, `rounds` of each), both through measure.mjs; then DuckDB's own
 * `COPY ... (FORMAT parquet, COMPRESSION zstd)` of the same rows, for the file size.
 * Targets (issue 15): export ≤ 1.5× the dry run's time, peak RSS ≤ 250 MB, files ≤ 1.3× DuckDB's.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { median } from './cpu-split.js';
import type { BenchRange } from './fixture.js';
import { runPromflux, type PromfluxRun } from './promflux-run.js';

export interface ExportRound {
  dry_run_seconds: number;
  export_seconds: number;
  ratio: number;
  dry_run_max_rss_mb: number;
  export_max_rss_mb: number;
  export_peak_heap_used_mb: number;
  export_peak_array_buffers_mb: number;
  export_cpu_seconds: number;
  dry_run_cpu_seconds: number;
}

export interface ExportBenchResult {
  samples: number;
  rounds: ExportRound[];
  /** Median over the rounds of export ÷ dry run, wall time of `main()`. */
  time_ratio: number;
  /** Highest over the rounds. */
  export_max_rss_mb: number;
  dry_run_max_rss_mb: number;
  files: number;
  parquet_bytes: number;
  duckdb_copy_bytes: number;
  size_ratio: number;
}

export interface Target {
  name: string;
  measured: string;
  target: string;
  ok: boolean;
}

const mbOf = (run: PromfluxRun) => run.usage.max_rss_kb / 1024;
const cpuOf = (run: PromfluxRun) =>
  run.usage.cpu_user_seconds_process + run.usage.cpu_system_seconds_process;

export async function benchExport(opts: {
  dir: string;
  prometheusUrl: string;
  range: BenchRange;
  rounds: number;
  log: (message: string) => void;
  onSpawn: (child: ChildProcess) => void;
}): Promise<ExportBenchResult> {
  const { dir, range, log } = opts;
  const out = join(dir, 'export-dataset');
  const rounds: ExportRound[] = [];
  let manifest: { queries: { files: { rows: number; bytes: number }[] }[] } | undefined;
  for (let round = 0; round < opts.rounds; round++) {
    const common = { dir, prometheusUrl: opts.prometheusUrl, sink: undefined, range };
    const dry = await runPromflux({
      ...common,
      name: `export-dry-${round}`,
      dryRunSummary: true,
      onSpawn: opts.onSpawn,
    });
    expectSamples('dry run', dry, range.samples);
    // A fresh directory each round: the same export again would only replace the files.
    await rm(out, { recursive: true, force: true });
    const exported = await runPromflux({
      ...common,
      name: `export-${round}`,
      exportDir: out,
      onSpawn: opts.onSpawn,
    });
    expectSamples('export', exported, range.samples);
    manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as typeof manifest;
    const rows = manifest!.queries.flatMap((q) => q.files).reduce((n, f) => n + f.rows, 0);
    if (rows !== range.samples) {
      throw new Error(`export wrote ${rows} rows, expected ${range.samples}`);
    }
    const r: ExportRound = {
      dry_run_seconds: dry.usage.wall_seconds_main,
      export_seconds: exported.usage.wall_seconds_main,
      ratio: exported.usage.wall_seconds_main / dry.usage.wall_seconds_main,
      dry_run_max_rss_mb: mbOf(dry),
      export_max_rss_mb: mbOf(exported),
      export_peak_heap_used_mb: exported.usage.peak_heap_used_mb,
      export_peak_array_buffers_mb: exported.usage.peak_array_buffers_mb,
      export_cpu_seconds: cpuOf(exported),
      dry_run_cpu_seconds: cpuOf(dry),
    };
    rounds.push(r);
    log(
      `  export round ${round + 1}: dry run ${r.dry_run_seconds.toFixed(1)}s, ` +
        `export ${r.export_seconds.toFixed(1)}s (${r.ratio.toFixed(2)}×), ` +
        `peak RSS ${r.dry_run_max_rss_mb.toFixed(0)} / ${r.export_max_rss_mb.toFixed(0)} MB`,
    );
  }
  const files = manifest!.queries.flatMap((q) => q.files);
  const parquetBytes = files.reduce((n, f) => n + f.bytes, 0);
  const duckdbBytes = await duckdbCopyBytes(out, join(dir, 'duckdb-copy.parquet'));
  await rm(out, { recursive: true, force: true });
  return {
    samples: range.samples,
    rounds,
    time_ratio: median(rounds.map((r) => r.ratio)),
    export_max_rss_mb: Math.max(...rounds.map((r) => r.export_max_rss_mb)),
    dry_run_max_rss_mb: Math.max(...rounds.map((r) => r.dry_run_max_rss_mb)),
    files: files.length,
    parquet_bytes: parquetBytes,
    duckdb_copy_bytes: duckdbBytes,
    size_ratio: parquetBytes / duckdbBytes,
  };
}

function expectSamples(what: string, run: PromfluxRun, samples: number): void {
  if (run.summary.samples !== samples) {
    throw new Error(`${what}: ${run.summary.samples} samples, expected ${samples}`);
  }
}

/** DuckDB's own zstd Parquet of the export's rows (same columns, same order); its size. */
async function duckdbCopyBytes(dataset: string, target: string): Promise<number> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const glob = join(dataset, '**/*.parquet').replace(/'/g, "''");
    await connection.run(
      `COPY (SELECT * FROM read_parquet('${glob}', union_by_name = true)) ` +
        `TO '${target.replace(/'/g, "''")}' (FORMAT parquet, COMPRESSION zstd)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  const bytes = (await stat(target)).size;
  await rm(target, { force: true });
  return bytes;
}

export function exportTargets(r: ExportBenchResult): Target[] {
  return [
    {
      name: 'export time ÷ `--dry-run --summary` time, same range',
      measured: r.time_ratio.toFixed(2),
      target: '<= 1.5',
      ok: r.time_ratio <= 1.5,
    },
    {
      name: 'export peak RSS (MB)',
      measured: r.export_max_rss_mb.toFixed(0),
      target: '<= 250',
      ok: r.export_max_rss_mb <= 250,
    },
    {
      name: "export files ÷ DuckDB's COPY (zstd), bytes",
      measured: r.size_ratio.toFixed(2),
      target: '<= 1.3',
      ok: r.size_ratio <= 1.3,
    },
  ];
}

/** One line per round, the sizes, then one line per target: held or not held. */
export function printExportReport(r: ExportBenchResult, write: (line: string) => void): void {
  write('');
  write(`== export: ${(r.samples / 1e6).toFixed(1)}M samples to long Parquet ==`);
  r.rounds.forEach((x, i) =>
    write(
      `  round ${i + 1}: --dry-run --summary ${x.dry_run_seconds.toFixed(2)}s ` +
        `(${x.dry_run_cpu_seconds.toFixed(1)} CPU s, ${x.dry_run_max_rss_mb.toFixed(0)} MB), ` +
        `export ${x.export_seconds.toFixed(2)}s (${x.export_cpu_seconds.toFixed(1)} CPU s, ` +
        `${x.export_max_rss_mb.toFixed(0)} MB; heap ${x.export_peak_heap_used_mb.toFixed(0)} MB, ` +
        `array buffers ${x.export_peak_array_buffers_mb.toFixed(0)} MB): ${x.ratio.toFixed(2)}×`,
    ),
  );
  write(
    `  files: ${r.files}, ${(r.parquet_bytes / 1e6).toFixed(1)} MB; ` +
      `DuckDB COPY of the same rows ${(r.duckdb_copy_bytes / 1e6).toFixed(1)} MB`,
  );
  for (const t of exportTargets(r)) {
    write(`  ${t.name}: ${t.measured} (target ${t.target}): ${t.ok ? 'held' : 'not held'}`);
  }
}
