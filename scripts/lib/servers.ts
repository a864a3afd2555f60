/**
 * Starts real Prometheus, InfluxDB 1.x and VictoriaMetrics processes (Debian packages) for tests,
 * the quick start and the benchmark: loopback only, free ports, one temp dir each, stopped and
 * removed by `stop()` (and killed when the Node process exits).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants, closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

/** A running server. `stop()` is idempotent and removes `dataDir`. */
export interface StartedServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  port: number;
  /** The server's temp dir: data, generated config and `server.log` (stdout + stderr). */
  dataDir: string;
  stop(): Promise<void>;
  /**
   * Freezes the process (SIGSTOP): connections are still accepted by the kernel but nothing answers,
   * as with a hung server. `resume()` (SIGCONT) thaws it.
   */
  pause(): void;
  resume(): void;
  /** Stops the process (SIGTERM) but keeps `dataDir` and the ports: a server that went down. */
  halt(): Promise<void>;
  /** Starts it again on the same data dir and ports after {@link halt}; resolves when ready. */
  restart(): Promise<void>;
}

/** Body of InfluxDB 1.x `POST /query`. */
export interface InfluxQlResponse {
  results: InfluxQlResult[];
  error?: string;
}

export interface InfluxQlResult {
  statement_id: number;
  series?: InfluxQlSeries[];
  error?: string;
}

export interface InfluxQlSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
}

export interface InfluxV1Server extends StartedServer {
  /**
   * `POST /query` (form-encoded `q`, `db`; `epoch` when given, else times are RFC 3339 strings).
   * Throws on an HTTP error and on a statement error (`results[i].error`, sent with HTTP 200).
   */
  query(
    q: string,
    db?: string,
    opts?: { epoch?: 'ns' | 'u' | 'ms' | 's' },
  ): Promise<InfluxQlResponse>;
  /** `CREATE DATABASE`, and with `rp` a `CREATE RETENTION POLICY ... REPLICATION 1 [DEFAULT]`. */
  createDatabase(
    db: string,
    rp?: { name: string; duration: string; default?: boolean },
  ): Promise<void>;
  /** `POST /write` of line protocol; throws unless 204. */
  write(
    lines: string,
    opts: { db: string; rp?: string; precision?: 'ns' | 'u' | 'ms' | 's' },
  ): Promise<void>;
}

/** One series of VictoriaMetrics `/api/v1/export` (timestamps in ms). */
export interface VictoriaMetricsSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export interface VictoriaMetricsServer extends StartedServer {
  /** Makes just-written samples searchable (`/internal/force_flush`). */
  flush(): Promise<void>;
  /**
   * `/api/v1/export` for one series selector, sorted by labels. Call {@link flush} after writing.
   *
   * How VictoriaMetrics 1.79 maps line protocol (checked against the real binary): a line
   * `health_metrics,metric_type=a value=1 1700000000` becomes
   * `{__name__="health_metrics_value", metric_type="a"}`: the metric name is
   * `<measurement>_<field>` (every field becomes its own series), tags become labels unchanged.
   * `/api/v2/write?bucket=x&org=y` adds NO label for the bucket or org (not even `bucket=db/rp`);
   * `/write?db=mydb` adds the label `db="mydb"` (the `-influxDBLabel` default). Both endpoints answer
   * 204 with `X-Influxdb-Version: 1.8.0`, even for lines they could not parse (those are logged and
   * skipped), and they accept `NaN` field values.
   */
  exportSeries(match: string): Promise<VictoriaMetricsSeries[]>;
}

export type ServerBinary = 'prometheus' | 'promtool' | 'influxd' | 'victoria-metrics';

const ALL_BINARIES: readonly ServerBinary[] = [
  'prometheus',
  'promtool',
  'influxd',
  'victoria-metrics',
];
const STOP_GRACE_MS = 10_000;
const STARTUP_TIMEOUT_MS = 60_000;
const START_ATTEMPTS = 3;
const LOG_TAIL_LINES = 30;

/** A free TCP port on 127.0.0.1 (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * Throws an Error naming `scripts/install-deps.sh` when one of the server binaries (default: all
 * four) is not found on PATH or in /usr/bin.
 */
