/**
 * The quick start: demo app → Prometheus (scraping every 1s) → promflux --once → InfluxDB 1.x, then
 * shows what landed. Everything runs on loopback with free ports and is stopped at the end, on
 * failure and on Ctrl-C. Exits with the CLI's exit code, or 1 if nothing landed.
 *
 * Run via `bash scripts/quickstart.sh` (installs the servers and builds first), or directly with
 * `npx tsx scripts/quickstart.ts` after `npm run build`.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemoApp, type DemoApp } from './demo-app.js';
import { PROMFLUX_NODE_FLAGS } from './lib/node-flags.js';
import {
  ensureServerBinaries,
  startInfluxV1,
  startPrometheus,
  type InfluxQlSeries,
  type InfluxV1Server,
  type StartedServer,
} from './lib/servers.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WORK_DIR = '.tmp/quickstart';
const CONFIG_PATH = `${WORK_DIR}/promflux.yaml`;
const DATABASE = 'health_metrics';
const READY_QUERY = 'rate(http_requests_total[5m])';
const READY_TIMEOUT_MS = 90_000;

interface Running {
  app?: DemoApp;
  prometheus?: StartedServer;
  influx?: InfluxV1Server;
}

async function main(): Promise<number> {
  ensureServerBinaries(['prometheus', 'influxd']);
  const running: Running = {};
  let stopped: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopped ??= Promise.allSettled([
      running.app?.stop(),
      running.prometheus?.stop(),
      running.influx?.stop(),
    ]).then(() => undefined);
    return stopped;
  };
  // `on`, not `once`: while this listener is registered, servers.ts leaves the shutdown to us.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopped) return;
    console.log(`\nReceived ${signal}: stopping the demo app, Prometheus and InfluxDB.`);
    void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await rm(join(REPO_ROOT, WORK_DIR), { recursive: true, force: true });
    await mkdir(join(REPO_ROOT, WORK_DIR), { recursive: true });

    step('Starting the demo app');
    running.app = await startDemoApp();
    console.log(`  demo app:   ${running.app.url}/metrics`);

    step('Starting Prometheus (scrapes the demo app every 1s as job="test-app") and InfluxDB 1.x');
    const [prometheus, influx] = await Promise.all([
      startPrometheus({
        scrapeTargets: [
          { job: 'test-app', target: `127.0.0.1:${running.app.port}`, intervalSeconds: 1 },
        ],
      }),
      startInfluxV1(),
    ]);
    running.prometheus = prometheus;
    running.influx = influx;
    console.log(`  Prometheus: ${prometheus.url}`);
    console.log(`  InfluxDB:   ${influx.url}`);
    await influx.createDatabase(DATABASE);
    console.log(`  created InfluxDB database "${DATABASE}"`);

    step(`Waiting until Prometheus has data for ${READY_QUERY}`);
    await waitForData(prometheus.url);

    step(`Writing ${CONFIG_PATH}`);
    await writeFile(join(REPO_ROOT, CONFIG_PATH), promfluxConfig(prometheus.url, influx.url));

    // With the Node flags of the systemd unit and the container: the command shown is one to copy.
    const command = [...PROMFLUX_NODE_FLAGS, 'bin/promflux.js', '--once', '--config', CONFIG_PATH];
    step(`Running: node ${command.join(' ')}`);
    const exitCode = await runCli(command);
    console.log(`  promflux exited with code ${exitCode}`);

    step(`What landed in InfluxDB (database "${DATABASE}")`);
    const landed = await showLanded(influx);
    if (exitCode !== 0) return exitCode;
    if (landed === 0) {
      console.error('Nothing landed in InfluxDB.');
      return 1;
    }
    console.log(`\nDone: ${landed} points written. Stopping everything.`);
    return 0;
  } finally {
    await stopAll();
  }
}

function step(text: string): void {
  console.log(`\n==> ${text}`);
}

async function waitForData(prometheusUrl: string): Promise<void> {
  const started = Date.now();
  for (;;) {
    const series = await instantQuery(prometheusUrl, READY_QUERY).catch(() => undefined);
    const elapsed = Math.round((Date.now() - started) / 1000);
    if (series !== undefined && series > 0) {
      console.log(`  ${series} series after ${elapsed}s`);
      return;
    }
    if (Date.now() - started > READY_TIMEOUT_MS) {
      throw new Error(
        `Prometheus returned no data for ${READY_QUERY} within ${READY_TIMEOUT_MS / 1000}s`,
      );
    }
    console.log(`  ${elapsed}s: no data yet (rate() needs two scrapes before a 15s grid point)`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/**
 * Number of series an instant query returns at the newest point of promflux's 15s evaluation grid:
 * data scraped after that point is not in the range promflux asks for yet.
 */
async function instantQuery(prometheusUrl: string, query: string): Promise<number> {
  const lastGridPoint = String(Math.floor(Date.now() / 15_000) * 15);
  const res = await fetch(
    `${prometheusUrl}/api/v1/query?${new URLSearchParams({ query, time: lastGridPoint }).toString()}`,
    {
      signal: AbortSignal.timeout(5000),
    },
  );
  const body = (await res.json()) as { status: string; data?: { result?: unknown[] } };
  return body.status === 'success' ? (body.data?.result?.length ?? 0) : 0;
}

function promfluxConfig(prometheusUrl: string, influxUrl: string): string {
  return `extract: { prometheus_url: "${prometheusUrl}" }
transform: { valid_metrics: ["up", "http_requests_total", "http_request_duration_seconds_bucket"] }
load: { influxdb: { url: "${influxUrl}", api: v1, bucket: "${DATABASE}/autogen" } }
pipeline: { interval_seconds: 300, delay: 0s, log_level: warn, state_dir: "${WORK_DIR}/state" }
`;
}

function runCli(args: string[]): Promise<number> {
  return new Promise((resolveCode, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolveCode(code ?? (signal ? 1 : 0)));
  });
}

/** Prints points per metric_type and the 3 newest rows of each; returns the total point count. */
async function showLanded(influx: InfluxV1Server): Promise<number> {
  let counts: InfluxQlSeries[] = [];
  try {
    const res = await influx.query(
      `SELECT count(value) FROM ${DATABASE} GROUP BY metric_type`,
      DATABASE,
    );
    counts = res.results[0]?.series ?? [];
  } catch (err) {
    console.error(`  reading back failed: ${(err as Error).message}`);
    return 0;
  }
  if (counts.length === 0) {
    console.log('  (no points)');
    return 0;
  }
  let total = 0;
  const rows = counts.map((s) => {
    const count = Number(s.values?.[0]?.[1] ?? 0);
    total += count;
    return [s.tags?.metric_type ?? '', String(count)];
  });
  printTable(['metric_type', 'points'], rows);

  for (const s of counts) {
    const metricType = s.tags?.metric_type ?? '';
    const res = await influx.query(
      `SELECT * FROM ${DATABASE} WHERE metric_type = '${metricType.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}' ORDER BY time DESC LIMIT 3`,
      DATABASE,
    );
    const newest = res.results[0]?.series?.[0];
    if (!newest) continue;
    console.log(`\n  newest rows, metric_type=${metricType}:`);
    printTable(
      newest.columns,
      (newest.values ?? []).map((row) => row.map((cell) => formatCell(cell))),
    );
  }
  return total;
}

function formatCell(cell: unknown): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'number' || typeof cell === 'boolean') return String(cell);
  return JSON.stringify(cell);
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    '  ' +
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`Quick start failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
