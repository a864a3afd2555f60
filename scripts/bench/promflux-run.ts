/**
 * Runs `promflux backfill` (or `export`) as a child process through measure.mjs: the real CLI code
 * path, with its own CPU time and peak RSS reported by the child itself, and with the Node flags
 * the systemd unit and the container run it with (scripts/lib/node-flags.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PROMFLUX_NODE_FLAGS } from '../lib/node-flags.js';
import { BENCH_METRIC, STEP_MS, type BenchRange } from './fixture.js';

const MEASURE = resolve(import.meta.dirname, 'measure.mjs');

/** Node's flags for a measured promflux: production's, then a CPU profile's if one is asked for. */
export function promfluxNodeArgs(cpuProfileDir?: string): string[] {
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  return [...PROMFLUX_NODE_FLAGS, ...profile];
}

export type SinkTarget =
  { kind: 'influxdb-v1'; url: string; db: string } | { kind: 'victoria-metrics'; url: string };

export interface ProcessUsage {
  exit_code: number;
  wall_seconds_main: number;
  cpu_user_seconds_main: number;
  cpu_system_seconds_main: number;
  cpu_user_seconds_process: number;
  cpu_system_seconds_process: number;
  max_rss_kb: number;
  uptime_seconds: number;
  peak_heap_used_mb: number;
  peak_heap_total_mb: number;
  peak_external_mb: number;
  peak_array_buffers_mb: number;
  peak_sampled_rss_mb: number;
}

/** The `--json` summary of the one query, as far as the bench reads it. */
export interface QuerySummary {
  query: string;
  ok: boolean;
  samples: number;
  series: number;
  points: number;
  sinks: Record<string, { written: number; rejected: number; requests: number; retries: number }>;
  tiers?: Record<string, { written: number }>;
  drops: Record<string, number>;
  chunks: number;
  duration_seconds: number;
  error: string | null;
}

export interface PromfluxRun {
  usage: ProcessUsage;
  summary: QuerySummary;
  stderr: string;
}

/**
 * The storage tiers of the tier-cost runs: raw alone, or raw + warm (5m) + cold (1h) rollups.
 * Only dry runs use them, so the buckets are never created.
 */
export type BenchTiers = 'raw' | 'raw+rollups';

const TIERS_YAML: Record<BenchTiers, string> = {
  raw: `  tiers:
    - { name: hot, bucket: unused_hot, retention: 0 }
`,
  'raw+rollups': `  tiers:
    - { name: hot, bucket: unused_hot, retention: 0 }
    - { name: warm, bucket: unused_warm, retention: 0, resolution: 5m }
    - { name: cold, bucket: unused_cold, retention: 0, resolution: 1h }
`,
};

/** The promflux config for one run: one query over the fixture metric, defaults elsewhere. */
export function benchConfig(
  prometheusUrl: string,
  sink: SinkTarget | undefined,
  stateDir: string,
  tiers?: BenchTiers,
  logLevel = 'warn',
): string {
  let load: string;
  if (tiers !== undefined) {
    // A dry run: the tiers name the buckets, the sink is never opened.
    load = `    url: "http://127.0.0.1:9"\n    api: v1`;
  } else if (sink === undefined) {
    // --dry-run never opens the sink, but the config still needs one.
    load = `    url: "http://127.0.0.1:9"\n    api: v1\n    bucket: "unused/autogen"`;
  } else if (sink.kind === 'influxdb-v1') {
    load = `    url: "${sink.url}"\n    api: v1\n    bucket: "${sink.db}/autogen"`;
  } else {
    load = `    url: "${sink.url}"\n    api: v2\n    token: "vm-ignores-it"\n    org: "bench"\n    bucket: "bench"`;
  }
  return `extract:
  prometheus_url: "${prometheusUrl}"
  queries:
    - { name: load, query: "${BENCH_METRIC}" }
transform:
  valid_metrics: []
load:
  influxdb:
${load}
${tiers === undefined ? '' : TIERS_YAML[tiers]}pipeline:
  delay: 0s
  log_level: ${logLevel}
  state_dir: "${stateDir}"
`;
}

export interface RunOptions {
  dir: string;
  /** File name stem for the config, usage and output files. */
  name: string;
  prometheusUrl: string;
  sink: SinkTarget | undefined;
  range: BenchRange;
  /** `--dry-run`: stdout (the line protocol) goes to this file. */
  dryRunOutput?: string;
  /** `--dry-run --summary` with these tiers: every line encoded, none printed or sent. */
  summaryTiers?: BenchTiers;
  /** `--dry-run --summary`: extract and transform, nothing printed but the summary. */
  dryRunSummary?: boolean;
  /** `promflux export --out DIR` (long Parquet) over the range instead of a backfill. */
  exportDir?: string;
  /** Directory for a V8 CPU profile (`--cpu-prof`). */
  cpuProfileDir?: string;
  /** Called with the child right after the spawn (to kill it on SIGINT). */
  onSpawn?: (child: ChildProcess) => void;
  /** `pipeline.log_level` (default warn); the log is in the run's `stderr`. */
  logLevel?: string;
}

