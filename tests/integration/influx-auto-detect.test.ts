/**
 * `load.influxdb.api: auto` with InfluxDB 1.x down when the daemon starts: the first detection
 * fails, the daemon writes with the fallback API (v2 here: token and org are set, and 1.6.7 has
 * no /api/v2/write), and once the real influxd comes up on that port, detection runs again and
 * the points land through /write.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import {
  freePort,
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const STEP_MS = 15_000;
const FIXTURE_END = Math.floor(Date.now() / STEP_MS) * STEP_MS + 600_000;

describe('api: auto with InfluxDB 1.x down at start', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server | undefined;
  let daemon: ChildProcess | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-autodetect-'));
    prometheus = await startPrometheus({
      openMetrics: generateHealthFixture({
        startMs: FIXTURE_END - 3_600_000,
        endMs: FIXTURE_END,
        intervalMs: STEP_MS,
        instances: 1,
      }),
    });
  });
  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGKILL');
      await once(daemon, 'exit');
    }
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('detects again once InfluxDB answers, and writes with v1', async () => {
    const influxPort = await freePort(); // nothing listens here yet
    const config = join(dir, 'promflux.yaml');
    await writeFile(
      config,
      `extract:
  prometheus_url: "${prometheus.url}"
  queries:
    - { name: availability, query: "up", step: 1s }
load:
  influxdb:
    url: "http://127.0.0.1:${influxPort}"
    api: auto
    token: not-checked-by-1.x
    org: some-org
    bucket: "autodetect/autogen"
    timeout: 2s
    retry: { max_attempts: 2, initial_delay: 100ms, max_delay: 200ms }
pipeline:
  interval_seconds: 1
  delay: 0s
  initial_lookback: 20s
  log_level: info
  state_dir: "${join(dir, 'state')}"
server:
  listen: false
`,
    );
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/promflux.js'), 'run', '--json'], {
      cwd: dir,
      env: { ...process.env, PROMFLUX_CONFIG: config },
    });
    daemon = child;
    const output = logWatcher(child);

    // Detection at start and a write through the fallback API found nothing listening.
    await output.waitFor(
      /Write attempt failed[^\n]*ECONNREFUSED|ECONNREFUSED[^\n]*Write attempt failed/,
    );

    const server = await startInfluxV1({ httpPort: influxPort });
    influx = server;
    await server.createDatabase('autodetect');

    const deadline = Date.now() + 30_000;
    let count = 0;
    while (count === 0) {
      if (Date.now() > deadline) throw new Error(`no points landed:\n${output.text()}`);
      const res = await server.query('SELECT count(*) FROM health_metrics', 'autodetect');
      count = Number(res.results[0]?.series?.[0]?.values?.[0]?.[1] ?? 0);
      if (count === 0) await output.next();
    }
    expect(count).toBeGreaterThan(0);
    expect(output.text()).toMatch(/Detected the InfluxDB v1 write API/);
    expect(output.text()).not.toContain('not-checked-by-1.x');

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});

/** The child's stdout and stderr, with a way to await more of it or a line that matches. */
function logWatcher(child: ChildProcess) {
  let text = '';
  let exited = false;
  let waiters: Array<{ wake: () => void; fail: (err: Error) => void }> = [];
  const settle = (how: (w: (typeof waiters)[number]) => void): void => {
    const woken = waiters;
    waiters = [];
    woken.forEach(how);
  };
  const onData = (d: Buffer): void => {
    text += d.toString();
    settle((w) => w.wake());
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.once('exit', () => {
    exited = true;
    settle((w) => w.fail(new Error(`promflux exited:\n${text}`)));
  });
  const next = (): Promise<void> =>
    new Promise((wake, fail) => {
      if (exited) fail(new Error(`promflux exited:\n${text}`));
      else waiters.push({ wake, fail });
    });
  return {
    text: () => text,
    next,
    async waitFor(pattern: RegExp): Promise<void> {
      while (!pattern.test(text)) await next();
    },
  };
}
