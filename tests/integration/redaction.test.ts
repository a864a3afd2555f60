/**
 * Secrets never leave the process, even when a server or proxy echoes the request (credentials
 * included) in its error bodies: promflux runs as a child process against a real Prometheus, the
 * InfluxDB 2.x fake answering 503 with the request headers in the body, and a small InfluxDB 1.x
 * stand-in answering 500/503 (or 400 that dead-letters) the same way, with Basic auth. No secret,
 * in any form promflux sends it, may appear in stdout, stderr, the summaries (text and --json),
 * the dead-letter file, /status, the status page, /readyz or /metrics; `[REDACTED]` stands there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import { freePort, startPrometheus, type StartedServer } from '../../scripts/lib/servers.js';
import { InfluxDbV2Fake } from '../fakes/influxdb-v2-fake.js';
import { runChild } from '../support/child-process.js';
import { echoRequest, startEchoServer, type EchoServer } from '../support/echo-server.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const STEP_MS = 15_000;
// Data up to 10 minutes into the future: `--once` (the last interval) and the daemon find samples.
const FIXTURE_END = Math.floor(Date.now() / STEP_MS) * STEP_MS + 600_000;

const TOKEN = 'v2-tok_Zq9xLm3Rt7';
const V1_USER = 'writer';
const V1_PASSWORD = 'v1-Pa$$:w0rd"\\x';
const HEADER_SECRET = 'hdr-key-4Kp8Wn2';
const PROM_BEARER = 'prom-bearer-Y6tV1c';
const URL_PASSWORD = 'url-pw@Hq5';
const BASIC = Buffer.from(`${V1_USER}:${V1_PASSWORD}`).toString('base64');
const URL_BASIC = Buffer.from(`reader:${URL_PASSWORD}`).toString('base64');
/** Every secret, and every encoding of one that a text could carry. */
const FORBIDDEN = [
  TOKEN,
  V1_PASSWORD,
  JSON.stringify(V1_PASSWORD).slice(1, -1),
  encodeURIComponent(V1_PASSWORD),
  BASIC,
  URL_PASSWORD,
  encodeURIComponent(URL_PASSWORD),
  URL_BASIC,
  HEADER_SECRET,
  PROM_BEARER,
];

