import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { InfluxSinkConfig } from '../../../src/config/types.js';
import { SinkError } from '../../../src/core/errors.js';
import type { RetryPolicy } from '../../../src/core/retry.js';
import type { RequestEvent, RetryEvent } from '../../../src/load/sink.js';
import { DeadLetterFile } from '../../../src/load/dead-letter.js';
import { InfluxDbV2Sink } from '../../../src/load/influxdb-v2.js';
import type { LineBatch } from '../../../src/core/line-batch.js';
import { InfluxDbV2Fake } from '../../fakes/influxdb-v2-fake.js';

const FAST_RETRY: RetryPolicy = {
  maxAttempts: 4,
  initialDelayMs: 1,
  maxDelayMs: 5,
  multiplier: 2,
  jitter: 0,
};

function batchOf(lines: string[], query = 'up'): LineBatch {
  return {
    body: Buffer.from(lines.map((l) => `${l}\n`).join('')),
    lines: lines.length,
    precision: 's',
    query,
  };
}

function goodLines(n: number, offset = 0): string[] {
  return Array.from(
    { length: n },
    (_, i) => `health,instance=host${i + offset} value=${i}.5 ${1_700_000_000 + i}`,
  );
}

interface DeadLetterRow {
  sink: string;
  query: string;
  line: string;
  error: string;
  status: number | null;
}

