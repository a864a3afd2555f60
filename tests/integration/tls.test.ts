/**
 * TLS for real: a CA generated for the test (openssl) and TLS-terminating proxies
 * (tests/support/tls-proxy.ts) in front of the real Prometheus and the real InfluxDB 1.x, driven
 * through the built CLI. Verification is on by default; `tls.ca_file`, `cert_file`/`key_file`
 * (mTLS) and `server_name` make it pass; `insecure_skip_verify` skips it and says so once a run.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import { WRITES_IN_FLIGHT } from '../../src/pipeline/pipeline.js';
import { finiteSamples, prometheusRange } from '../support/prometheus-range.js';
import { generateTestPki, OTHER_HOST, type TestPki } from '../support/test-pki.js';
import { startTlsProxy, type TlsProxy } from '../support/tls-proxy.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const STEP_MS = 15_000;
const FIXTURE_START = Date.UTC(2026, 0, 1);
const SAMPLES = 40;
const RANGE = { from: FIXTURE_START, to: FIXTURE_START + (SAMPLES - 1) * STEP_MS };

/** Samples for the fixed backfill range, and for the last ten minutes (what `--once` reads). */
function fixture(): string {
  const recentStart = Math.floor(Date.now() / STEP_MS) * STEP_MS - 10 * 60_000;
  const lines = ['# TYPE tls_probe gauge', '# HELP tls_probe A gauge read through TLS.'];
  for (const instance of ['a', 'b']) {
    for (const start of [FIXTURE_START, recentStart]) {
      for (let i = 0; i < SAMPLES; i++) {
        lines.push(`tls_probe{instance="${instance}"} ${i} ${(start + i * STEP_MS) / 1000}`);
      }
    }
  }
  return lines.join('\n') + '\n# EOF\n';
}