function expectNoSecret(text: string, where: string): void {
  for (const secret of FORBIDDEN) expect(text, `${where} leaks ${secret}`).not.toContain(secret);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('secrets echoed in error bodies are redacted from every output', () => {
  let prometheus: StartedServer;
  let v2: InfluxDbV2Fake;
  let v1: EchoServer;
  let dir: string;
  /** What the InfluxDB 1.x stand-in answers to writes next. */
  let v1Answer: 'unavailable' | 'rejected' = 'unavailable';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-redaction-'));
    [prometheus, v2, v1] = await Promise.all([
      startPrometheus({
        openMetrics: generateHealthFixture({
          startMs: FIXTURE_END - 3_600_000,
          endMs: FIXTURE_END,
          intervalMs: STEP_MS,
          instances: 1,
        }),
      }),
      InfluxDbV2Fake.start({ token: TOKEN }),
      startEchoServer((req) => {
        if (v1Answer === 'rejected') {
          // A partial write that dropped every line: promflux dead-letters them with this reason.
          const error = `partial write: field type conflict (${echoRequest(req)}) dropped=100000`;
          return { status: 400, body: JSON.stringify({ error }) };
        }
        return v1.requests % 2 === 0
          ? { status: 500, body: `internal error while proxying ${echoRequest(req)}` }
          : { status: 503, body: `unavailable: ${echoRequest(req)}` };
      }),
    ]);
    // Every write to the 2.x fake fails with the request headers in the body.
    v2.failNext(1_000_000, {
      status: 503,
      body: (req) =>
        JSON.stringify({ code: 'unavailable', message: `upstream down; got ${echoRequest(req)}` }),
    });
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), v2?.stop(), v1?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function writeConfig(
    name: string,
    influxdb: string,
    extra = '',
    prometheusAuth = `prometheus_url: "${prometheus.url}"\n  bearer_token: "${PROM_BEARER}"`,
  ): Promise<string> {
    const path = join(dir, name);
    await writeFile(
      path,
      `extract:
  ${prometheusAuth}
  retry: { max_attempts: 1 }
  queries:
    - { name: availability, query: "up", step: 15s }
load:
  influxdb:
${influxdb}
    headers: { X-Api-Key: "${HEADER_SECRET}" }
    retry: { max_attempts: 2, initial_delay: 10ms, max_delay: 20ms }
  dead_letter_path: "${join(dir, `${name}.dead-letter.jsonl`)}"
pipeline:
  interval_seconds: 900
  delay: 0s
  log_level: info
  state_dir: "${join(dir, `${name}.state`)}"
${extra}`,
    );
    return path;
  }

  const v2Config = (): string =>
    `    url: "${v2.url}"\n    api: v2\n    token: "${TOKEN}"\n    org: "promflux"\n    bucket: "metrics"`;
  const v1Config = (): string =>
    `    url: "${v1.url}"\n    api: v1\n    bucket: "health"\n` +
    `    username: "${V1_USER}"\n    password: ${JSON.stringify(V1_PASSWORD)}`;

  function start(args: string[]): {
    child: ChildProcess;
    done: Promise<Run>;
    stdout: () => string;
  } {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/promflux.js'), ...args], {
      cwd: dir,
      env: { ...process.env, PROMFLUX_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const done = once(child, 'close').then(([code]) => ({
      code: code as number | null,
      stdout,
      stderr,
    }));
    return { child, done, stdout: () => stdout };
  }

  async function cli(...args: string[]): Promise<Run> {
    const { status, stdout, stderr } = await runChild(
      process.execPath,
      [join(REPO_ROOT, 'bin/promflux.js'), ...args],
      { cwd: dir, env: { ...process.env, PROMFLUX_CONFIG: '' } },
    );
    return { code: status, stdout, stderr };
  }

  function expectRedactedRun(run: Run, what: string): void {
    expectNoSecret(run.stdout, `${what} stdout`);
    expectNoSecret(run.stderr, `${what} stderr`);
    expect(run.stdout, `${what} summary`).toContain('[REDACTED]');
    expect(run.stderr, `${what} log`).toContain('[REDACTED]');
  }

  it('--once against InfluxDB 2.x echoing the Token: text and --json summaries, logs', async () => {
    const config = await writeConfig('v2-once.yaml', v2Config());
    const writesBefore = v2.writes().length;
    for (const json of [false, true]) {
      const run = await cli('--once', '-c', config, ...(json ? ['--json'] : []));
      expect(run.code, run.stderr).not.toBe(0);
      expectRedactedRun(run, `--once${json ? ' --json' : ''}`);
      expect(run.stdout).toContain(`Token [REDACTED]`);
      if (json) {
        const record = JSON.parse(run.stdout.trim()) as { ok: boolean; error: string };
        expect(record.ok).toBe(false);
        expect(record.error).toMatch(/HTTP 503: .*authorization: Token \[REDACTED\]/);
      }
    }
    // The body really echoed the token: the fake saw the writes it answered.
    expect(v2.writes().length).toBeGreaterThan(writesBefore);
  });

  it('backfill against InfluxDB 1.x echoing Basic auth in 500/503 bodies', async () => {
    v1Answer = 'unavailable';
    const config = await writeConfig('v1-backfill.yaml', v1Config());
    const from = new Date(FIXTURE_END - 1_800_000).toISOString();
    const to = new Date(FIXTURE_END - 900_000).toISOString();
    for (const json of [false, true]) {
      const run = await cli(
        'backfill',
        '-c',
        config,
        '--from',
        from,
        '--to',
        to,
        '--fresh',
        '--no-progress',
        ...(json ? ['--json'] : []),
      );
      expect(run.code, run.stderr).not.toBe(0);
      expectRedactedRun(run, `backfill${json ? ' --json' : ''}`);
      expect(run.stdout).toContain('authorization: Basic [REDACTED]');
    }
  });

  it('dead-letter file: the echoed Basic auth is redacted from the error, the lines are kept', async () => {
    v1Answer = 'rejected';
    try {
      const config = await writeConfig('v1-dead-letter.yaml', v1Config());
      const run = await cli('--once', '-c', config);
      expectNoSecret(run.stdout, 'stdout');
      expectNoSecret(run.stderr, 'stderr');
      const deadLetters = await readFile(
        join(dir, 'v1-dead-letter.yaml.dead-letter.jsonl'),
        'utf8',
      );
      expectNoSecret(deadLetters, 'dead-letter file');
      const rows = deadLetters
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { line: string; error: string });
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.error).toContain('authorization: Basic [REDACTED]');
        expect(row.line).toMatch(/^health_metrics,/);
      }
    } finally {
      v1Answer = 'unavailable';
    }
  });

  it.each([
    ['URL userinfo (Basic auth)', 'Basic'],
    ['a bearer token', 'Bearer'],
  ])('--once against a Prometheus proxy echoing %s and headers in a 503', async (_, scheme) => {
    const proxy = await startEchoServer((req) => ({
      status: 503,
      body: `proxy: upstream unavailable for ${echoRequest(req)}`,
    }));
    try {
      const url =
        scheme === 'Basic'
          ? proxy.url.replace('http://', `http://reader:${encodeURIComponent(URL_PASSWORD)}@`)
          : proxy.url;
      const auth = scheme === 'Bearer' ? `\n  bearer_token: "${PROM_BEARER}"` : '';
      const config = await writeConfig(
        `prometheus-proxy-${scheme}.yaml`,
        v2Config(),
        '',
        `prometheus_url: "${url}"${auth}\n  headers: { X-Api-Key: "${HEADER_SECRET}" }`,
      );
      const run = await cli('--once', '-c', config);
      expect(run.code, run.stderr).not.toBe(0);
      expect(proxy.requests).toBeGreaterThan(0);
      expectRedactedRun(run, `prometheus proxy (${scheme})`);
      expect(run.stdout).toContain(`authorization: ${scheme} [REDACTED]`);
      expect(run.stdout).toContain('x-api-key: [REDACTED]');
    } finally {
      await proxy.stop();
    }
  });

  it('the daemon: /status, the status page, /readyz and /metrics, stdout and stderr', async () => {
    const port = await freePort();
    const statusUrl = `http://127.0.0.1:${port}`;
    const config = await writeConfig(
      'v2-daemon.yaml',
      v2Config(),
      `server:\n  listen: "127.0.0.1:${port}"\n`,
    );
    const daemon = start(['run', '--json', '-c', config]);
    try {
      // Until the first cycle's failure is on record.
      let status: { queries: { lastError: string | null }[] } | undefined;
      const deadline = Date.now() + 60_000;
      while (!status?.queries[0]?.lastError) {
        if (Date.now() > deadline || daemon.child.exitCode !== null) {
          throw new Error(`no failure recorded in /status; stdout: ${daemon.stdout()}`);
        }
        await new Promise((r) => setTimeout(r, 200));
        status = await fetch(`${statusUrl}/status`)
          .then((r) => r.json() as Promise<typeof status>)
          .catch(() => undefined);
      }
      expect(status.queries[0].lastError).toContain('Token [REDACTED]');
      for (const path of ['/status', '/', '/readyz', '/metrics']) {
        const body = await (await fetch(`${statusUrl}${path}`)).text();
        expectNoSecret(body, path);
        if (path === '/status' || path === '/') expect(body, path).toContain('[REDACTED]');
      }
    } finally {
      daemon.child.kill('SIGTERM');
    }
    const run = await daemon.done;
    expect(run.code).toBe(0);
    expectRedactedRun(run, 'run --json');
  });
});
