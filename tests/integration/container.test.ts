/**
 * The container image, built and run for real: scripts/container-test.sh installs podman, builds a
 * local Node base and the image from the Dockerfile; here it runs against the suite's real
 * Prometheus and InfluxDB 1.x (authentication on), the way deploy/kubernetes/sidecar.yaml runs it:
 * host network (same network namespace as Prometheus), PROMFLUX__* variables, the InfluxDB secret
 * from a read-only mount (mode 0440, group of the image's user, as the kubelet lays it out), state
 * on a volume at that manifest's path, a read-only root file system, the image's own user.
 */
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import {
  freePort,
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import {
  envOf,
  execForm,
  instructions,
  parseDockerfile,
  splitFlags,
} from '../support/dockerfile.js';
import { preparePodman, type Podman } from '../support/podman.js';
import { finiteSamples, prometheusRange } from '../support/prometheus-range.js';
import { rawTierWatermarks } from '../support/health-daemon.js';

const REPO = resolve(import.meta.dirname, '../..');
const runtime = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).at(-1)!;
const IMAGE_USER = instructions(runtime, 'USER')[0]!.args;
const STATE_DIR = envOf(runtime).PROMFLUX__PIPELINE__STATE_DIR!;
const sidecar = sidecarContainer();

const STEP_MS = 1000;
const FIXTURE_STEP_MS = 15_000;
// From 20 minutes ago to 10 minutes ahead: every query (rate() over 1m too) has data at every
// moment of the test.
const FIXTURE_END = Math.floor(Date.now() / FIXTURE_STEP_MS) * FIXTURE_STEP_MS + 600_000;
const FIXTURE = {
  startMs: FIXTURE_END - 1_800_000,
  endMs: FIXTURE_END,
  intervalMs: FIXTURE_STEP_MS,
  instances: 2,
};
const QUERIES: Record<string, string> = {
  availability: 'up',
  request_rate: 'rate(http_requests_total[1m])',
};
const USERNAME = 'promflux';
const PASSWORD = 'container-test-secret-4f1d';
/** server.auth's bearer token for /status, from the same secret mount. */
const STATUS_TOKEN = 'container-status-token-8e2a';
const PREPARE_TIMEOUT_MS = 30 * 60_000;
const SCENARIO_TIMEOUT_MS = 5 * 60_000;

/** What deploy/kubernetes/sidecar.yaml gives the promflux container: the test runs it alike. */
interface SidecarSpec {
  uid: number;
  gid: number;
  graceSeconds: number;
  configFile: string;
  secretDir: string;
  stateDir: string;
}

interface Watermarks {
  queries: Record<string, { watermarkMs: number }>;
}

/** A "Query run finished." log record. */
interface RunRecord {
  query: string;
  ok: boolean;
  from: string;
  to: string;
  points: number;
}

