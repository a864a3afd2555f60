import type http from 'node:http';

import { SinkError } from '../core/errors.js';
import { createAgent } from '../core/http.js';
import type { InfluxSinkConfig } from '../config/types.js';
import { BatchWriter, type PostFn } from './batch-writer.js';
import { httpRequest, type HttpResponse } from '../core/http-client.js';
import type { Sink, SinkCheckResult, SinkDeps, WriteReport } from './sink.js';
import type { LineBatch, Precision } from '../core/line-batch.js';

/**
 * What the InfluxDB 1.x and 2.x sinks share: a keep-alive agent, line protocol POSTed to a write
 * URL per precision through the BatchWriter (retries, splits, bisection, dead letters), and
 * closing. Subclasses say where writes go, how they authenticate, and how to check the target.
 */
export abstract class HttpLineSink implements Sink {
  readonly name: string;
  abstract readonly api: 'v1' | 'v2';
  protected readonly config: InfluxSinkConfig;
  protected readonly agent: http.Agent;
  protected readonly headers: Record<string, string>;
  private readonly writeUrls: Record<Precision, URL>;
  private readonly writer: BatchWriter;
  private closed = false;

  protected constructor(
    config: InfluxSinkConfig,
    deps: SinkDeps,
    target: { authorization: string | undefined; writeUrl: (precision: Precision) => URL },
  ) {
    this.config = config;
    this.name = deps.name ?? 'influxdb';
    this.agent = createAgent(config.endpoint.url, config.endpoint.tls);
    this.headers = {
      ...config.endpoint.headers,
      ...(target.authorization ? { Authorization: target.authorization } : {}),
    };
    this.writeUrls = { s: target.writeUrl('s'), ms: target.writeUrl('ms') };
    const post: PostFn = (body, precision, signal, contentEncoding) =>
      this.postLines(this.writeUrls[precision], body, { signal, contentEncoding });
    this.writer = new BatchWriter({
      name: this.name,
      post,
      retry: config.retry,
      deadLetter: deps.deadLetter,
      logger: deps.logger,
      gzip: config.gzip,
      maxLinesPerRequest: config.batchSize,
      onRetry: deps.onRetry,
      onRequest: deps.onRequest,
    });
  }

  write(
    batch: LineBatch,
    options?: { signal?: AbortSignal; deadlineMs?: number },
  ): Promise<WriteReport> {
    if (this.closed) {
      return Promise.reject(new SinkError('SINK_WRITE_FAILED', `Sink ${this.name} is closed.`));
    }
    return this.writer.write(batch, options);
  }

  abstract check(): Promise<SinkCheckResult>;

  close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
    return Promise.resolve();
  }

  /** An empty write: servers check credentials, target and permission before seeing no points. */
  protected probeWriteRequest(): Promise<HttpResponse> {
    return this.postLines(this.writeUrls.s, Buffer.alloc(0), {});
  }

  private postLines(
    url: URL,
    body: Buffer,
    opts: { signal?: AbortSignal; contentEncoding?: string },
  ): Promise<HttpResponse> {
    return httpRequest({
      method: 'POST',
      url,
      headers: {
        ...this.headers,
        'Content-Type': 'text/plain; charset=utf-8',
        ...(opts.contentEncoding ? { 'Content-Encoding': opts.contentEncoding } : {}),
      },
      body,
      agent: this.agent,
      timeoutMs: this.config.endpoint.timeoutMs,
      signal: opts.signal,
    });
  }
}