export async function runPromflux(opts: RunOptions): Promise<PromfluxRun> {
  const configPath = join(opts.dir, `${opts.name}.yaml`);
  const usagePath = join(opts.dir, `${opts.name}.usage.json`);
  await writeFile(
    configPath,
    benchConfig(
      opts.prometheusUrl,
      opts.sink,
      join(opts.dir, `${opts.name}-state`),
      opts.summaryTiers,
      opts.logLevel,
    ),
  );
  const from = String(opts.range.startMs / 1000);
  // The bench range is inclusive; an export's is half-open: the same samples end a step later.
  const args =
    opts.exportDir === undefined
      ? [
          'backfill',
          '--config',
          configPath,
          '--from',
          from,
          '--to',
          String(opts.range.endMs / 1000),
        ]
      : ['export', '--config', configPath, '--from', from].concat([
          '--to',
          String((opts.range.endMs + STEP_MS) / 1000),
          '--out',
          opts.exportDir,
        ]);
  args.push('--json');
  const summaryOnly = opts.dryRunSummary === true || opts.summaryTiers !== undefined;
  if (opts.dryRunOutput !== undefined || summaryOnly) args.push('--dry-run');
  if (summaryOnly) args.push('--summary');
  const nodeArgs = promfluxNodeArgs(opts.cpuProfileDir);

  const child = spawn(process.execPath, [...nodeArgs, MEASURE, ...args], {
    cwd: opts.dir,
    env: { ...process.env, PROMFLUX_CONFIG: '', PROMFLUX_BENCH_USAGE: usagePath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  opts.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  let output: Promise<void> = Promise.resolve();
  if (opts.dryRunOutput !== undefined) {
    output = finished(child.stdout.pipe(createWriteStream(opts.dryRunOutput)));
  } else {
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  }
  const code = await new Promise<number>((res, rej) => {
    child.once('error', rej);
    child.once('close', (c, signal) => res(c ?? (signal ? 128 : 1)));
  });
  await output;
  if (code !== 0) {
    throw new Error(
      `promflux ${args.join(' ')} exited ${code}:\n${stderr.trim().slice(-4000)}\n${stdout.trim().slice(-2000)}`,
    );
  }
  const usage = JSON.parse(await readFile(usagePath, 'utf8')) as ProcessUsage;
  // With --dry-run the summaries go to stderr (stdout carries the lines).
  const summaryText = opts.dryRunOutput !== undefined ? stderr : stdout;
  const summaries = summaryText
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Partial<QuerySummary>)
    .filter((r): r is QuerySummary => typeof r.samples === 'number' && r.sinks !== undefined);
  const summary = summaries[0];
  if (summaries.length !== 1 || summary === undefined) {
    throw new Error(
      `expected one JSON summary from promflux, got ${summaries.length}:\n${summaryText.slice(-2000)}`,
    );
  }
  if (!summary.ok) throw new Error(`promflux query failed: ${summary.error ?? 'unknown error'}`);
  return { usage, summary, stderr };
}

/**
 * The fixed cost of a promflux process: `check-config` loads every module and the config and does
 * no work, so its CPU and RSS are what every run pays before the first sample.
 */
export async function runStartupBaseline(
  dir: string,
  prometheusUrl: string,
): Promise<ProcessUsage> {
  const configPath = join(dir, 'startup.yaml');
  const usagePath = join(dir, 'startup.usage.json');
  await writeFile(configPath, benchConfig(prometheusUrl, undefined, join(dir, 'startup-state')));
  const argv = [...promfluxNodeArgs(), MEASURE, 'check-config', '--config', configPath];
  const child = spawn(process.execPath, argv, {
    cwd: dir,
    env: { ...process.env, PROMFLUX_CONFIG: '', PROMFLUX_BENCH_USAGE: usagePath },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const code = await new Promise<number | null>((res, rej) => {
    child.once('error', rej);
    child.once('close', res);
  });
  if (code !== 0) throw new Error(`promflux check-config exited ${code}: ${stderr.trim()}`);
  return JSON.parse(await readFile(usagePath, 'utf8')) as ProcessUsage;
}
