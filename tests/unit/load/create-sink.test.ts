import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';

import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

import type { InfluxSinkConfig } from '../../../src/config/types.js';
import { SinkError } from '../../../src/core/errors.js';
import type { HttpEndpointOptions } from '../../../src/core/http.js';
import { createSink } from '../../../src/load/create-sink.js';
import { DeadLetterFile } from '../../../src/load/dead-letter.js';
import { apiFromVersion, detectInfluxApi, fallbackApi } from '../../../src/core/influx-api.js';
import { InfluxDbV1Sink } from '../../../src/load/influxdb-v1.js';
import { parseDatabaseTarget } from '../../../src/core/database-target.js';
import { InfluxDbV2Sink } from '../../../src/load/influxdb-v2.js';
import { InfluxDbV2Fake } from '../../fakes/influxdb-v2-fake.js';

/** A minimal server answering /ping with the given headers and recording write requests. */
async function pingServer(
  pingHeaders: Record<string, string>,
  opts: { port?: number; pingStatus?: number } = {},
): Promise<{
  url: string;
  writes: http.IncomingHttpHeaders[];
  urls: string[];
  readonly pings: number;
  close: () => Promise<void>;
}> {
  const writes: http.IncomingHttpHeaders[] = [];
  const urls: string[] = [];
  let pings = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/ping') {
        pings++;
        res.writeHead(opts.pingStatus ?? 204, pingHeaders);
      } else {
        writes.push(req.headers);
        urls.push(req.url ?? '');
        res.writeHead(204);
      }
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    writes,
    urls,
    get pings() {
      return pings;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const endpoint = (url: string): HttpEndpointOptions => ({
  url,
  timeoutMs: 2000,
  headers: {},
  auth: { type: 'none' },
  tls: {},
});

function config(url: string, overrides: Partial<InfluxSinkConfig> = {}): InfluxSinkConfig {
  return {
    endpoint: endpoint(url),
    api: 'auto',
    bucket: 'metrics',
    batchSize: 5000,
    gzip: false,
    retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1, multiplier: 1, jitter: 0 },
    ...overrides,
  };
}

