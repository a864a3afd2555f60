import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueryConfig } from '../../../src/config/types.js';
import { resolveQueryKinds } from '../../../src/extract/metric-metadata.js';
import { PrometheusClient } from '../../../src/extract/prometheus.js';
import { sendJson, startFakePrometheus, type FakePrometheus } from './fake-prometheus.js';

const query = (name: string, expr: string, kind?: QueryConfig['kind']): QueryConfig => ({
  name,
  expr,
  stepMs: 15_000,
  tags: {},
  ...(kind && { kind }),
});

const METADATA = {
  status: 'success',
  data: {
    jobs_done: [{ type: 'counter', help: 'Jobs done.', unit: '' }],
    queue_depth_total: [{ type: 'gauge', help: 'Queued.', unit: '' }],
    flaky: [
      { type: 'counter', help: 'a', unit: '' },
      { type: 'gauge', help: 'b', unit: '' },
    ],
  },
};

describe('resolveQueryKinds', () => {
  let fake: FakePrometheus | undefined;
  let client: PrometheusClient | undefined;
  afterEach(async () => {
    client?.close();
    await fake?.close();
  });

  async function setup(
    handler: Parameters<typeof startFakePrometheus>[0],
  ): Promise<{ fake: FakePrometheus; client: PrometheusClient }> {
    fake = await startFakePrometheus(handler);
    client = new PrometheusClient({
      endpoint: { url: fake.url, timeoutMs: 5_000, headers: {}, auth: { type: 'none' }, tls: {} },
      params: {},
      retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1, multiplier: 1, jitter: 0 },
    });
    return { fake, client };
  }

  it('decides auto selectors from one metadata request, and the rest without it', async () => {
    const { fake, client } = await setup((_req, res) => sendJson(res, 200, METADATA));
    const logger = pino({ level: 'silent' });
    const kinds = await resolveQueryKinds(
      client,
      [
        query('done', 'jobs_done{queue="a"}'),
        query('depth', 'queue_depth_total'),
        query('errors', 'http_errors_total'),
        query('flaky', 'flaky'),
        query('rate', 'rate(jobs_done[5m])'),
        query('forced', 'jobs_done', 'gauge'),
      ],
      logger,
    );
    expect(Object.fromEntries(kinds)).toEqual({
      done: { kind: 'counter', reason: 'metadata type counter' },
      depth: { kind: 'gauge', reason: 'metadata type gauge' },
      errors: {
        kind: 'counter',
        reason: 'name ends in _total; no metadata for http_errors_total',
      },
      flaky: {
        kind: 'gauge',
        reason: 'no counter metadata or suffix; metadata types differ: counter, gauge',
      },
      rate: { kind: 'gauge', reason: 'not a bare selector' },
      forced: { kind: 'gauge', reason: 'kind: gauge' },
    });
    expect(fake.requests.map((r) => r.path)).toEqual(['/api/v1/metadata']);

    // A second resolution on the same client (the next cycle) asks nothing more.
    await resolveQueryKinds(client, [query('done', 'jobs_done')], logger);
    expect(fake.requests).toHaveLength(1);
  });

  it('sends no request when no query needs metadata', async () => {
    const { fake, client } = await setup((_req, res) => sendJson(res, 200, METADATA));
    const kinds = await resolveQueryKinds(
      client,
      [query('sum', 'sum(jobs_done)'), query('c', 'jobs_done', 'counter'), query('any', '{a="b"}')],
      pino({ level: 'silent' }),
    );
    expect(fake.requests).toHaveLength(0);
    expect(kinds.get('c')).toEqual({ kind: 'counter', reason: 'kind: counter' });
    expect(kinds.get('any')).toEqual({ kind: 'gauge', reason: 'metric name not fixed' });
  });

  it.each([
    ['an HTTP error', (res: Parameters<typeof sendJson>[0]) => sendJson(res, 503, 'overloaded')],
    ['a body that is not JSON', (res: Parameters<typeof sendJson>[0]) => sendJson(res, 200, '<')],
    [
      'an error status',
      (res: Parameters<typeof sendJson>[0]) =>
        sendJson(res, 200, { status: 'error', error: 'nope' }),
    ],
  ])('falls back to the suffix rule with one warning on %s', async (_what, answer) => {
    const { fake, client } = await setup((_req, res) => answer(res));
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const queries = [query('done', 'jobs_done'), query('errors', 'http_errors_total')];
    const kinds = await resolveQueryKinds(client, queries, logger);
    expect(Object.fromEntries(kinds)).toEqual({
      done: { kind: 'gauge', reason: 'no counter metadata or suffix; metadata unavailable' },
      errors: { kind: 'counter', reason: 'name ends in _total; metadata unavailable' },
    });
    await resolveQueryKinds(client, queries, logger);
    expect(fake.requests).toHaveLength(1);
    expect(lines).toHaveLength(1);
    const warning = JSON.parse(lines[0]!) as { level: number; msg: string; reason: string };
    expect(warning.level).toBe(40);
    expect(warning.msg).toContain('metadata is unavailable');
    expect(warning.reason).toContain('/api/v1/metadata');
  });

  it('falls back when Prometheus cannot be reached', async () => {
    const { fake, client } = await setup((_req, res) => sendJson(res, 200, METADATA));
    await fake.close();
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const kinds = await resolveQueryKinds(client, [query('errors', 'http_errors_total')], logger);
    expect(kinds.get('errors')).toEqual({
      kind: 'counter',
      reason: 'name ends in _total; metadata unavailable',
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('unreachable');
  });
});
