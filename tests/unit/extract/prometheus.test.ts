import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PromfluxError, QueryError } from '../../../src/core/errors.js';
import type { HttpEndpointOptions } from '../../../src/core/http.js';
import type { Logger } from '../../../src/core/logger.js';
import type { RetryPolicy } from '../../../src/core/retry.js';
import { extractRange } from '../../../src/extract/extract-range.js';
import { DecodeError } from '../../../src/extract/matrix-decoder.js';
import {
  formatPromSeconds,
  formatPromStep,
  PrometheusClient,
  PrometheusRequestError,
  type PrometheusClientOptions,
  type QueryRequestEvent,
} from '../../../src/extract/prometheus.js';
import type { RangeRequest } from '../../../src/extract/types.js';
import { decodeReference, normalize } from './decode-helpers.js';
import {
  matrixBody,
  sendJson,
  startFakePrometheus,
  type FakePrometheus,
  type Handler,
} from './fake-prometheus.js';

const RETRY: RetryPolicy = {
  maxAttempts: 3,
  initialDelayMs: 1,
  maxDelayMs: 5,
  multiplier: 2,
  jitter: 0,
};
const REQ: RangeRequest = {
  name: 'cpu',
  expr: 'rate(node_cpu_seconds_total[5m])',
  startMs: 1_714_521_600_000,
  endMs: 1_714_521_630_500,
  stepMs: 15_000,
};
const BODY = matrixBody([
  {
    metric: { __name__: 'up', job: 'node' },
    values: [
      [1714521600, '1'],
      [1714521615, '0.5'],
    ],
  },
  { metric: { job: 'é😀' }, values: [[1714521600.5, 'NaN']] },
]);
const BAD_DATA = {
  status: 'error',
  errorType: 'bad_data',
  error: 'invalid parameter "query": 1:6: parse error: unexpected end of input',
};

let servers: FakePrometheus[] = [];
let clients: PrometheusClient[] = [];

afterEach(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  clients = [];
});

type SetupOptions = Partial<Omit<PrometheusClientOptions, 'endpoint'>> & {
  endpoint?: Partial<HttpEndpointOptions>;
  path?: string;
};

async function setup(handler: Handler, opts: SetupOptions = {}) {
  const server = await startFakePrometheus(handler);
  servers.push(server);
  const endpoint: HttpEndpointOptions = {
    url: server.url + (opts.path ?? ''),
    timeoutMs: 2000,
    headers: {},
    auth: { type: 'none' },
    tls: {},
    ...opts.endpoint,
  };
  const client = new PrometheusClient({ params: {}, retry: RETRY, ...opts, endpoint });
  clients.push(client);
  return { server, client };
}

