import { afterEach, describe, expect, it } from 'vitest';
import { InfluxQlReader, type InfluxQlSeries } from '../../../src/extract/influxql-select.js';
import { sendJson, startFakePrometheus, type FakePrometheus } from './fake-prometheus.js';

/** The fake records any HTTP request: here it stands in for InfluxDB's /query. */
describe('InfluxQlReader', () => {
  let fake: FakePrometheus | undefined;
  let reader: InfluxQlReader | undefined;
  afterEach(async () => {
    reader?.close();
    await fake?.close();
  });

  async function setup(handler: Parameters<typeof startFakePrometheus>[0], timeoutMs = 5_000) {
    fake = await startFakePrometheus(handler);
    reader = new InfluxQlReader(
      { url: fake.url, timeoutMs, headers: {}, auth: { type: 'none' }, tls: {} },
      'Basic c2VjcmV0',
    );
    return { fake, reader };
  }

  const part = (values: unknown[][], partial: boolean) =>
    JSON.stringify({
      results: [
        {
          statement_id: 0,
          series: [{ name: 'm', tags: { host: 'a' }, columns: ['time', 'count'], values }],
          ...(partial && { partial: true }),
        },
      ],
    });

  it('streams a chunked answer series part by series part', async () => {
    const { fake, reader } = await setup((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${part([[1000, 1]], true)}\n`);
      res.end(`${part([[2000, 2]], false)}\n`);
    });
    const got: InfluxQlSeries[] = [];
    await reader.select('db', 'SELECT count("value") FROM "m"', (s) => got.push(s));
    expect(got.map((s) => s.values)).toEqual([[[1000, 1]], [[2000, 2]]]);
    expect(got[0]!.tags).toEqual({ host: 'a' });
    const [req] = fake.requests;
    expect(req!.path).toBe('/query');
    expect(req!.headers.authorization).toBe('Basic c2VjcmV0');
    expect(Object.fromEntries(req!.form)).toMatchObject({
      q: 'SELECT count("value") FROM "m"',
      db: 'db',
      epoch: 'ms',
      chunked: 'true',
    });
  });

  it.each([
    [
      'a statement error',
      (res: Parameters<typeof sendJson>[0]) =>
        sendJson(res, 200, { results: [{ statement_id: 0, error: 'database not found: db' }] }),
      /^InfluxDB http:\/\/127\.0\.0\.1:\d+: SELECT 1: database not found: db$/,
    ],
    [
      'an HTTP error',
      (res: Parameters<typeof sendJson>[0]) =>
        sendJson(res, 401, { error: 'authorization failed' }),
      /: SELECT 1: HTTP 401 authorization failed$/,
    ],
    [
      'a body that is not JSON',
      (res: Parameters<typeof sendJson>[0]) => sendJson(res, 200, '<html>'),
      /: SELECT 1: the answer is not InfluxDB JSON$/,
    ],
  ])('rejects %s with the statement and the reason', async (_what, answer, message) => {
    const { reader } = await setup((_req, res) => answer(res));
    const error = await reader.select('db', 'SELECT 1', () => undefined).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'QUERY_FAILED', message: expect.stringMatching(message) });
    expect(String((error as Error).message)).not.toContain('c2VjcmV0');
  });

  it('times out when the server stops sending', async () => {
    const { reader } = await setup((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${part([[1000, 1]], true)}\n`);
      // ...and nothing more.
    }, 200);
    const got: InfluxQlSeries[] = [];
    const error = await reader
      .select('db', 'SELECT 1', (s) => got.push(s))
      .catch((e: unknown) => e);
    expect(got).toHaveLength(1);
    expect(error).toMatchObject({ message: expect.stringMatching(/no answer within 200 ms$/) });
  });
});