const deps = (logs: string[] = []) => ({
  deadLetter: new DeadLetterFile('/nonexistent/never-written.jsonl'),
  logger: pino(
    { level: 'info' },
    new Writable({
      write(c: Buffer, _e, cb) {
        logs.push(c.toString());
        cb();
      },
    }),
  ),
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('apiFromVersion', () => {
  it.each([
    ['1.6.7~rc0', 'v1'],
    ['1.8.10', 'v1'],
    ['v2.7.12', 'v2'],
    ['2.0.0', 'v2'],
    ['3.0.1', 'v2'],
    ['', undefined],
    [undefined, undefined],
    ['cloud2', undefined],
  ])('%j → %j', (version, api) => {
    expect(apiFromVersion(version)).toBe(api);
  });
});

describe('detectInfluxApi', () => {
  it('reads X-Influxdb-Version from /ping', async () => {
    const fake = await InfluxDbV2Fake.start();
    cleanups.push(() => fake.stop());
    const v1 = await pingServer({ 'X-Influxdb-Version': '1.6.7~rc0' });
    cleanups.push(v1.close);
    expect(await detectInfluxApi(endpoint(fake.url))).toBe('v2');
    expect(await detectInfluxApi(endpoint(v1.url), { whenUnknown: 'v2' })).toBe('v1');
  });

  it('uses whenUnknown when /ping has no version header (VictoriaMetrics)', async () => {
    const vm = await pingServer({ 'X-Server-Hostname': 'vm' });
    cleanups.push(vm.close);
    expect(await detectInfluxApi(endpoint(vm.url), { whenUnknown: 'v2' })).toBe('v2');
    expect(await detectInfluxApi(endpoint(vm.url))).toBe('v1');
  });

  it('rejects with SinkError when unreachable', async () => {
    await expect(detectInfluxApi(endpoint('http://127.0.0.1:1'))).rejects.toBeInstanceOf(SinkError);
  });
});

describe('createSink', () => {
  it('fallback rule: v2 when a token and an org are configured, else v1', () => {
    expect(fallbackApi(config('http://x', { token: 't', org: 'o' }))).toBe('v2');
    expect(fallbackApi(config('http://x', { token: 't' }))).toBe('v1');
    expect(fallbackApi(config('http://x', { org: 'o' }))).toBe('v1');
    expect(fallbackApi(config('http://x', { username: 'u', password: 'p' }))).toBe('v1');
    expect(fallbackApi(config('http://x'))).toBe('v1');
  });

  it('resolves auto once at creation from /ping', async () => {
    const fake = await InfluxDbV2Fake.start();
    cleanups.push(() => fake.stop());
    const sink = await createSink(config(fake.url, { token: fake.token, org: fake.org }), deps());
    cleanups.push(() => sink.close());
    expect(sink).toBeInstanceOf(InfluxDbV2Sink);
    const v1 = await pingServer({ 'X-Influxdb-Version': '1.8.10' });
    cleanups.push(v1.close);
    const sink1 = await createSink(config(v1.url, { bucket: 'db/rp' }), deps());
    cleanups.push(() => sink1.close());
    expect(sink1).toBeInstanceOf(InfluxDbV1Sink);
  });

  it('falls back to the credentials rule with a warning when the server is down', async () => {
    const logs: string[] = [];
    const sink = await createSink(
      config('http://127.0.0.1:1', { token: 't0ken-abc', org: 'o' }),
      deps(logs),
    );
    cleanups.push(() => sink.close());
    expect(logs.join('')).toMatch(/Could not detect the InfluxDB API; writing with v2/);
    expect(logs.join('')).not.toContain('t0ken-abc');
  });

  it('detects again before each write until /ping answers, then keeps the answer', async () => {
    const port = await unusedPort();
    const sink = await createSink(
      config(`http://127.0.0.1:${port}`, { token: 't', org: 'o', bucket: 'db' }),
      deps(),
    );
    cleanups.push(() => sink.close());
    // Down: the fallback (v2, token and org are set) tries and fails.
    await expect(sink.write(lineBatch())).rejects.toBeInstanceOf(SinkError);

    // A proxy's error page without a version settles nothing either.
    const proxy = await pingServer({}, { port, pingStatus: 502 });
    await sink.write(lineBatch());
    await proxy.close();
    expect(proxy.urls).toEqual(['/api/v2/write?org=o&bucket=db&precision=ms']);

    const v1 = await pingServer({ 'X-Influxdb-Version': '1.6.7~rc0' }, { port });
    cleanups.push(v1.close);
    await sink.write(lineBatch());
    await sink.write(lineBatch());
    expect(v1.urls).toEqual(['/write?db=db&precision=ms', '/write?db=db&precision=ms']);
    expect(v1.pings).toBe(1);
  });

  it('honours an explicit api without probing', async () => {
    const sink = await createSink(
      config('http://127.0.0.1:1', { api: 'v1', bucket: 'db' }),
      deps(),
    );
    cleanups.push(() => sink.close());
    expect(sink).toBeInstanceOf(InfluxDbV1Sink);
  });
});

function lineBatch() {
  return { body: Buffer.from('m f=1 1\n'), lines: 1, precision: 'ms' as const, query: 'q' };
}

/** A loopback port nothing listens on (yet). */
async function unusedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('InfluxDbV1Sink request shape', () => {
  it('parses db and db/rp targets', () => {
    expect(parseDatabaseTarget('db')).toEqual({ db: 'db' });
    expect(parseDatabaseTarget('db/rp')).toEqual({ db: 'db', rp: 'rp' });
    expect(() => parseDatabaseTarget('db/rp/x')).toThrow(/not a valid InfluxDB 1.x target/);
    expect(() => parseDatabaseTarget('/rp')).toThrow(/not a valid InfluxDB 1.x target/);
    expect(() => parseDatabaseTarget('db/')).toThrow(/not a valid InfluxDB 1.x target/);
  });

  it('sends credentials as Basic auth, never as u/p URL parameters', async () => {
    const server = await pingServer({ 'X-Influxdb-Version': '1.6.7~rc0' });
    cleanups.push(server.close);
    const sink = new InfluxDbV1Sink(
      config(server.url, {
        api: 'v1',
        bucket: 'telegraf/weekly',
        username: 'writer',
        password: 'pa55',
      }),
      deps(),
    );
    cleanups.push(() => sink.close());
    const report = await sink.write({
      body: Buffer.from('m f=1 1\n'),
      lines: 1,
      precision: 'ms',
      query: 'q',
    });
    expect(report.written).toBe(1);
    expect(server.urls).toEqual(['/write?db=telegraf&rp=weekly&precision=ms']);
    expect(server.writes[0]!.authorization).toBe(
      `Basic ${Buffer.from('writer:pa55').toString('base64')}`,
    );
  });
});