/** The first answer breaks off in the middle of the body (then `onCut`); later ones are whole. */
function cutFirstBodyMidwayThen(onCut: () => void): Handler {
  return (_req, res, i) => {
    if (i === 0) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(BODY.slice(0, 40), () => {
        res.destroy();
        onCut();
      });
    } else sendJson(res, 200, BODY);
  };
}
const cutFirstBodyMidway = cutFirstBodyMidwayThen(() => undefined);

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('PrometheusClient.queryRange', () => {
  it('POSTs the form and decodes the streamed matrix', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 200, BODY), {
      params: { dedup: 'true', partial_response: 'false' },
      userAgent: 'promflux/test',
    });
    const result = await client.queryRange(REQ);
    expect(normalize({ status: 'success', result })).toEqual(
      normalize(decodeReference(Buffer.from(BODY))),
    );
    expect(server.requests).toHaveLength(1);
    const r = server.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/api/v1/query_range');
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(r.headers['accept-encoding']).toBe('identity');
    expect(r.headers['user-agent']).toBe('promflux/test');
    expect(r.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(r.form)).toEqual({
      dedup: 'true',
      partial_response: 'false',
      query: REQ.expr,
      start: '1714521600',
      end: '1714521630.500',
      step: '15',
    });
  });

  it('sends custom headers and basic auth, under a path prefix', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 200, BODY), {
      path: '/prometheus/',
      endpoint: {
        headers: { 'X-Scope-OrgID': 'tenant-1' },
        auth: { type: 'basic', username: 'reader', password: 's3cret' },
      },
    });
    await client.queryRange(REQ);
    const r = server.requests[0]!;
    expect(r.path).toBe('/prometheus/api/v1/query_range');
    expect(r.headers['x-scope-orgid']).toBe('tenant-1');
    expect(r.headers.authorization).toBe(
      `Basic ${Buffer.from('reader:s3cret').toString('base64')}`,
    );
  });

  it('sends a bearer token', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 200, BODY), {
      endpoint: { auth: { type: 'bearer', token: 'tok-123' } },
    });
    await client.queryRange(REQ);
    expect(server.requests[0]!.headers.authorization).toBe('Bearer tok-123');
  });

  it('retries the plain-text 503 Prometheus sends before it is ready, then succeeds', async () => {
    const { server, client } = await setup((_req, res, i) => {
      if (i === 0) {
        res.writeHead(503, {
          'Content-Type': 'text/plain; charset=utf-8',
          'X-Prometheus-Stopping': 'false',
        });
        res.end('Service Unavailable');
      } else sendJson(res, 200, BODY);
    });
    const result = await client.queryRange(REQ);
    expect(result.samples).toBe(3);
    expect(server.requests).toHaveLength(2);
  });

  it('honours Retry-After and logs the retry', async () => {
    const warnings: unknown[] = [];
    const logger = { warn: (obj: unknown) => warnings.push(obj) } as unknown as Logger;
    const { client } = await setup(
      (_req, res, i) => {
        if (i === 0) {
          res.writeHead(503, { 'Retry-After': '0.05', 'Content-Type': 'text/plain' });
          res.end('busy');
        } else sendJson(res, 200, BODY);
      },
      { logger },
    );
    await client.queryRange(REQ);
    expect(warnings).toEqual([
      expect.objectContaining({
        query: 'cpu',
        attempt: 1,
        delayMs: 50,
        status: 503,
        reason: expect.stringContaining('HTTP 503'),
      }),
    ]);
  });

  it('reports every attempt to onRequest: errorType when it failed, none when it succeeded', async () => {
    const events: QueryRequestEvent[] = [];
    const { client } = await setup(
      (_req, res, i) => {
        if (i === 0) {
          res.writeHead(503, { 'Content-Type': 'text/plain' });
          res.end('busy');
        } else if (i === 1) sendJson(res, 400, BAD_DATA);
        else sendJson(res, 200, BODY);
      },
      { onRequest: (e) => events.push(e) },
    );
    await failure(client.queryRange(REQ));
    await client.queryRange(REQ);
    expect(events.map((e) => [e.query, e.errorType])).toEqual([
      ['cpu', 'http_503'],
      ['cpu', 'bad_data'],
      ['cpu', undefined],
    ]);
    for (const e of events) expect(e.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('does not retry bad_data and says which query failed and why', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 400, BAD_DATA));
    const err = await failure(client.queryRange(REQ));
    expect(server.requests).toHaveLength(1);
    expect(err).toBeInstanceOf(QueryError);
    expect(err).toMatchObject({ code: 'QUERY_BAD_DATA', errorType: 'bad_data', query: 'cpu' });
    expect(err.message).toBe(
      'Query "cpu" failed (bad_data): invalid parameter "query": 1:6: parse error: unexpected end of input (HTTP 400)',
    );
  });

  it('does not retry execution errors', async () => {
    const { server, client } = await setup((_req, res) =>
      sendJson(res, 422, {
        status: 'error',
        errorType: 'execution',
        error: 'query processing would load too many samples into memory in query execution',
      }),
    );
    const err = await failure(client.queryRange(REQ));
    expect(server.requests).toHaveLength(1);
    expect(err).toMatchObject({ code: 'QUERY_EXECUTION', errorType: 'execution' });
  });

  it('retries transient errorTypes until attempts run out', async () => {
    const { server, client } = await setup((_req, res) =>
      sendJson(res, 503, {
        status: 'error',
        errorType: 'timeout',
        error: 'query timed out in query execution',
      }),
    );
    const err = await failure(client.queryRange(REQ));
    expect(server.requests).toHaveLength(3);
    expect(err).toMatchObject({ code: 'QUERY_FAILED', errorType: 'timeout', retryable: true });
  });

  it('does not retry other 4xx, and quotes the start of a non-JSON body', async () => {
    const { server, client } = await setup((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end(`<html>\n<body>404 page not found</body></html>${'x'.repeat(500)}`);
    });
    const err = await failure(client.queryRange(REQ));
    expect(server.requests).toHaveLength(1);
    expect(err).toBeInstanceOf(PrometheusRequestError);
    expect(err).toMatchObject({ code: 'QUERY_FAILED', errorType: 'http_404', status: 404 });
    expect(err.message).toContain('HTTP 404 from http://127.0.0.1:');
    expect(err.message).toContain('<html> <body>404 page not found</body></html>xxx');
    expect(err.message.length).toBeLessThan(320);
  });

  it('reports a non-JSON 200 as malformed, with the body start', async () => {
    const { server, client } = await setup((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>Login</title>');
    });
    const err = await failure(client.queryRange(REQ));
    expect(server.requests).toHaveLength(1);
    expect(err).toBeInstanceOf(DecodeError);
    expect(err.message).toMatch(
      /Malformed response to query "cpu" from http:\/\/127\.0\.0\.1:\d+ \(HTTP 200\)/,
    );
    expect(err.message).toContain('<!doctype html><title>Login</title>');
  });

  it('times out a request that gets no answer, and retries it', async () => {
    const { server, client } = await setup(
      (_req, res, i) => {
        if (i === 1) sendJson(res, 200, BODY);
        // else: never answer
      },
      { endpoint: { timeoutMs: 100 } },
    );
    const result = await client.queryRange(REQ);
    expect(result.samples).toBe(3);
    expect(server.requests).toHaveLength(2);
  });

  it('times out a body that stalls half way', async () => {
    const { server, client } = await setup(
      (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(BODY.slice(0, 40));
      },
      { endpoint: { timeoutMs: 100 }, retry: { ...RETRY, maxAttempts: 2 } },
    );
    const err = await failure(client.queryRange(REQ));
    expect(server.requests).toHaveLength(2);
    expect(err).toMatchObject({ code: 'QUERY_FAILED', errorType: 'timeout' });
    expect(err.message).toContain('within 100 ms');
  });

  it('retries a connection reset in the middle of the body', async () => {
    const { server, client } = await setup(cutFirstBodyMidway);
    expect((await client.queryRange(REQ)).samples).toBe(3);
    expect(server.requests).toHaveLength(2);
  });

  it('retries when the server cannot be reached', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 200, BODY), {
      retry: { ...RETRY, maxAttempts: 2 },
      endpoint: { auth: { type: 'basic', username: 'u', password: 'hunter2' } },
    });
    await server.close();
    servers = [];
    const err = await failure(client.queryRange(REQ));
    expect(err).toMatchObject({ code: 'QUERY_FAILED', errorType: 'network', retryable: true });
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.message).not.toContain('hunter2');
  });

  it('stops on abort without retrying', async () => {
    const controller = new AbortController();
    const { server, client } = await setup(() => {
      controller.abort();
    });
    const err = await failure(client.queryRange(REQ, { signal: controller.signal }));
    expect(err).toBeInstanceOf(PromfluxError);
    expect((err as PromfluxError).code).toBe('ABORTED');
    expect(server.requests).toHaveLength(1);
  });

  it('does not start past the deadline', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 200, BODY));
    const err = await failure(client.queryRange(REQ, { deadlineMs: Date.now() - 1 }));
    expect((err as PromfluxError).code).toBe('DEADLINE_EXCEEDED');
    expect(server.requests).toHaveLength(0);
  });

  it('decodes a body that arrives in many tiny TCP writes', async () => {
    const big = matrixBody(
      Array.from({ length: 20 }, (_, s) => ({
        metric: { __name__: 'm', i: String(s), esc: 'a"\\b\u00e9\u6771😀' },
        values: Array.from({ length: 20 }, (_, i): [number, string] => [
          1714521600 + i * 15.001,
          String(i / 7),
        ]),
      })),
    );
    const bytes = Buffer.from(big);
    const { client } = await setup(async (_req, res) => {
      res.socket?.setNoDelay(true);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      for (let at = 0; at < bytes.length;) {
        const n = 1 + (at % 3);
        res.write(bytes.subarray(at, at + n));
        at += n;
        if (at % 64 < 3) await new Promise((r) => setTimeout(r, 0));
      }
      res.end();
    });
    const result = await client.queryRange(REQ);
    expect(normalize({ status: 'success', result })).toEqual(normalize(decodeReference(bytes)));
  });

  it('asks for gzip when told to, and gunzips the stream', async () => {
    const { server, client } = await setup(
      (req, res) => {
        if (req.headers['accept-encoding'] !== 'gzip') return sendJson(res, 400, BAD_DATA);
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
        res.end(gzipSync(BODY));
      },
      { compression: 'gzip' },
    );
    const result = await client.queryRange(REQ);
    expect(normalize({ status: 'success', result })).toEqual(
      normalize(decodeReference(Buffer.from(BODY))),
    );
    expect(server.requests[0]!.headers['accept-encoding']).toBe('gzip');
  });

  it('never puts credentials or header values in errors', async () => {
    const { client } = await setup((_req, res) => sendJson(res, 400, BAD_DATA), {
      endpoint: {
        auth: { type: 'bearer', token: 'tok-SECRET' },
        headers: { 'X-Scope-OrgID': 'tenant-SECRET' },
      },
    });
    const err = await failure(client.queryRange(REQ));
    const text = `${err.message} ${JSON.stringify(err)} ${String(err.cause)}`;
    expect(text).not.toContain('SECRET');
  });
});