describe('the container image, run with podman against real Prometheus and InfluxDB 1.x', () => {
  let podman: Podman;
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let dir: string;
  let secretDir: string;
  const containers: string[] = [];
  const volumes: string[] = [];
  const name = (what: string): string => `promflux-test-${process.pid}-${what}`;

  beforeAll(async () => {
    const started = Date.now();
    podman = await preparePodman(REPO);
    console.log(`container test: podman ready, image built in ${seconds(Date.now() - started)}`);
    dir = await mkdtemp(join(tmpdir(), 'promflux-container-'));
    [prometheus, influx] = await Promise.all([
      startPrometheus({ openMetrics: generateHealthFixture(FIXTURE) }),
      startInfluxV1({ auth: { username: USERNAME, password: PASSWORD } }),
    ]);
    await influx.createDatabase('sidecar');
    await influx.createDatabase('tty');
    // The Secret as the kubelet mounts it with fsGroup: owner root, group readable, 0440.
    secretDir = join(dir, 'secret');
    await mkdir(secretDir);
    await writeFile(join(secretDir, 'password'), PASSWORD);
    await writeFile(join(secretDir, 'status-token'), `${STATUS_TOKEN}\n`);
    await chown(secretDir, 0, sidecar.gid);
    await chmod(secretDir, 0o750);
    for (const file of ['password', 'status-token']) {
      await chown(join(secretDir, file), 0, sidecar.gid);
      await chmod(join(secretDir, file), 0o440);
    }
  }, PREPARE_TIMEOUT_MS);

  afterAll(async () => {
    if (podman) {
      for (const c of containers)
        await podman.run(['rm', '--force', '--volumes', '--time', '0', c]);
      for (const v of volumes) await podman.run(['volume', 'rm', '--force', v]);
    }
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function createVolume(what: string): Promise<string> {
    const volume = name(what);
    await podman.ok(['volume', 'create', volume]);
    volumes.push(volume);
    return volume;
  }

  /** The sidecar's settings as variables; `PROMFLUX__*` values for the server and InfluxDB. */
  function sidecarEnv(port: number, db: string): Record<string, string> {
    return {
      PROMFLUX__EXTRACT__PROMETHEUS_URL: prometheus.url,
      PROMFLUX__LOAD__INFLUXDB__URL: influx.url,
      PROMFLUX__LOAD__INFLUXDB__API: 'v1',
      PROMFLUX__LOAD__INFLUXDB__BUCKET: `${db}/autogen`,
      PROMFLUX__LOAD__INFLUXDB__USERNAME: USERNAME,
      PROMFLUX__LOAD__INFLUXDB__PASSWORD_FILE: `${sidecar.secretDir}/password`,
      PROMFLUX__PIPELINE__INTERVAL_SECONDS: '1',
      PROMFLUX__PIPELINE__DELAY: '0s',
      PROMFLUX__PIPELINE__INITIAL_LOOKBACK: '20s',
      // Loopback of the host: the host network is shared, and nothing may listen beyond it.
      PROMFLUX__SERVER__LISTEN: `127.0.0.1:${port}`,
    };
  }

  /**
   * `podman run -d` of the image as the sidecar manifest runs it; resolves once /healthz answers,
   * with how long that took.
   */
  async function start(
    container: string,
    opts: {
      env: Record<string, string>;
      volume: string;
      mounts?: string[];
      tty?: boolean;
    },
  ): Promise<{ base: string; startupMs: number }> {
    const base = `http://${opts.env.PROMFLUX__SERVER__LISTEN}`;
    const args = [
      'run',
      '--detach',
      '--name',
      container,
      '--network',
      'host',
      '--read-only',
      // The check is run on demand below; podman's periodic timer needs systemd.
      '--health-interval',
      'disable',
      ...(opts.tty ? ['--tty'] : []),
      ...Object.entries(opts.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      '--volume',
      `${secretDir}:${sidecar.secretDir}:ro`,
      '--volume',
      `${opts.volume}:${sidecar.stateDir}`,
      ...(opts.mounts ?? []).flatMap((m) => ['--volume', m]),
      podman.image,
    ];
    const started = Date.now();
    await podman.ok(args);
    containers.push(container);
    await waitFor(`${container} serving /healthz`, async () => {
      const state = await podman.ok(['inspect', '--format', '{{.State.Status}}', container]);
      if (state !== 'running')
        throw new Error(`${container} is ${state}:\n${await logs(container)}`);
      const res = await fetch(`${base}/healthz`).catch(() => undefined);
      return res?.status === 200;
    });
    return { base, startupMs: Date.now() - started };
  }

  async function logs(container: string): Promise<string> {
    const out = await podman.run(['logs', container]);
    return out.stdout + out.stderr;
  }

  /** `podman stop` with the manifest's grace period; resolves to the container's exit code. */
  async function stop(container: string): Promise<number> {
    await podman.ok(['stop', '--time', String(sidecar.graceSeconds), container]);
    return Number(await podman.ok(['inspect', '--format', '{{.State.ExitCode}}', container]));
  }

  async function watermarks(volume: string): Promise<Watermarks> {
    const path = join(await volumePath(volume), 'watermarks.json');
    return rawTierWatermarks(await readFile(path, 'utf8'), STEP_MS);
  }

  async function volumePath(volume: string): Promise<string> {
    return podman.ok(['volume', 'inspect', '--format', '{{.Mountpoint}}', volume]);
  }

  /** Waits until each query's watermark is past `afterMs`. */
  async function waitForWatermarks(
    volume: string,
    afterMs: number,
    queries = Object.keys(QUERIES),
  ): Promise<Watermarks> {
    let w: Watermarks | undefined;
    await waitFor(`watermarks past ${new Date(afterMs).toISOString()}`, async () => {
      w = await watermarks(volume).catch(() => undefined);
      return w !== undefined && queries.every((q) => (w!.queries[q]?.watermarkMs ?? 0) > afterMs);
    });
    return w!;
  }

  it(
    'runs as a sidecar: configured by variables, secret from a mount, points land exactly; its probes and HEALTHCHECK pass; SIGTERM saves the watermark, a new container resumes with no gap and no duplicate',
    async () => {
      const volume = await createVolume('state');
      const port = await freePort();
      const env = {
        ...sidecarEnv(port, 'sidecar'),
        PROMFLUX__EXTRACT__QUERIES: JSON.stringify(
          Object.entries(QUERIES).map(([n, query]) => ({ name: n, query, step: '1s' })),
        ),
      };
      const first = name('sidecar-1');
      const { base, startupMs } = await start(first, { env, volume });
      console.log(`container test: start-up (podman run to /healthz 200): ${seconds(startupMs)}`);

      // The image's own HEALTHCHECK, as the image carries it (docker format keeps it).
      const healthcheck = JSON.parse(
        await podman.ok([
          'image',
          'inspect',
          '--format',
          '{{json .HealthCheck.Test}}',
          podman.image,
        ]),
      ) as string[];
      const { rest } = splitFlags(instructions(runtime, 'HEALTHCHECK')[0]!.args);
      expect(healthcheck).toEqual(['CMD', ...execForm(rest.replace(/^CMD\s+/, ''))]);
      const check = await podman.run(['healthcheck', 'run', first]);
      expect(check.status, check.stdout + check.stderr).toBe(0);

      // The image's user, a read-only root, state owned by that user on the volume.
      const status = await podman.ok(['exec', first, 'cat', '/proc/1/status']);
      const [uid, gid] = IMAGE_USER.split(':').map(Number);
      expect([uid, gid]).toEqual([sidecar.uid, sidecar.gid]);
      expect(sidecar.stateDir).toBe(STATE_DIR);
      expect(status).toMatch(new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'));
      expect(status).toMatch(new RegExp(`^Gid:\\s+${gid}\\s+${gid}\\s+${gid}\\s+${gid}$`, 'm'));
      const write = await podman.run(['exec', first, 'touch', '/app/bin/written']);
      expect(write.status).not.toBe(0);
      expect(write.stderr).toContain('Read-only file system');

      const w1 = await waitForWatermarks(volume, Date.now() - 1000);
      expect((await stat(join(await volumePath(volume), 'watermarks.json'))).uid).toBe(uid);
      const ready = await fetch(`${base}/readyz`);
      expect(`${ready.status} ${await ready.text()}`).toMatch(/^200 /);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(
        /^promflux_points_written_total\{query="availability",sink="influxdb"\} [1-9]/m,
      );
      await waitForWatermarks(volume, w1.queries.availability!.watermarkMs + 2000);

      // SIGTERM: a clean exit within the grace period (SIGKILL would be 137), state saved.
      expect(await stop(first)).toBe(0);
      const firstLogs = await logs(first);
      expect(firstLogs).toMatch(/"msg":"Stopped\."/);
      const saved = await watermarks(volume);
      const firstRuns = runRecords(firstLogs);
      for (const q of Object.keys(QUERIES)) {
        const last = firstRuns.filter((r) => r.query === q).at(-1)!;
        expect(saved.queries[q]!.watermarkMs, q).toBe(Date.parse(last.to));
      }

      // A new container on the same volume starts right after the saved watermark.
      const second = name('sidecar-2');
      await start(second, { env, volume });
      await waitForWatermarks(volume, saved.queries.availability!.watermarkMs + 3000);
      expect(await stop(second)).toBe(0);
      const secondLogs = await logs(second);
      const secondRuns = runRecords(secondLogs);
      const final = await watermarks(volume);
      for (const q of Object.keys(QUERIES)) {
        const resumed = secondRuns.find((r) => r.query === q)!;
        expect(Date.parse(resumed.from), q).toBe(saved.queries[q]!.watermarkMs + STEP_MS);
      }

      for (const [q, query] of Object.entries(QUERIES)) {
        const runs = [...firstRuns, ...secondRuns].filter((r) => r.query === q);
        // Every run succeeded, so each point was handed to InfluxDB once...
        expect(runs.filter((r) => !r.ok)).toEqual([]);
        const startMs = Date.parse(runs[0]!.from);
        const endMs = final.queries[q]!.watermarkMs;
        const expected = await prometheusPoints(query, startMs, endMs);
        const landed = await influxPoints('sidecar', q);
        expect(expected.length).toBeGreaterThan(20);
        // ...and InfluxDB holds exactly Prometheus' grid points from the first run to the last
        // watermark: no gap between the containers, nothing else.
        expect(landed).toEqual(expected);
        expect(runs.reduce((sum, r) => sum + r.points, 0)).toBe(expected.length);
      }
      for (const out of [firstLogs, secondLogs]) expect(out).not.toContain(PASSWORD);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'runs with a TTY (podman run -t), a config file mounted read-only, /status behind server.auth',
    async () => {
      const volume = await createVolume('tty-state');
      const configDir = join(dir, 'config');
      await mkdir(configDir);
      // The queries from the file, as in the sidecar manifest's ConfigMap; the rest from variables.
      await writeFile(
        join(configDir, 'promflux.yaml'),
        'extract:\n  queries:\n    - { name: tty_availability, query: up, step: 1s }\n',
      );
      await chmod(configDir, 0o755);
      const port = await freePort();
      const container = name('tty');
      await start(container, {
        env: {
          ...sidecarEnv(port, 'tty'),
          PROMFLUX_CONFIG: sidecar.configFile,
          PROMFLUX__SERVER__AUTH__BEARER_TOKEN_FILE: `${sidecar.secretDir}/status-token`,
        },
        volume,
        mounts: [
          `${configDir}:${sidecar.configFile.slice(0, sidecar.configFile.lastIndexOf('/'))}:ro`,
        ],
        tty: true,
      });
      // server.auth from a variable and a mounted secret: /status wants the token, the probes
      // (and the image's HEALTHCHECK, on /healthz) and /metrics do not.
      const base = `http://127.0.0.1:${port}`;
      const refused = await fetch(`${base}/status`);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="promflux"');
      const authorized = await fetch(`${base}/status`, {
        headers: { Authorization: `Bearer ${STATUS_TOKEN}` },
      });
      expect(authorized.status).toBe(200);
      expect((await fetch(`${base}/metrics`)).status).toBe(200);
      const check = await podman.run(['healthcheck', 'run', container]);
      expect(check.status, check.stdout + check.stderr).toBe(0);

      const final = await waitForWatermarks(volume, Date.now() + 1000, ['tty_availability']);
      expect(Object.keys(final.queries)).toEqual(['tty_availability']);
      expect(await stop(container)).toBe(0);
      const out = await logs(container);
      expect(out).toMatch(/Stopped\./);
      expect(out).not.toContain(PASSWORD);
      expect(out).not.toContain(STATUS_TOKEN);

      const endMs = (await watermarks(volume)).queries.tty_availability!.watermarkMs;
      const landed = await influxPoints('tty', 'tty_availability');
      const startMs = Math.min(...landed.map(time));
      const expected = await prometheusPoints('up', startMs, endMs);
      expect(expected.length).toBeGreaterThan(2);
      expect(landed).toEqual(expected);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it('is lean: production dependencies only; prints its size', async () => {
    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const production = Object.entries(lock.packages)
      .filter(([path, p]) => path.startsWith('node_modules/') && p.dev !== true)
      .map(([path]) => path)
      .sort();
    // Package roots under /app/node_modules, named as the lock file names them.
    const found = await podman.ok([
      'run',
      '--rm',
      '--health-interval',
      'disable',
      '--entrypoint',
      'find',
      podman.image,
      '/app/node_modules',
      '-name',
      'package.json',
    ]);
    const packageRoot = /^\/app\/((?:node_modules\/(?:@[^/]+\/)?[^/]+\/)+)package\.json$/;
    const listed = found.split('\n').flatMap((f) => packageRoot.exec(f)?.[1]?.slice(0, -1) ?? []);
    expect(listed.sort()).toEqual(production);
    const size = Number(
      await podman.ok(['image', 'inspect', '--format', '{{.Size}}', podman.image]),
    );
    console.log(`container test: image ${podman.image} is ${(size / 1e6).toFixed(0)} MB`);
  });

  /** `labels|value@time` rows Prometheus answers for the 1s grid in [startMs, endMs]. */
  async function prometheusPoints(
    query: string,
    startMs: number,
    endMs: number,
  ): Promise<string[]> {
    const series = await prometheusRange(prometheus.url, query, {
      startMs,
      endMs,
      stepMs: STEP_MS,
    });
    return series
      .flatMap((s) => {
        // README "Data model": `__name__` becomes the tag metric_name, `job` the tag service.
        const { __name__: metricName, job, ...rest } = s.labels;
        const key = labelKey({
          ...rest,
          ...(job !== undefined && { service: job }),
          ...(metricName !== undefined && { metric_name: metricName }),
        });
        return finiteSamples(s).map(({ timestampMs, value }) => `${key}|${value}@${timestampMs}`);
      })
      .sort();
  }

  /** The same rows for every point of one query in one database. */
  async function influxPoints(db: string, metricType: string): Promise<string[]> {
    const res = await influx.query(
      `SELECT value FROM health_metrics WHERE metric_type = '${metricType}' GROUP BY *`,
      db,
      { epoch: 'ms' },
    );
    return (res.results[0]?.series ?? [])
      .flatMap((series) => {
        const { metric_type: _, ...tags } = series.tags ?? {};
        const nonEmpty = Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== ''));
        return (series.values ?? []).map(
          ([t, v]) => `${labelKey(nonEmpty)}|${String(v)}@${String(t)}`,
        );
      })
      .sort();
  }
});

function labelKey(labels: Record<string, string>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function time(row: string): number {
  return Number(row.slice(row.lastIndexOf('@') + 1));
}

function runRecords(logs: string): RunRecord[] {
  return logs
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as RunRecord & { msg: string })
    .filter((r) => r.msg === 'Query run finished.');
}

async function waitFor(what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The promflux container of deploy/kubernetes/sidecar.yaml: its user, grace period and paths. */
function sidecarContainer(): SidecarSpec {
  interface Mount {
    name: string;
    mountPath: string;
  }
  interface Doc {
    kind: string;
    spec?: {
      template?: {
        spec: {
          terminationGracePeriodSeconds: number;
          securityContext: { runAsUser: number; runAsGroup: number };
          containers: Array<{
            name: string;
            env: Array<{ name: string; value?: string }>;
            volumeMounts: Mount[];
          }>;
          volumes: Array<{ name: string; secret?: object; persistentVolumeClaim?: object }>;
        };
      };
    };
  }
  const docs = loadAll(readFileSync(join(REPO, 'deploy/kubernetes/sidecar.yaml'), 'utf8')) as Doc[];
  const pod = docs.find((d) => d.kind === 'Deployment')!.spec!.template!.spec;
  const container = pod.containers.find((c) => c.name === 'promflux')!;
  const mountOf = (kind: 'secret' | 'persistentVolumeClaim'): string => {
    const volume = pod.volumes.find((v) => v[kind] !== undefined)!;
    return container.volumeMounts.find((m) => m.name === volume.name)!.mountPath;
  };
  return {
    uid: pod.securityContext.runAsUser,
    gid: pod.securityContext.runAsGroup,
    graceSeconds: pod.terminationGracePeriodSeconds,
    configFile: container.env.find((e) => e.name === 'PROMFLUX_CONFIG')!.value!,
    secretDir: mountOf('secret'),
    stateDir: mountOf('persistentVolumeClaim'),
  };
}