export function ensureServerBinaries(names: readonly ServerBinary[] = ALL_BINARIES): void {
  const missing = names.filter((name) => findBinary(name) === undefined);
  if (missing.length > 0) {
    throw new Error(
      `Missing server binaries: ${missing.join(', ')}. Install them with ` +
        '`bash scripts/install-deps.sh` (Debian packages prometheus, influxdb, victoria-metrics; needs root or sudo).',
    );
  }
}

/**
 * Prometheus with a generated config. With `openMetrics` (text) or `openMetricsFile` (path, for
 * large fixtures), the data is backfilled before start with
 * `promtool tsdb create-blocks-from openmetrics --max-block-duration=24h` (promtool reads the input
 * once per block range, so larger blocks are much faster on long fixtures). Retention is 100y so
 * fixtures with old timestamps stay. Resolves when `/-/ready` answers 200.
 */
export async function startPrometheus(
  opts: {
    openMetrics?: string;
    openMetricsFile?: string;
    scrapeTargets?: { job: string; target: string; intervalSeconds: number }[];
    /** Extra command-line flags, e.g. `--query.max-samples=1000`. */
    extraArgs?: string[];
    /** Where Prometheus logs every query it evaluates (`global.query_log_file`), one JSON line each. */
    queryLogFile?: string;
  } = {},
): Promise<StartedServer> {
  ensureServerBinaries(
    opts.openMetrics !== undefined || opts.openMetricsFile !== undefined
      ? ['prometheus', 'promtool']
      : ['prometheus'],
  );
  const dataDir = await mkdtemp(join(tmpdir(), 'promflux-prometheus-'));
  try {
    const tsdbDir = join(dataDir, 'data');
    if (opts.openMetrics !== undefined || opts.openMetricsFile !== undefined) {
      let input = opts.openMetricsFile;
      if (input === undefined) {
        input = join(dataDir, 'fixture.om');
        await writeFile(input, opts.openMetrics ?? '');
      }
      await runTool(findBinary('promtool')!, [
        'tsdb',
        'create-blocks-from',
        'openmetrics',
        '--quiet',
        '--max-block-duration=24h',
        input,
        tsdbDir,
      ]);
    }
    const configPath = join(dataDir, 'prometheus.yml');
    await writeFile(configPath, prometheusConfig(opts.scrapeTargets ?? [], opts.queryLogFile));
    return await launch({
      name: 'Prometheus',
      binary: findBinary('prometheus')!,
      dataDir,
      ports: 1,
      args: ([port]) => [
        `--config.file=${configPath}`,
        `--storage.tsdb.path=${tsdbDir}`,
        '--storage.tsdb.retention.time=100y',
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=info',
        ...(opts.extraArgs ?? []),
      ],
      ready: { path: '/-/ready', status: 200 },
    });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * InfluxDB 1.x (`influxd run -config <generated>`): HTTP and RPC on loopback free ports, usage
 * reporting and the `_internal` monitor store off, logging at warn. With `auth`, authentication is
 * on and `auth.username` is created as admin; the helpers then send Basic auth. Resolves when
 * `/ping` answers 204.
 */
export async function startInfluxV1(
  opts: {
    auth?: { username: string; password: string };
    httpPort?: number;
    /** Extra `[data]` settings, e.g. `{ 'max-series-per-database': 5 }` (limits under test). */
    data?: Record<string, number | string | boolean>;
  } = {},
): Promise<InfluxV1Server> {
  ensureServerBinaries(['influxd']);
  const dataDir = await mkdtemp(join(tmpdir(), 'promflux-influxdb-'));
  const configPath = join(dataDir, 'influxdb.conf');
  let server: StartedServer;
  try {
    server = await launch({
      name: 'InfluxDB',
      binary: findBinary('influxd')!,
      dataDir,
      ports: 2,
      httpPort: opts.httpPort,
      beforeStart: ([httpPort, rpcPort]) =>
        writeFile(
          configPath,
          influxConfig(dataDir, httpPort!, rpcPort!, opts.auth !== undefined, opts.data ?? {}),
        ),
      args: () => ['run', '-config', configPath],
      ready: { path: '/ping', status: 204 },
    });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  const authHeader = opts.auth
    ? `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`
    : undefined;
  const headers = (): Record<string, string> => (authHeader ? { Authorization: authHeader } : {});

  const query: InfluxV1Server['query'] = async (q, db, queryOpts) => {
    const form = new URLSearchParams({ q });
    if (db !== undefined) form.set('db', db);
    if (queryOpts?.epoch) form.set('epoch', queryOpts.epoch);
    const res = await fetch(`${server.url}/query`, {
      method: 'POST',
      headers: { ...headers(), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`InfluxDB /query answered ${res.status}: ${text.trim()}`);
    const body = JSON.parse(text) as InfluxQlResponse;
    const failed = body.results.find((r) => r.error !== undefined);
    if (body.error !== undefined || failed) {
      throw new Error(
        `InfluxDB /query failed for ${JSON.stringify(q)}: ${body.error ?? failed!.error}`,
      );
    }
    return body;
  };

  const influx: InfluxV1Server = {
    ...server,
    query,
    async createDatabase(db, rp) {
      await query(`CREATE DATABASE ${quoteIdent(db)}`);
      if (rp) {
        await query(
          `CREATE RETENTION POLICY ${quoteIdent(rp.name)} ON ${quoteIdent(db)} DURATION ${rp.duration} REPLICATION 1${rp.default ? ' DEFAULT' : ''}`,
        );
      }
    },
    async write(lines, writeOpts) {
      const params = new URLSearchParams({
        db: writeOpts.db,
        precision: writeOpts.precision ?? 'ns',
      });
      if (writeOpts.rp !== undefined) params.set('rp', writeOpts.rp);
      const res = await fetch(`${server.url}/write?${params.toString()}`, {
        method: 'POST',
        headers: { ...headers(), 'Content-Type': 'text/plain; charset=utf-8' },
        body: lines,
        signal: AbortSignal.timeout(30_000),
      });
      if (res.status !== 204) {
        throw new Error(`InfluxDB /write answered ${res.status}: ${(await res.text()).trim()}`);
      }
    },
  };

  if (opts.auth) {
    try {
      // Allowed without credentials only while no user exists.
      const create = new URLSearchParams({
        q: `CREATE USER ${quoteIdent(opts.auth.username)} WITH PASSWORD ${quoteString(opts.auth.password)} WITH ALL PRIVILEGES`,
      });
      const res = await fetch(`${server.url}/query`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: create,
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json()) as InfluxQlResponse;
      const error = body.error ?? body.results?.find((r) => r.error)?.error;
      // The message is InfluxDB's own; it never echoes the password.
      if (!res.ok || error)
        throw new Error(`InfluxDB: creating the admin user failed: ${error ?? res.status}`);
    } catch (err) {
      await server.stop();
      throw err;
    }
  }
  return influx;
}

/**
 * VictoriaMetrics single-node: loopback, `-retentionPeriod=100y`, `-search.latencyOffset=0s` and
 * `-search.disableCache` so fresh and old samples are queryable at once (deduplication stays off:
 * `-dedup.minScrapeInterval` is left at 0). No flag that makes it talk to anything. Resolves when
 * `/health` answers 200.
 */
export async function startVictoriaMetrics(): Promise<VictoriaMetricsServer> {
  ensureServerBinaries(['victoria-metrics']);
  const dataDir = await mkdtemp(join(tmpdir(), 'promflux-victoria-metrics-'));
  let server: StartedServer;
  try {
    server = await launch({
      name: 'VictoriaMetrics',
      binary: findBinary('victoria-metrics')!,
      dataDir,
      ports: 1,
      args: ([port]) => [
        `-httpListenAddr=127.0.0.1:${port}`,
        `-storageDataPath=${join(dataDir, 'data')}`,
        '-retentionPeriod=100y',
        '-search.latencyOffset=0s',
        '-search.disableCache',
        '-loggerLevel=INFO',
      ],
      ready: { path: '/health', status: 200 },
    });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...server,
    async flush() {
      const res = await fetch(`${server.url}/internal/force_flush`, {
        signal: AbortSignal.timeout(30_000),
      });
      await res.text();
      if (!res.ok) throw new Error(`VictoriaMetrics /internal/force_flush answered ${res.status}`);
    },
    async exportSeries(match) {
      const res = await fetch(`${server.url}/api/v1/export`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ 'match[]': match }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (!res.ok)
        throw new Error(`VictoriaMetrics /api/v1/export answered ${res.status}: ${text.trim()}`);
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as VictoriaMetricsSeries)
        .sort((a, b) => compareLabels(a.metric, b.metric));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Process handling

interface LaunchSpec {
  name: string;
  binary: string;
  dataDir: string;
  /** How many free ports to allocate; the first one serves HTTP. */
  ports: number;
  /** The HTTP port to use instead of a free one (a test that starts a server where one was down). */
  httpPort?: number;
  beforeStart?: (ports: number[]) => Promise<void>;
  args: (ports: number[]) => string[];
  ready: { path: string; status: number };
}

/** Live children and their temp dirs. */
const running = new Map<ChildProcess, string>();
let exitHookInstalled = false;

/** Starts the binary, retrying with new ports when another process grabbed one in the meantime. */
async function launch(spec: LaunchSpec): Promise<StartedServer> {
  for (let attempt = 1; ; attempt++) {
    const ports: number[] = [];
    for (let i = 0; i < spec.ports; i++) {
      ports.push(i === 0 && spec.httpPort !== undefined ? spec.httpPort : await freePort());
    }
    await spec.beforeStart?.(ports);
    try {
      return serverOf(spec, ports, await launchOnce(spec, ports));
    } catch (err) {
      const portTaken = err instanceof Error && /address already in use/i.test(err.message);
      if (!portTaken || attempt >= START_ATTEMPTS) throw err;
    }
  }
}

/** One run of the binary: its process, and `terminate()` which resolves once it is gone. */
interface Process {
  child: ChildProcess;
  terminate(): Promise<void>;
}

function serverOf(spec: LaunchSpec, ports: number[], first: Process): StartedServer {
  let current = first;
  let stopping: Promise<void> | undefined;
  const halt = async (): Promise<void> => {
    current.child.kill('SIGCONT'); // a frozen process cannot act on SIGTERM
    await current.terminate();
  };
  return {
    url: `http://127.0.0.1:${ports[0]!}`,
    port: ports[0]!,
    dataDir: spec.dataDir,
    stop: () => {
      stopping ??= (async () => {
        await halt();
        await rm(spec.dataDir, { recursive: true, force: true });
      })();
      return stopping;
    },
    pause: () => current.child.kill('SIGSTOP'),
    resume: () => current.child.kill('SIGCONT'),
    halt,
    restart: async () => {
      current = await launchOnce(spec, ports);
    },
  };
}

async function launchOnce(spec: LaunchSpec, ports: number[]): Promise<Process> {
  const port = ports[0]!;
  const url = `http://127.0.0.1:${port}`;
  const logPath = join(spec.dataDir, 'server.log');
  const logFd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(spec.binary, spec.args(ports), {
      cwd: spec.dataDir,
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, GOMAXPROCS: process.env.GOMAXPROCS ?? '2' },
    });
  } finally {
    closeSync(logFd);
  }
  track(child, spec.dataDir);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.once('error', (err) => resolve(err.message));
  });

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const outcome = await Promise.race([
      exited.then((how) => ({ exited: how })),
      probe(url + spec.ready.path).then((status) => ({ status })),
    ]);
    if ('exited' in outcome) {
      const tail = logTail(logPath);
      await terminate(child, exited);
      throw new Error(
        `${spec.name} exited during startup (${String(outcome.exited)}). Last log lines:\n${tail}`,
      );
    }
    if (outcome.status === spec.ready.status) break;
    if (Date.now() > deadline) {
      const tail = logTail(logPath);
      await terminate(child, exited);
      throw new Error(
        `${spec.name} not ready at ${url}${spec.ready.path} within ${STARTUP_TIMEOUT_MS / 1000}s ` +
          `(last status: ${outcome.status ?? 'no answer'}). Last log lines:\n${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, terminate: () => terminate(child, exited) };
}

/** HTTP status of a GET, or undefined when nothing answers yet. */
async function probe(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}

/** SIGTERM, SIGKILL after {@link STOP_GRACE_MS}, resolves once the process is gone. */
async function terminate(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      child.kill('SIGKILL');
      await exited;
    }
  }
  running.delete(child);
}

/**
 * Remembers the child so it is killed (and its temp dir removed) when this process exits. On SIGINT/SIGTERM/SIGHUP, if no one
 * else handles the signal, children are killed and the signal's default action is restored and
 * re-raised; when the embedding program has its own handler, it owns the shutdown.
 */
function track(child: ChildProcess, dataDir: string): void {
  running.set(child, dataDir);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      process.removeListener(signal, onSignal);
      killAllSync();
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Last resort on exit: SIGKILL every child, then a best-effort removal of its temp dir. */
function killAllSync(): void {
  for (const [child, dataDir] of running) {
    try {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Already gone, or files still held by the dying process: nothing more to do on exit.
    }
  }
  running.clear();
}

function runTool(binary: string, args: string[]): Promise<void> {
  return promisify(execFile)(binary, args, { maxBuffer: 16 * 1024 * 1024 }).then(
    () => undefined,
    (err: Error & { stderr?: string; stdout?: string }) => {
      const output = `${err.stdout ?? ''}${err.stderr ?? ''}`
        .trim()
        .split('\n')
        .slice(-LOG_TAIL_LINES)
        .join('\n');
      throw new Error(`${binary} ${args.join(' ')} failed:\n${output || err.message}`);
    },
  );
}

function logTail(path: string): string {
  try {
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    return lines.slice(-LOG_TAIL_LINES).join('\n') || '(log empty)';
  } catch {
    return '(no log)';
  }
}

export function findBinary(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean),
    '/usr/bin',
    '/usr/sbin',
  ];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Try the next directory.
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Generated configs

/** JSON is valid YAML, so the config needs no YAML writer. */
function prometheusConfig(
  targets: { job: string; target: string; intervalSeconds: number }[],
  queryLogFile?: string,
): string {
  const scrapeConfigs = targets.map((t) => {
    const target = parseTarget(t.target);
    const interval = `${t.intervalSeconds}s`;
    return {
      job_name: t.job,
      scrape_interval: interval,
      scrape_timeout: `${Math.min(t.intervalSeconds, 10)}s`,
      scheme: target.scheme,
      metrics_path: target.path,
      static_configs: [{ targets: [target.hostPort] }],
    };
  });
  const config = {
    global: {
      scrape_interval: '15s',
      scrape_timeout: '10s',
      evaluation_interval: '15s',
      ...(queryLogFile === undefined ? {} : { query_log_file: queryLogFile }),
    },
    scrape_configs: scrapeConfigs,
  };
  return JSON.stringify(config, null, 2) + '\n';
}

/** `host:port` (metrics at `/metrics`) or a full `http://host:port/path` URL. */
function parseTarget(target: string): { scheme: string; hostPort: string; path: string } {
  if (!/^https?:\/\//.test(target)) return { scheme: 'http', hostPort: target, path: '/metrics' };
  const url = new URL(target);
  return {
    scheme: url.protocol.slice(0, -1),
    hostPort: url.host,
    path: url.pathname === '/' ? '/metrics' : url.pathname,
  };
}

function influxConfig(
  dir: string,
  httpPort: number,
  rpcPort: number,
  auth: boolean,
  data: Record<string, number | string | boolean>,
): string {
  const extraData = Object.entries(data)
    .map(([key, value]) => `  ${key} = ${typeof value === 'string' ? tomlString(value) : value}\n`)
    .join('');
  // `reporting-disabled` is upstream's key; Debian's 1.6.7 renamed it to `reporting-enabled`.
  // Unknown keys are ignored, so both are set to keep any build from phoning home.
  return `reporting-disabled = true
reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = ${tomlString(join(dir, 'meta'))}
  logging-enabled = false

[data]
  dir = ${tomlString(join(dir, 'data'))}
  wal-dir = ${tomlString(join(dir, 'wal'))}
  query-log-enabled = false
${extraData}
[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  log-enabled = false

[http]
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = ${auth}
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
`;
}

function tomlString(value: string): string {
  return JSON.stringify(value);
}

/** InfluxQL identifier in double quotes. */
function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** InfluxQL string literal in single quotes. */
function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function compareLabels(a: Record<string, string>, b: Record<string, string>): number {
  const ka = JSON.stringify(Object.entries(a).sort());
  const kb = JSON.stringify(Object.entries(b).sort());
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