describe('PrometheusClient.queryRange with a body gate', () => {
  /**
   * A gate, the function that opens it, and `reached`: resolves when the client starts waiting
   * at the gate (it then holds the response headers and leaves the body in the socket).
   */
  function gate(): { bodyGate: Promise<void>; open: () => void; reached: Promise<void> } {
    let open!: () => void;
    let reach!: () => void;
    const bodyGate = new Promise<void>((resolve) => (open = resolve));
    const reached = new Promise<void>((resolve) => (reach = resolve));
    const then = bodyGate.then.bind(bodyGate);
    bodyGate.then = ((...args: Parameters<typeof then>) => {
      reach();
      return then(...args);
    }) as typeof bodyGate.then;
    return { bodyGate, open, reached };
  }

  it('leaves the body in the socket until the gate opens, then decodes all of it', async () => {
    // Larger than loopback's socket buffers: the server can finish writing only if it is read.
    const values: [number, string][] = Array.from({ length: 600_000 }, (_, i) => [
      1714521600 + i * 15,
      String(i % 977),
    ]);
    const big = matrixBody([{ metric: { __name__: 'up' }, values }]);
    let finished = false;
    const { client } = await setup((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(big, () => (finished = true));
    });
    const { bodyGate, open, reached } = gate();
    const result = client.queryRange(REQ, { bodyGate });
    await reached;
    // Proving that nothing reads the body takes time by nature: a client that read it would let
    // the server finish within this pause. Correct code passes whatever its length.
    await new Promise((r) => setTimeout(r, 300));
    expect(finished).toBe(false);
    open();
    expect((await result).samples).toBe(600_000);
    expect(finished).toBe(true);
  });

  it('does not count the wait against the timeout, nor in the request duration', async () => {
    const events: QueryRequestEvent[] = [];
    const { server, client } = await setup((_req, res) => sendJson(res, 200, BODY), {
      endpoint: { timeoutMs: 150 },
      onRequest: (e) => events.push(e),
    });
    // Only the client's timers and clock are fake: the sockets run for real, and time passes
    // only when the test advances it, while the body waits.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const { bodyGate, open, reached } = gate();
      const pending = client.queryRange(REQ, { bodyGate });
      await reached;
      vi.advanceTimersByTime(400); // far past the 150 ms timeout
      open();
      const result = await pending;
      expect(result.samples).toBe(3);
      expect(server.requests).toHaveLength(1);
      expect(events).toHaveLength(1);
      expect(events[0]!.durationMs).toBeLessThan(150);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a deadline running while the body waits', async () => {
    const { client } = await setup((_req, res) => sendJson(res, 200, BODY));
    const { bodyGate } = gate();
    const err = await failure(client.queryRange(REQ, { bodyGate, deadlineMs: Date.now() + 150 }));
    expect((err as PromfluxError).code).toBe('DEADLINE_EXCEEDED');
  });

  it('answers when the deadline is beyond the reach of a timer', async () => {
    const { client } = await setup((_req, res) => sendJson(res, 200, BODY));
    const { bodyGate, open } = gate();
    open();
    const farDeadline = Date.now() + 40 * 24 * 3600 * 1000;
    const result = await client.queryRange(REQ, { bodyGate, deadlineMs: farDeadline });
    expect(result.samples).toBe(3);
  });

  it('keeps a deadline later than the timeout running while the body waits', async () => {
    // The timeout stops at the gate; only the deadline can end this wait.
    const { client } = await setup((_req, res) => sendJson(res, 200, BODY), {
      endpoint: { timeoutMs: 50 },
    });
    const { bodyGate } = gate();
    const err = await failure(client.queryRange(REQ, { bodyGate, deadlineMs: Date.now() + 150 }));
    expect((err as PromfluxError).code).toBe('DEADLINE_EXCEEDED');
  });

  it("retries the head chunk while more requests than a socket pool's worth wait their turn", async () => {
    // Bodies larger than a socket's read-ahead: a waiting one keeps its socket busy.
    const values: [number, string][] = Array.from({ length: 12_000 }, (_, i) => [
      1714521600 + i * 15,
      '1',
    ]);
    const big = matrixBody([{ metric: { __name__: 'up' }, values }]);
    let failedOnce = false;
    const { server, client } = await setup((req, res) => {
      if (req.form.get('start') === formatPromSeconds(REQ.startMs) && !failedOnce) {
        failedOnce = true;
        res.destroy();
        return;
      }
      sendJson(res, 200, big);
    });
    const chunks: number[] = [];
    for await (const { chunk } of extractRange(
      client,
      { ...REQ, endMs: REQ.startMs + 39 * REQ.stepMs },
      { concurrency: 32, maxPointsPerSeries: 1, maxSamplesPerRequest: 1e6 },
    )) {
      chunks.push(chunk.startMs);
    }
    expect(chunks).toHaveLength(40);
    expect(server.requests).toHaveLength(41);
  });

  it('retries a body cut by the server while it waited its turn', async () => {
    let cut!: () => void;
    const wasCut = new Promise<void>((resolve) => (cut = resolve));
    const { server, client } = await setup(cutFirstBodyMidwayThen(cut));
    const { bodyGate, open, reached } = gate();
    const result = client.queryRange(REQ, { bodyGate });
    await Promise.all([reached, wasCut]);
    open();
    expect((await result).samples).toBe(3);
    expect(server.requests).toHaveLength(2);
  });

  it('stops on abort while the body waits', async () => {
    const { server, client } = await setup((_req, res) => sendJson(res, 200, BODY));
    const controller = new AbortController();
    const { bodyGate, reached } = gate();
    const pending = failure(client.queryRange(REQ, { bodyGate, signal: controller.signal }));
    await reached;
    controller.abort();
    const err = await pending;
    expect((err as PromfluxError).code).toBe('ABORTED');
    expect(server.requests).toHaveLength(1);
  });
});