describe('InfluxDbV2Sink against the fake InfluxDB 2.x', () => {
  let fake: InfluxDbV2Fake;
  let dir: string;
  let logs: string[];
  const sinks: InfluxDbV2Sink[] = [];

  beforeEach(async () => {
    fake = await InfluxDbV2Fake.start({ token: 's3cr3t-token-value' });
    dir = await mkdtemp(join(tmpdir(), 'promflux-v2-'));
    logs = [];
  });
  afterEach(async () => {
    vi.useRealTimers();
    for (const sink of sinks.splice(0)) await sink.close();
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function makeSink(
    overrides: Partial<InfluxSinkConfig> = {},
    extra: {
      deadLetterPath?: string;
      onRetry?: (e: RetryEvent) => void;
      onRequest?: (e: RequestEvent) => void;
      url?: string;
    } = {},
  ): { sink: InfluxDbV2Sink; deadLetter: DeadLetterFile } {
    const config: InfluxSinkConfig = {
      endpoint: {
        url: extra.url ?? fake.url,
        timeoutMs: 5000,
        headers: {},
        auth: { type: 'none' },
        tls: {},
      },
      api: 'v2',
      token: fake.token,
      org: fake.org,
      bucket: fake.bucket,
      batchSize: 5000,
      gzip: false,
      retry: FAST_RETRY,
      ...overrides,
    };
    const deadLetter = new DeadLetterFile(extra.deadLetterPath ?? join(dir, 'dead-letter.jsonl'));
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString());
        cb();
      },
    });
    const logger = pino({ level: 'debug' }, stream);
    const sink = new InfluxDbV2Sink(config, {
      deadLetter,
      logger,
      name: 'influxdb',
      onRetry: extra.onRetry,
      onRequest: extra.onRequest,
    });
    sinks.push(sink);
    return { sink, deadLetter };
  }

  async function deadLetters(): Promise<DeadLetterRow[]> {
    const text = await readFile(join(dir, 'dead-letter.jsonl'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as DeadLetterRow);
  }

  async function writeError(promise: Promise<unknown>): Promise<SinkError> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SinkError);
    return err as SinkError;
  }

  it('writes a batch: points stored, token sent as header only, org/bucket/precision in the query', async () => {
    const { sink } = makeSink();
    const report = await sink.write(batchOf(goodLines(3)));
    expect(report).toEqual({
      written: 3,
      rejected: 0,
      skippedBeyondRetention: 0,
      requests: 1,
      retries: 0,
    });
    expect(fake.points()).toHaveLength(3);
    expect(fake.points()[0]).toMatchObject({
      measurement: 'health',
      tags: { instance: 'host0' },
      fields: { value: 0.5 },
      timestamp: 1_700_000_000_000_000_000n,
    });
    const [req] = fake.writes();
    expect(req!.query).toEqual({ org: fake.org, bucket: fake.bucket, precision: 's' });
    expect(req!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(req!.gzip).toBe(false);
  });

  it('401: fails with SINK_AUTH, keeps the batch (nothing dead-lettered) and never shows the token', async () => {
    const { sink } = makeSink({ token: 'wrong-token-value' });
    const err = await writeError(sink.write(batchOf(goodLines(5))));
    expect(err.code).toBe('SINK_AUTH');
    expect(err.status).toBe(401);
    expect(err.message).toContain('unauthorized access');
    expect(err.message).not.toContain('wrong-token-value');
    expect(fake.writes()).toHaveLength(1);
    expect(await deadLetters()).toEqual([]);
    expect(logs.join('')).not.toContain('wrong-token-value');
  });

  it('404: unknown bucket fails with SINK_NOT_FOUND and the server message', async () => {
    const { sink } = makeSink({ bucket: 'nope' });
    const err = await writeError(sink.write(batchOf(goodLines(2))));
    expect(err.code).toBe('SINK_NOT_FOUND');
    expect(err.message).toContain('bucket "nope" not found');
    expect(fake.writes()).toHaveLength(1);
  });

  it('413: splits at line boundaries until every line is written', async () => {
    const lines = goodLines(1000);
    fake.maxBodyBytes = Math.ceil(Buffer.byteLength(lines.join('\n')) / 5);
    const { sink } = makeSink();
    const report = await sink.write(batchOf(lines));
    expect(report.written).toBe(1000);
    expect(report.rejected).toBe(0);
    expect(report.requests).toBe(fake.writes().length);
    expect(fake.writes().filter((r) => r.status === 413).length).toBeGreaterThan(0);
    expect(fake.points()).toHaveLength(1000);
  });

  it('413 on a single line: the line is dead-lettered, the others written', async () => {
    const huge = `health,instance=big value="${'x'.repeat(400)}" 1700000000`;
    fake.maxBodyBytes = 300;
    const { sink } = makeSink();
    const report = await sink.write(batchOf([...goodLines(2), huge, ...goodLines(2, 10)]));
    expect(report).toMatchObject({ written: 4, rejected: 1 });
    const rows = await deadLetters();
    expect(rows).toEqual([
      expect.objectContaining({
        line: huge,
        status: 413,
        error: 'unable to read data: points batch is too large',
      }),
    ]);
  });

  it('reports every request to onRequest with its status, or none when no answer came', async () => {
    fake.failNext(1, { status: 503 });
    const events: RequestEvent[] = [];
    const { sink } = makeSink({}, { onRequest: (e) => events.push(e) });
    await sink.write(batchOf(goodLines(2), 'cpu'));
    expect(events.map((e) => [e.sink, e.query, e.status])).toEqual([
      ['influxdb', 'cpu', 503],
      ['influxdb', 'cpu', 204],
    ]);

    const refused: RequestEvent[] = [];
    const closed = await InfluxDbV2Fake.start({ token: fake.token });
    const deadUrl = closed.url;
    await closed.stop();
    const { sink: unreachable } = makeSink(
      { retry: { ...FAST_RETRY, maxAttempts: 2 } },
      { onRequest: (e) => refused.push(e), url: deadUrl },
    );
    await writeError(unreachable.write(batchOf(goodLines(1))));
    expect(refused.map((e) => e.status)).toEqual([undefined, undefined]);
    for (const e of [...events, ...refused]) expect(e.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('429 with Retry-After: 2 waits at least 2 s (fake clock) before the retry', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    fake.failNext(1, { status: 429, retryAfter: 2 });
    let retried!: (e: RetryEvent) => void;
    const retryEvent = new Promise<RetryEvent>((resolve) => (retried = resolve));
    const { sink } = makeSink({}, { onRetry: (e) => retried(e) });
    const pending = sink.write(batchOf(goodLines(3)));
    const event = await retryEvent;
    expect(event).toMatchObject({ attempt: 1, status: 429 });
    expect(event.delayMs).toBeGreaterThanOrEqual(2000);
    await vi.advanceTimersByTimeAsync(1999);
    expect(fake.writes()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    const report = await pending;
    expect(report).toEqual({
      written: 3,
      rejected: 0,
      skippedBeyondRetention: 0,
      requests: 2,
      retries: 1,
    });
    expect(fake.writes()).toHaveLength(2);
  });

  it.each([503, 500])('%i: retries, then succeeds', async (status) => {
    fake.failNext(2, { status });
    const { sink } = makeSink();
    const report = await sink.write(batchOf(goodLines(10)));
    expect(report).toEqual({
      written: 10,
      rejected: 0,
      skippedBeyondRetention: 0,
      requests: 3,
      retries: 2,
    });
    expect(fake.points()).toHaveLength(10);
  });

  it('400 with one bad line in 1000: 999 written, exactly the bad line dead-lettered with the server error', async () => {
    const lines = goodLines(1000);
    const bad = 'health,instance=broken value=NaN 1700000000';
    lines[437] = bad;
    const { sink, deadLetter } = makeSink();
    const report = await sink.write(batchOf(lines, 'health'));
    expect(report.written).toBe(999);
    expect(report.rejected).toBe(1);
    expect(report.retries).toBe(0);
    // bisection: about 2·log2(1000) requests, not 1000
    expect(report.requests).toBeLessThan(30);
    expect(fake.points()).toHaveLength(999);
    // the lines behind the bad one were written too
    expect(fake.points().some((p) => p.tags.instance === 'host999')).toBe(true);
    expect(fake.points().some((p) => p.tags.instance === 'broken')).toBe(false);
    expect(await deadLetters()).toEqual([
      {
        time: expect.any(String),
        sink: 'influxdb',
        query: 'health',
        line: bad,
        error: `unable to parse '${bad}': invalid number`,
        status: 400,
      },
    ]);
    expect(deadLetter.count).toBe(1);
  });

  it('422 partial write: valid lines written, the dropped ones dead-lettered', async () => {
    fake.setPartialWrite(
      (line) => line.includes('instance=host7 ') || line.includes('instance=host42 '),
    );
    const { sink } = makeSink();
    const report = await sink.write(batchOf(goodLines(100)));
    expect(report).toMatchObject({ written: 98, rejected: 2 });
    const rows = await deadLetters();
    expect(rows.map((r) => r.line)).toEqual([goodLines(100)[7], goodLines(100)[42]]);
    expect(rows.every((r) => r.status === 422 && /partial write: .*dropped=1$/.test(r.error))).toBe(
      true,
    );
    expect(fake.points()).toHaveLength(98);
  });

  it('422 beyond retention: counted as skipped, not rejected or bisected; the rest is written', async () => {
    fake.createBucket(fake.org, 'hourly', 3600);
    const { sink } = makeSink({ bucket: 'hourly' });
    const nowS = Math.floor(Date.now() / 1000);
    const fresh = Array.from(
      { length: 5 },
      (_, i) => `health,instance=new${i} value=1 ${nowS - i}`,
    );
    const expired = Array.from(
      { length: 3 },
      (_, i) => `health,instance=old${i} value=1 ${nowS - 3 * 3600 - i}`,
    );
    const report = await sink.write(
      batchOf([expired[0]!, ...fresh.slice(0, 2), expired[1]!, ...fresh.slice(2), expired[2]!]),
    );
    expect(report).toEqual({
      written: 5,
      rejected: 0,
      skippedBeyondRetention: 3,
      requests: 1,
      retries: 0,
    });
    expect(fake.points('hourly')).toHaveLength(5);
    expect(await deadLetters()).toEqual([]);

    const allExpired = await sink.write(batchOf(expired));
    expect(allExpired).toEqual({
      written: 0,
      rejected: 0,
      skippedBeyondRetention: 3,
      requests: 1,
      retries: 0,
    });
    expect(await deadLetters()).toEqual([]);
    expect(logs.some((l) => l.includes('older than its retention policy'))).toBe(true);
  });

  it('gzip on: bodies are gzipped with Content-Encoding and decoded by the server', async () => {
    const { sink } = makeSink({ gzip: true });
    const report = await sink.write(batchOf(goodLines(500)));
    expect(report.written).toBe(500);
    const [req] = fake.writes();
    expect(req!.gzip).toBe(true);
    expect(req!.headers['content-encoding']).toBe('gzip');
    expect(req!.bodyBytes).toBeLessThan(Buffer.byteLength(goodLines(500).join('\n')) / 3);
    expect(fake.points()).toHaveLength(500);
  });

  it('batchSize: larger batches go out in chunks of at most batchSize lines', async () => {
    const { sink } = makeSink({ batchSize: 100 });
    const report = await sink.write(batchOf(goodLines(250)));
    expect(report).toMatchObject({ written: 250, requests: 3 });
  });

  it('retries exhausted: SinkError SINK_WRITE_FAILED, nothing written, token absent from logs', async () => {
    fake.failNext(10, { status: 503 });
    const { sink } = makeSink();
    const err = await writeError(sink.write(batchOf(goodLines(5))));
    expect(err.code).toBe('SINK_WRITE_FAILED');
    expect(err.status).toBe(503);
    expect(err.message).toMatch(/failed after 4 attempt/);
    expect(fake.writes()).toHaveLength(FAST_RETRY.maxAttempts);
    expect(fake.points()).toEqual([]);
    expect(logs.length).toBe(3);
    expect(logs.join('')).not.toContain(fake.token);
  });

  it('deadline: no retry starts that would end past it', async () => {
    fake.failNext(10, { status: 503 });
    const { sink } = makeSink({
      retry: { ...FAST_RETRY, initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    const err = await writeError(
      sink.write(batchOf(goodLines(5)), { deadlineMs: Date.now() + 5_000 }),
    );
    expect(err.code).toBe('DEADLINE_EXCEEDED');
    expect(fake.writes()).toHaveLength(1);
  });

  it('deadline: a request still in flight at the deadline is abandoned', async () => {
    fake.latencyMs = 10_000;
    const { sink } = makeSink();
    const err = await writeError(
      sink.write(batchOf(goodLines(5)), { deadlineMs: Date.now() + 200 }),
    );
    expect(err.code).toBe('DEADLINE_EXCEEDED');
  });

  it('deadline already passed: fails without sending', async () => {
    const { sink } = makeSink();
    const err = await writeError(sink.write(batchOf(goodLines(5)), { deadlineMs: Date.now() - 1 }));
    expect(err.code).toBe('DEADLINE_EXCEEDED');
    expect(fake.writes()).toHaveLength(0);
  });

  it('abort: an in-flight write rejects with ABORTED', async () => {
    fake.latencyMs = 10_000;
    const { sink } = makeSink();
    const controller = new AbortController();
    const pending = sink.write(batchOf(goodLines(5)), { signal: controller.signal });
    await vi.waitFor(() => expect(fake.writes()).toHaveLength(1));
    controller.abort();
    const err = await writeError(pending);
    expect(err.code).toBe('ABORTED');
  });

  it('abort: during a retry wait rejects with ABORTED and sends nothing more', async () => {
    fake.failNext(10, { status: 503, retryAfter: 60 });
    const controller = new AbortController();
    const { sink } = makeSink({}, { onRetry: () => controller.abort() });
    const err = await writeError(sink.write(batchOf(goodLines(5)), { signal: controller.signal }));
    expect(err.code).toBe('ABORTED');
    expect(fake.writes()).toHaveLength(1);
  });

  it('dead-letter file unwritable: the write fails so the pipeline does not advance', async () => {
    const blocker = join(dir, 'file');
    await writeFile(blocker, 'x');
    const { sink } = makeSink({}, { deadLetterPath: join(blocker, 'dead-letter.jsonl') });
    const lines = goodLines(10);
    lines[4] = 'health value=NaN 1';
    const err = await writeError(sink.write(batchOf(lines)));
    expect(err.code).toBe('SINK_WRITE_FAILED');
    expect(err.message).toContain('dead-letter file');
  });

  it('write after close rejects', async () => {
    const { sink } = makeSink();
    await sink.close();
    expect((await writeError(sink.write(batchOf(goodLines(1))))).code).toBe('SINK_WRITE_FAILED');
  });

  describe('check()', () => {
    it('reports version, organization, bucket and write access', async () => {
      const { sink } = makeSink();
      const result = await sink.check();
      expect(result.ok).toBe(true);
      expect(result.details).toEqual([
        'reachable: InfluxDB v2.7.12 OSS (v2 API, /api/v2/write)',
        `organization "${fake.org}" found`,
        `bucket "${fake.bucket}" found in org "${fake.org}" (retention infinite)`,
        'write access: ok (empty test write answered 400: writing requires points)',
      ]);
      expect(fake.points()).toEqual([]);
    });

    it('says the token was rejected, without showing it', async () => {
      const { sink } = makeSink({ token: 'bad-token-xyz' });
      const result = await sink.check();
      expect(result.ok).toBe(false);
      expect(result.details).toContain('InfluxDB rejected the token (401 unauthorized)');
      expect(JSON.stringify(result)).not.toContain('bad-token-xyz');
    });

    it('names a missing bucket and a missing organization', async () => {
      const missingBucket = await makeSink({ bucket: 'x' }).sink.check();
      expect(missingBucket.ok).toBe(false);
      expect(missingBucket.details).toContain(`bucket "x" not found in org "${fake.org}"`);
      const missingOrg = await makeSink({ org: 'y' }).sink.check();
      expect(missingOrg.ok).toBe(false);
      expect(missingOrg.details).toContain('organization "y" not found');
    });

    it('reports a token without write permission', async () => {
      await fake.stop();
      fake = await InfluxDbV2Fake.start({ readOnlyToken: 'reader-token' });
      const result = await makeSink({ token: 'reader-token' }).sink.check();
      expect(result.ok).toBe(false);
      expect(result.details.at(-1)).toBe(
        `the token may not write to bucket "${fake.bucket}" (403: insufficient permissions for write)`,
      );
    });

    it('reports an unreachable server', async () => {
      const { sink } = makeSink();
      await fake.stop();
      fake = await InfluxDbV2Fake.start();
      const result = await makeSink({
        endpoint: {
          url: 'http://127.0.0.1:1',
          timeoutMs: 2000,
          headers: {},
          auth: { type: 'none' },
          tls: {},
        },
      }).sink.check();
      expect(result.ok).toBe(false);
      expect(result.details[0]).toMatch(/unreachable/);
      await sink.close();
    });
  });
});
