import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SinkError } from '../../../src/core/errors.js';
import {
  parseListen,
  startStatusServer,
  type StatusServer,
} from '../../../src/observe/http-server.js';
import { DaemonMetrics } from '../../../src/observe/metrics.js';
import { renderStatusPage } from '../../../src/observe/status-page.js';
import { DaemonStatus } from '../../../src/observe/status.js';
import { queryRun } from '../../support/query-run.js';
import type { QueryRunResult } from '../../../src/pipeline/run-query.js';
import { Redactor } from '../../../src/core/redact.js';

const run = (query: string, written: number, error?: unknown): QueryRunResult =>
  queryRun(query, written, error, { nan: 2 });

describe('DaemonStatus', () => {
  it('is ready only once a cycle reached both ends, and says why not', () => {
    const status = new DaemonStatus(['a', 'b'], () => 120_000);
    expect(status.readiness()).toEqual({ ready: false, reason: 'no cycle has finished yet' });
    status.recordRun(run('a', 5));
    status.recordRun(run('b', 0, new SinkError('SINK_WRITE_FAILED', 'influx down', 503)));
    status.recordCycle(false);
    expect(status.readiness()).toMatchObject({
      ready: false,
      reason: expect.stringContaining('b') as unknown,
    });
    status.recordRun(run('b', 3));
    status.recordCycle(true);
    expect(status.readiness().ready).toBe(true);
    status.recordWatermark('a', 60_000);
    const a = status.snapshot().queries.find((q) => q.query === 'a')!;
    expect(a).toMatchObject({ pointsWritten: 5, lagSeconds: 60, lastError: null });
  });

  it('renders every value HTML-escaped', () => {
    const status = new DaemonStatus(['<script>alert(1)</script>']);
    status.recordRun(run('<script>alert(1)</script>', 1, new Error('"quoted" & <b>')));
    const page = renderStatusPage(status.snapshot());
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('&quot;quoted&quot; &amp; &lt;b&gt;');
  });
});

describe('status server', () => {
  let server: StatusServer | undefined;
  afterEach(async () => server?.close());

  it('parses listen addresses', () => {
    expect(parseListen('127.0.0.1:9469')).toEqual({ host: '127.0.0.1', port: 9469 });
    expect(parseListen(':9469')).toEqual({ host: undefined, port: 9469 });
    expect(parseListen('[::1]:9469')).toEqual({ host: '::1', port: 9469 });
  });

  it('serves metrics, health, readiness and status; refuses other methods and paths', async () => {
    const metrics = new DaemonMetrics();
    const status = new DaemonStatus(['a']);
    metrics.recordQueryRun(run('a', 7));
    server = await startStatusServer('127.0.0.1:0', {
      registry: metrics.registry,
      status,
      logger: pino({ level: 'silent' }),
      redactor: Redactor.none(),
    });
    const get = (path: string, method = 'GET') => fetch(`${server!.url}${path}`, { method });
    expect((await get('/healthz')).status).toBe(200);
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe('no cycle has finished yet\n');
    status.recordCycle(true);
    expect((await get('/readyz')).status).toBe(200);
    const text = await (await get('/metrics')).text();
    expect(text).toMatch(/^promflux_points_written_total\{query="a",sink="influxdb"\} 7$/m);
    expect(text).toMatch(/^promflux_samples_dropped_total\{query="a",reason="nan"\} 2$/m);
    expect(((await (await get('/status')).json()) as { cycles: number }).cycles).toBe(1);
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/metrics', 'POST')).status).toBe(405);
  });

  it('redacts the secrets from every response body', async () => {
    const token = 'status-token-0a1b2c';
    const metrics = new DaemonMetrics();
    const status = new DaemonStatus(['a']);
    const error = new SinkError('SINK_WRITE_FAILED', `HTTP 503: authorization: Token ${token}`);
    metrics.recordQueryRun(run('a', 0, error));
    metrics.requestObserver.onQueryRequest({ query: 'a', durationMs: 1, errorType: token });
    status.recordRun(run('a', 0, error));
    status.recordCycle(false, error);
    server = await startStatusServer('127.0.0.1:0', {
      registry: metrics.registry,
      status,
      logger: pino({ level: 'silent' }),
      redactor: Redactor.of({ secrets: [token], basic: [] }),
    });
    for (const path of ['/status', '/', '/readyz', '/metrics']) {
      const body = await (await fetch(`${server.url}${path}`)).text();
      expect(body, path).not.toContain(token);
      expect(body, path).toContain('[REDACTED]');
    }
  });
  it('server.auth: /status and / answer 401 with WWW-Authenticate without credentials', async () => {
    const token = 'status-bearer-9Fd3';
    const metrics = new DaemonMetrics();
    const status = new DaemonStatus(['a']);
    status.recordCycle(true);
    const open = { registry: metrics.registry, status, logger: pino({ level: 'silent' }) };
    server = await startStatusServer('127.0.0.1:0', {
      ...open,
      redactor: Redactor.of({ secrets: [token], basic: [] }),
      auth: { bearerToken: token, protectMetrics: false },
    });
    const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
      fetch(`${server!.url}${path}`, { method, headers });
    for (const path of ['/status', '/']) {
      for (const method of ['GET', 'HEAD']) {
        const refused = await get(path, {}, method);
        expect(refused.status, `${method} ${path}`).toBe(401);
        expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="promflux"');
        const body = await refused.text();
        expect(body).not.toContain('cycles');
      }
      expect((await get(path, { Authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await get(path, { Authorization: `Bearer ${token}` })).status).toBe(200);
    }
    const page = await (await get('/', { Authorization: `Bearer ${token}` })).text();
    expect(page).toContain('<html');
    // Probes and the metrics stay open, as for a Prometheus exporter.
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      expect((await get(path)).status, path).toBe(200);
    }
    await server.close();

    server = await startStatusServer('127.0.0.1:0', {
      ...open,
      redactor: Redactor.none(),
      auth: { basic: { username: 'ops', password: 'pw-2Xz8' }, protectMetrics: true },
    });
    const refused = await get('/metrics');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Basic realm="promflux", charset="UTF-8"');
    const basic = `Basic ${Buffer.from('ops:pw-2Xz8').toString('base64')}`;
    expect((await get('/metrics', { Authorization: basic })).status).toBe(200);
    for (const path of ['/healthz', '/readyz']) expect((await get(path)).status, path).toBe(200);
  });
});