describe('PrometheusClient readiness and build info', () => {
  it('reports ready and not ready', async () => {
    let ready = false;
    const { client } = await setup((req, res) => {
      expect(req.path).toBe('/-/ready');
      res.writeHead(ready ? 200 : 503, { 'Content-Type': 'text/plain' });
      res.end(ready ? 'Prometheus Server is Ready.\n' : 'Service Unavailable');
    });
    expect(await client.ready()).toEqual({ ready: false, detail: 'HTTP 503: Service Unavailable' });
    ready = true;
    expect(await client.ready()).toEqual({
      ready: true,
      detail: 'HTTP 200: Prometheus Server is Ready.',
    });
  });

  it('reports an unreachable server as not ready', async () => {
    const { server, client } = await setup(() => undefined);
    await server.close();
    servers = [];
    const r = await client.ready();
    expect(r.ready).toBe(false);
    expect(r.detail).toMatch(/is unreachable: .*ECONNREFUSED/);
  });

  it('reads the version, or undefined when there is no buildinfo API', async () => {
    const { client } = await setup((req, res) => {
      if (req.path === '/api/v1/status/buildinfo') {
        sendJson(res, 200, { status: 'success', data: { version: '2.42.0', revision: 'x' } });
      } else {
        res.writeHead(404);
        res.end('404 page not found');
      }
    });
    expect(await client.buildInfo()).toEqual({ version: '2.42.0' });
    const other = await setup((_req, res) => {
      res.writeHead(404);
      res.end('404 page not found');
    });
    expect(await other.client.buildInfo()).toBeUndefined();
  });
});

