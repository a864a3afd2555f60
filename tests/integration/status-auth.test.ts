/**
 * `server.auth` through the container's entry point without the container: the built CLI's
 * `promflux run`, configured by PROMFLUX__* variables alone as the image is, listening on every
 * interface (the image's `0.0.0.0:9469`), the token from a file. /status and the status page want
 * the token; /healthz, /readyz and /metrics answer without it; the token never reaches the output.
 * The podman test (container.test.ts) repeats the essentials in the image itself.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/servers.js';
import { spawnPromflux } from '../support/promflux-cli.js';

const TOKEN = 'status-auth-token-5Yh1';
const PASSWORD = 'status-auth-pw-0Qe7';

describe('promflux run on every interface with server.auth, configured as the image is', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-status-auth-'));
    await writeFile(join(dir, 'status-token'), `${TOKEN}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses /status and / without the credentials, keeps the probes and /metrics open', async () => {
    const port = await freePort();
    const deadPort = await freePort();
    const daemon = spawnPromflux(['run'], {
      cwd: dir,
      env: {
        // Nothing answers there: the cycles fail, which /status then reports.
        PROMFLUX__EXTRACT__PROMETHEUS_URL: `http://127.0.0.1:${deadPort}`,
        PROMFLUX__EXTRACT__RETRY__MAX_ATTEMPTS: '1',
        PROMFLUX__LOAD__INFLUXDB__URL: `http://127.0.0.1:${deadPort}`,
        PROMFLUX__LOAD__INFLUXDB__API: 'v1',
        PROMFLUX__LOAD__INFLUXDB__BUCKET: 'health',
        PROMFLUX__PIPELINE__STATE_DIR: join(dir, 'state'),
        PROMFLUX__SERVER__LISTEN: `0.0.0.0:${port}`,
        PROMFLUX__SERVER__AUTH__BEARER_TOKEN_FILE: join(dir, 'status-token'),
        PROMFLUX__SERVER__AUTH__BASIC_AUTH__USERNAME: 'ops',
        PROMFLUX__SERVER__AUTH__BASIC_AUTH__PASSWORD: PASSWORD,
      },
    });
    const output = (): string => daemon.stdout() + daemon.stderr();
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 30_000;
      while (
        !(await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (Date.now() > deadline || daemon.child.exitCode !== null) throw new Error(output());
        await new Promise((r) => setTimeout(r, 100));
      }
      // Bound to every interface, as the log says.
      expect(output()).toMatch(new RegExp(`"url":"http://0\\.0\\.0\\.0:${port}"`));

      for (const path of ['/status', '/']) {
        const refused = await fetch(`${base}${path}`);
        expect(refused.status, path).toBe(401);
        expect(refused.headers.get('www-authenticate'), path).toBe(
          'Bearer realm="promflux", Basic realm="promflux", charset="UTF-8"',
        );
        const wrong = await fetch(`${base}${path}`, { headers: { Authorization: 'Bearer nope' } });
        expect(wrong.status, path).toBe(401);
        for (const authorization of [
          `Bearer ${TOKEN}`,
          `Basic ${Buffer.from(`ops:${PASSWORD}`).toString('base64')}`,
        ]) {
          const ok = await fetch(`${base}${path}`, { headers: { Authorization: authorization } });
          expect(ok.status, `${path} ${authorization.split(' ')[0]}`).toBe(200);
          expect(await ok.text()).toMatch(/availability/);
        }
      }
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      // Never ready (nothing is reachable), but it answers without credentials and says why.
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).not.toBe('');
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^promflux_/m);
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    expect(output()).not.toContain(TOKEN);
    expect(output()).not.toContain(PASSWORD);
  });
});