interface TlsKeys {
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  server_name?: string;
  insecure_skip_verify?: boolean;
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

describe('TLS through a terminating proxy in front of real Prometheus and InfluxDB 1.x', () => {
  let dir: string;
  let pki: TestPki;
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  const proxies: TlsProxy[] = [];
  /** Proxies presenting the 127.0.0.1/localhost certificate. */
  let prom: TlsProxy;
  let influxTls: TlsProxy;
  /** Proxies presenting a certificate for {@link OTHER_HOST} only. */
  let promOther: TlsProxy;
  let influxOther: TlsProxy;
  /** InfluxDB behind a proxy that requires a client certificate from the test CA. */
  let influxMtls: TlsProxy;
  let configs = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-tls-'));
    [pki, prometheus, influx] = await Promise.all([
      generateTestPki(dir),
      startPrometheus({ openMetrics: fixture() }),
      startInfluxV1(),
    ]);
    const proxy = async (
      target: StartedServer,
      serverCert: TestPki['server'],
      clientCa?: string,
    ): Promise<TlsProxy> => {
      const p = await startTlsProxy({ targetPort: target.port, serverCert, clientCa });
      proxies.push(p);
      return p;
    };
    prom = await proxy(prometheus, pki.server);
    promOther = await proxy(prometheus, pki.otherHost);
    influxTls = await proxy(influx, pki.server);
    influxOther = await proxy(influx, pki.otherHost);
    influxMtls = await proxy(influx, pki.server, pki.caFile);
  });
  afterAll(async () => {
    await Promise.allSettled([...proxies.map((p) => p.stop()), prometheus?.stop(), influx?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function tlsYaml(keys: TlsKeys | undefined, indent: string): string {
    if (!keys) return '';
    const body = Object.entries(keys)
      .map(([k, v]) => `${indent}  ${k}: ${JSON.stringify(v)}`)
      .join('\n');
    return `${indent}tls:\n${body}\n`;
  }

  /** A config reading `promUrl` and writing database `db` at `influxUrl`; returns its path. */
  async function config(opts: {
    promUrl: string;
    promTls?: TlsKeys;
    influxUrl: string;
    influxTls?: TlsKeys;
    db: string;
    /** One query, one request at a time: each request is then one connection. */
    serial?: boolean;
  }): Promise<string> {
    await influx.createDatabase(opts.db);
    const path = join(dir, `config-${++configs}.yaml`);
    await writeFile(
      path,
      `extract:
  prometheus_url: "${opts.promUrl}"
${tlsYaml(opts.promTls, '  ')}  concurrency: ${opts.serial ? 1 : 2}
  max_points_per_series: 11
  queries:
    - { name: probe, query: "tls_probe", step: 15s }
${opts.serial ? '' : '    - { name: probe_doubled, query: "tls_probe * 2", step: 15s }\n'}load:
  influxdb:
    url: "${opts.influxUrl}"
${tlsYaml(opts.influxTls, '    ')}    api: v1
    bucket: "${opts.db}/autogen"
    batch_size: 7
pipeline:
  interval_seconds: 1800
  delay: 0s
  state_dir: "${join(dir, `state-${configs}`)}"
  log_level: info
`,
    );
    return path;
  }

  async function cli(args: string[]): Promise<CliRun> {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [join(REPO_ROOT, 'bin/promflux.js'), ...args],
        { cwd: dir, env: { ...process.env, PROMFLUX_CONFIG: '' }, timeout: 60_000 },
      );
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      if (typeof e.code !== 'number') throw err;
      return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  /** Verification off at both ends, Prometheus behind a certificate for another host name. */
  const insecureConfig = (db: string): Promise<string> => {
    const insecure = { insecure_skip_verify: true };
    return config({
      promUrl: promOther.url,
      promTls: insecure,
      influxUrl: influxTls.url,
      influxTls: insecure,
      db,
    });
  };

  const check = (configPath: string): Promise<CliRun> => cli(['check', '-c', configPath]);
  const backfill = (configPath: string): Promise<CliRun> =>
    cli([
      'backfill',
      '-c',
      configPath,
      '--from',
      new Date(RANGE.from).toISOString(),
      '--to',
      new Date(RANGE.to).toISOString(),
    ]);

  /** Backfills into database `db` (empty) and asserts it holds exactly what Prometheus answers. */
  async function expectBackfillLands(configPath: string, db: string): Promise<CliRun> {
    const run = await backfill(configPath);
    expect(run.code, run.stderr).toBe(0);
    const range = { startMs: RANGE.from, endMs: RANGE.to, stepMs: STEP_MS };
    let expected = 0;
    for (const query of ['tls_probe', 'tls_probe * 2']) {
      for (const block of await prometheusRange(prometheus.url, query, range)) {
        expected += finiteSamples(block).length;
      }
    }
    expect(expected).toBe(4 * SAMPLES);
    const res = await influx.query('SELECT count(value) FROM health_metrics', db);
    expect(res.results[0]?.series?.[0]?.values?.[0]?.[1]).toBe(expected);
    return run;
  }

  it('verifies by default: an unknown CA fails every check, naming the endpoint and the reason', async () => {
    const run = await check(
      await config({ promUrl: prom.url, influxUrl: influxTls.url, db: 'unused' }),
    );
    expect(run.code).toBe(1);
    const lines = run.stdout.trim().split('\n');
    const untrusted =
      /unable to verify the first certificate \(the server's certificate is not signed by a CA promflux trusts: set tls\.ca_file to the CA that signed it\)$/;
    expect(lines.find((l) => l.includes(prom.url))).toMatch(/^FAIL prometheus /);
    expect(lines.find((l) => l.includes(prom.url))).toMatch(untrusted);
    expect(lines.find((l) => l.includes(influxTls.url))).toMatch(/^FAIL influxdb /);
    expect(lines.find((l) => l.includes(influxTls.url))).toMatch(untrusted);
  });

  it('fails --once on an unknown CA at the first attempt: a retry cannot fix a certificate', async () => {
    const trusted = { ca_file: pki.caFile };
    const untrusted =
      /unable to verify the first certificate \(the server's certificate is not signed by a CA promflux trusts: set tls\.ca_file to the CA that signed it\)/;
    const cases = [
      // One query, one range request at a time: one connection, no retry.
      {
        proxy: prom,
        connections: 1,
        path: await config({
          promUrl: prom.url,
          influxUrl: influxTls.url,
          influxTls: trusted,
          db: 'unknown_ca_prom',
          serial: true,
        }),
      },
      // The pipeline keeps up to WRITES_IN_FLIGHT writes in flight: each is tried once, none retried.
      {
        proxy: influxTls,
        connections: WRITES_IN_FLIGHT,
        path: await config({
          promUrl: prom.url,
          promTls: trusted,
          influxUrl: influxTls.url,
          db: 'unknown_ca_influx',
          serial: true,
        }),
      },
    ];
    for (const { proxy, connections, path } of cases) {
      const before = proxy.connections;
      const run = await cli(['--once', '-c', path]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(untrusted);
      expect(run.stderr).not.toMatch(/retrying/i);
      expect(proxy.connections - before, run.stderr).toBeGreaterThan(0);
      expect(proxy.connections - before, run.stderr).toBeLessThanOrEqual(connections);
    }
  });

  it('trusts the CA in tls.ca_file: check passes and a backfill lands exactly', async () => {
    const tls = { ca_file: pki.caFile };
    const path = await config({
      promUrl: prom.url,
      promTls: tls,
      influxUrl: influxTls.url,
      influxTls: tls,
      db: 'ca_file',
    });
    const run = await check(path);
    expect(run.stdout).not.toMatch(/FAIL/);
    expect(run.code, run.stdout).toBe(0);
    await expectBackfillLands(path, 'ca_file');
  });

  it('refuses a certificate for another host name even from the trusted CA', async () => {
    const tls = { ca_file: pki.caFile };
    const run = await check(
      await config({
        promUrl: promOther.url,
        promTls: tls,
        influxUrl: influxOther.url,
        influxTls: tls,
        db: 'unused',
      }),
    );
    expect(run.code).toBe(1);
    const altnames =
      /does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list \(the server's certificate is for another host name: use a name it has in the URL, or set tls\.server_name to one\)$/;
    expect(run.stdout.split('\n').find((l) => l.includes(promOther.url))).toMatch(altnames);
    expect(run.stdout.split('\n').find((l) => l.includes(influxOther.url))).toMatch(altnames);
  });

  it('accepts that certificate when tls.server_name names its host', async () => {
    const tls = { ca_file: pki.caFile, server_name: OTHER_HOST };
    const path = await config({
      promUrl: promOther.url,
      promTls: tls,
      influxUrl: influxOther.url,
      influxTls: tls,
      db: 'server_name',
    });
    const run = await check(path);
    expect(run.code, run.stdout).toBe(0);
    await expectBackfillLands(path, 'server_name');
  });

  it('presents the client certificate an mTLS proxy requires, and fails clearly without', async () => {
    const without = await check(
      await config({
        promUrl: prom.url,
        promTls: { ca_file: pki.caFile },
        influxUrl: influxMtls.url,
        influxTls: { ca_file: pki.caFile },
        db: 'unused',
      }),
    );
    expect(without.code).toBe(1);
    expect(without.stdout.split('\n').find((l) => l.includes(influxMtls.url))).toMatch(
      /^FAIL influxdb .* is unreachable: tlsv13 alert certificate required \(the server requires a client certificate: set tls\.cert_file and tls\.key_file\)$/,
    );
    expect(influxMtls.clientNames).toEqual([]);

    const path = await config({
      promUrl: prom.url,
      promTls: { ca_file: pki.caFile },
      influxUrl: influxMtls.url,
      influxTls: { ca_file: pki.caFile, cert_file: pki.client.cert, key_file: pki.client.key },
      db: 'mtls',
    });
    const run = await check(path);
    expect(run.code, run.stdout).toBe(0);
    await expectBackfillLands(path, 'mtls');
    expect(new Set(influxMtls.clientNames)).toEqual(new Set(['promflux']));
  });

  it('runs --once over mTLS: what it reports written is what InfluxDB holds', async () => {
    const run = await cli([
      '--once',
      '-c',
      await config({
        promUrl: prom.url,
        promTls: { ca_file: pki.caFile },
        influxUrl: influxMtls.url,
        influxTls: { ca_file: pki.caFile, cert_file: pki.client.cert, key_file: pki.client.key },
        db: 'once',
      }),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const written = [...run.stdout.matchAll(/; (\d+) written to influxdb/g)].map((m) =>
      Number(m[1]),
    );
    expect(written).toHaveLength(2);
    const total = written.reduce((a, b) => a + b, 0);
    // Both series of both queries over (at least) the ten recent minutes.
    expect(total).toBeGreaterThanOrEqual(4 * SAMPLES);
    const res = await influx.query('SELECT count(value) FROM health_metrics', 'once');
    expect(res.results[0]?.series?.[0]?.values?.[0]?.[1]).toBe(total);
  });

  it('skips verification with insecure_skip_verify and warns once a run, not per request', async () => {
    const path = await insecureConfig('insecure');
    const handshakesBefore = { prom: promOther.handshakes, influx: influxTls.handshakes };
    const run = await expectBackfillLands(path, 'insecure');
    // Several requests (queries × chunks, batches) went over TLS, each time unverified...
    expect(promOther.handshakes - handshakesBefore.prom).toBeGreaterThan(0);
    expect(influxTls.handshakes - handshakesBefore.influx).toBeGreaterThan(0);
    // ...and each section's warning was logged exactly once.
    const warnings = run.stderr.split('\n').filter((l) => l.includes('insecure_skip_verify'));
    expect(warnings.filter((l) => l.includes('extract.tls.insecure_skip_verify'))).toHaveLength(1);
    expect(
      warnings.filter((l) => l.includes('load.influxdb.tls.insecure_skip_verify')),
    ).toHaveLength(1);
    expect(warnings).toHaveLength(2);
    expect(warnings.map((l) => (JSON.parse(l) as { level: string }).level)).toEqual([
      'warn',
      'warn',
    ]);
  });

  it('check prints the insecure_skip_verify warnings as check-config does', async () => {
    const path = await insecureConfig('insecure_check');
    const insecureLines = (run: CliRun): string[] =>
      run.stderr.split('\n').filter((l) => l.includes('insecure_skip_verify'));
    const checked = await check(path);
    expect(checked.code, checked.stdout).toBe(0);
    const validated = await cli(['check-config', '-c', path]);
    expect(validated.code, validated.stderr).toBe(0);
    expect(insecureLines(validated)).toEqual([
      expect.stringMatching(/^warning: extract\.tls\.insecure_skip_verify: the certificate of /),
      expect.stringMatching(/^warning: load\.influxdb\.tls\.insecure_skip_verify: /),
    ]);
    expect(insecureLines(checked)).toEqual(insecureLines(validated));
  });
});