describe('request formatting', () => {
  it('formats times as exact unix seconds and steps as exact durations', () => {
    expect(formatPromSeconds(1435781430781)).toBe('1435781430.781');
    expect(formatPromSeconds(1000)).toBe('1');
    expect(formatPromSeconds(10)).toBe('0.010');
    expect(formatPromSeconds(0)).toBe('0');
    expect(formatPromSeconds(-1500)).toBe('-1.500');
    expect(formatPromStep(15_000)).toBe('15');
    expect(formatPromStep(300)).toBe('300ms');
    expect(formatPromStep(1500)).toBe('1s500ms');
  });
});

describe('PrometheusClient series blocks', () => {
  it('hands out the blocks of a released result again, with the new response in them', async () => {
    const other = matrixBody([
      { metric: { __name__: 'down' }, values: [[1714521630, '7']] },
      { metric: { job: 'x' }, values: [[1714521645, '8']] },
    ]);
    const { client } = await setup((_req, res, i) => sendJson(res, 200, i === 0 ? BODY : other));
    const first = await client.queryRange(REQ);
    const blocks = [...first.series];
    first.release!();
    first.release!();
    const second = await client.queryRange(REQ);
    // Reused: a chunk's blocks outlive young-generation collections, and each new set was old
    // garbage left for a mark-compact.
    expect(new Set(second.series)).toEqual(new Set(blocks));
    expect(normalize({ status: 'success', result: second })).toEqual(
      normalize(decodeReference(Buffer.from(other))),
    );
    // Released twice, handed back once: two responses at a time never share a block.
    const third = await client.queryRange(REQ);
    expect(third.series.some((b) => second.series.includes(b))).toBe(false);
  });
});
