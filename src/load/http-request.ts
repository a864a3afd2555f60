import http from 'node:http';
import https from 'node:https';

import { redactUrl } from '../core/redact.js';

/*
 * Why not the transport of @influxdata/influxdb-client (checked against v1.35.0, NodeHttpTransport):
 * - its timeout (`req.setTimeout`) reports RequestTimedOutError but never destroys the request, so a
 *   hung server keeps the socket: after `maxSockets` timeouts every later request waits for a socket
 *   forever, and a waiting request's own timeout never starts (reproduced: third request hangs with
 *   maxSockets 2);
 * - it adds an 'abort' listener to the caller's AbortSignal per request and never removes it, which
 *   leaks with the pipeline's long-lived shutdown signal;
 * - `send()` takes the body as a string (a Buffer must be decoded and re-encoded per attempt) and
 *   gzips with the default (slow) level.
 * So writes and pings go through this small node:http function with the sink's keep-alive agent.
 * The library is still used for the org/bucket look-ups in `InfluxDbV2Sink.check()`.
 */

/** Largest response body kept (error bodies are small JSON; anything longer is drained unread). */
const MAX_RESPONSE_BODY_BYTES = 64 * 1024;

export interface HttpRequestOptions {
  method: 'GET' | 'POST' | 'HEAD';
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer;
  agent: http.Agent;
  /** Whole-request timeout: from sending until the response body ended. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Lower-case header names, as node delivers them. */
  headers: http.IncomingHttpHeaders;
  /** UTF-8 text of the response body, cut at 64 KiB. */
  body: string;
}

/** The request did not complete within its timeout; the socket was destroyed. */
export class HttpTimeoutError extends Error {
  constructor(url: URL, timeoutMs: number) {
    super(`No response from ${redactUrl(url.toString())} within ${timeoutMs} ms.`);
    this.name = 'TimeoutError';
  }
}

/** The caller's signal aborted the request. */
export class HttpAbortError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('Request aborted.', options);
    this.name = 'AbortError';
  }
}

/**
 * Sends one HTTP request and reads the whole (bounded) response. Resolves for every HTTP status;
 * rejects only when no response arrived: network errors, timeout ({@link HttpTimeoutError}) or
 * abort ({@link HttpAbortError}). The request is destroyed on timeout or abort, so its socket is
 * never left busy, and no listener stays on the caller's signal.
 */
export function httpRequest(opts: HttpRequestOptions): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const { signal } = opts;
    if (signal?.aborted) {
      reject(new HttpAbortError({ cause: signal.reason }));
      return;
    }
    let settled = false;
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body) headers['Content-Length'] = opts.body.length;
    const request = opts.url.protocol === 'https:' ? https.request : http.request;
    const req = request(opts.url, { method: opts.method, headers, agent: opts.agent });

    const finish = (err: Error | undefined, res?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(res!);
    };
    const onAbort = (): void => {
      const err = new HttpAbortError({ cause: signal?.reason });
      req.destroy(err);
      finish(err);
    };
    const timer = setTimeout(() => {
      const err = new HttpTimeoutError(opts.url, opts.timeoutMs);
      req.destroy(err);
      finish(err);
    }, opts.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });

    req.on('error', (err) => finish(err));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (kept >= MAX_RESPONSE_BODY_BYTES) return;
        const part = chunk.subarray(0, MAX_RESPONSE_BODY_BYTES - kept);
        chunks.push(part);
        kept += part.length;
      });
      res.on('error', (err) => finish(err));
      res.on('close', () => {
        if (!res.complete) finish(new Error('The server closed the connection mid-response.'));
      });
      res.on('end', () => {
        const response = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        // A server may answer before it read the whole body (413): settle only once the request
        // body is no longer being sent, so the caller may reuse its memory (BufferPool).
        if (req.writableFinished || req.destroyed) finish(undefined, response);
        else {
          const done = (): void => finish(undefined, response);
          req.once('finish', done);
          req.once('close', done);
        }
      });
    });
    req.end(opts.body);
  });
}

/** A response header as one string (the first value when repeated), or undefined. */
export function headerValue(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
