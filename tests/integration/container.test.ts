/**
 * What the container image does, without a Docker engine: `promflux run` started the way the
 * Dockerfile starts it (its ENTRYPOINT and CMD, its ENV, no config file in the working
 * directory), configured by PROMFLUX__* variables alone and pointed at a Prometheus and an InfluxDB
 * that do not answer. It must idle, serve /healthz, pass the Dockerfile's own HEALTHCHECK command,
 * and stop cleanly on the Dockerfile's STOPSIGNAL. Needs `npm run build` (bin/ imports dist/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/servers.js';
import {
  envOf,
  execForm,
  instructions,
  parseDockerfile,
  splitFlags,
} from '../support/dockerfile.js';

const REPO = resolve(import.meta.dirname, '../..');
const runtime = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).at(-1)!;
const arg = (keyword: string): string => instructions(runtime, keyword)[0]!.args;

/** The image's path for a file of this checkout (`/app/bin/x.js` → `<repo>/bin/x.js`). */
function local(imagePath: string): string {
  return join(REPO, posix.relative(arg('WORKDIR'), imagePath));
}

/** The command line, with the image's `node` being this Node. */
function command(argv: string[]): [string, string[]] {
  expect(argv[0]).toBe('node');
  return [process.execPath, argv.slice(1)];
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('the container image, run as its Dockerfile says (no Docker engine needed)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let port: number;
  let prometheusUrl: string;

  beforeAll(async () => {
    expect(
      existsSync(join(REPO, 'dist/cli/main.js')),
      'dist/ is missing: run `npm run build` first',
    ).toBe(true);
    dir = await mkdtemp(join(tmpdir(), 'promflux-container-'));
    const [deadPrometheus, deadInflux] = [await freePort(), await freePort()];
    port = await freePort();
    prometheusUrl = `http://127.0.0.1:${deadPrometheus}`;
    const image = envOf(runtime);
    // The image's settings, except what this machine needs: a free port (same host, every
    // interface, as in the image) and a writable stand-in for the /var/lib/promflux volume.
    const listenHost = image.PROMFLUX__SERVER__LISTEN!.slice(
      0,
      image.PROMFLUX__SERVER__LISTEN!.lastIndexOf(':'),
    );
    env = {
      PATH: process.env.PATH,
      ...image,
      PROMFLUX__SERVER__LISTEN: `${listenHost}:${port}`,
      PROMFLUX__PIPELINE__STATE_DIR: join(dir, 'state'),
      // What an operator adds: where the data comes from and goes to (neither answers here).
      PROMFLUX__EXTRACT__PROMETHEUS_URL: prometheusUrl,
      PROMFLUX__EXTRACT__TIMEOUT: '1s',
      PROMFLUX__EXTRACT__RETRY__MAX_ATTEMPTS: '1',
      PROMFLUX__LOAD__INFLUXDB__URL: `http://127.0.0.1:${deadInflux}`,
      PROMFLUX__LOAD__INFLUXDB__BUCKET: 'health_metrics',
      PROMFLUX__LOAD__INFLUXDB__TIMEOUT: '1s',
      PROMFLUX__LOAD__INFLUXDB__RETRY__MAX_ATTEMPTS: '1',
      PROMFLUX__PIPELINE__INTERVAL_SECONDS: '1',
      PROMFLUX__PIPELINE__LOG_LEVEL: 'info',
    };
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function healthcheck(): Promise<number | null> {
    const { rest } = splitFlags(arg('HEALTHCHECK'));
    const [file, args] = command(execForm(rest.replace(/^CMD\s+/, '')));
    // Docker runs the check inside the container: with the container's environment.
    return exitOf(spawn(file, args, { env, stdio: 'ignore' }));
  }

  it('idles without a config file, passes its HEALTHCHECK, and stops on its STOPSIGNAL', async () => {
    const entrypoint = execForm(arg('ENTRYPOINT'));
    const [file, args] = command([
      ...entrypoint.map((a, i) => (i === 0 ? a : local(a))),
      ...execForm(arg('CMD')),
    ]);
    // The working directory holds no config/promflux.yaml, like the image's /app.
    const child = spawn(file, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const deadline = Date.now() + 20_000;
      let status: number | null = null;
      while ((status = await healthcheck()) !== 0) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`healthcheck never passed (exit ${status}); daemon output:\n${out}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);

      // Cycles fail (nobody answers), the process stays up and says so.
      for (const until = Date.now() + 20_000; !/Query run failed/.test(out);) {
        if (Date.now() > until) throw new Error(`no failed query run logged:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(child.exitCode).toBeNull();
      expect(await healthcheck()).toBe(0);
      // The variables configured it: the default queries, against the Prometheus they named.
      expect(out).toContain(`failed (network): request to ${prometheusUrl} failed`);
    } finally {
      child.kill(arg('STOPSIGNAL') as NodeJS.Signals);
    }
    expect(await exitOf(child)).toBe(0);
    expect(out).toMatch(/"msg":"Stopped\."/);
    expect(out).not.toMatch(/cannot read config file/);
    expect(await healthcheck()).toBe(1);
  });
});
