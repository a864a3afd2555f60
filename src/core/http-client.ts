import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

import { whenAborted } from './abort-fanout.js';
import { redactUrl } from './redact.js';
import { MAX_TIMER_MS } from './time.js';

/*
 * promflux's one node:http client: the hot path (range query bodies, line-protocol writes) and the
 * sinks' pings and checks go through it; axios serves only plain request/response calls where its
 * weight does not matter (see README, "Which library does which job").
 *
 * Why not the transport of @influxdata/influxdb-client (checked against v1.35.0, NodeHttpTransport):
 * - its timeout (`req.setTimeout`) reports RequestTimedOutError but never destroys the request, so a
 *   hung server keeps the socket: after `maxSockets` timeouts every later request waits for a socket
 *   forever, and a waiting request's own timeout never starts (reproduced: third request hangs with
 *   maxSockets 2);
 * - it adds an 'abort' listener to the caller's AbortSignal per request and never removes it, which
 *   leaks with the pipeline's long-lived shutdown signal;
 * - `send()` takes the body as a string (a Buffer must be decoded and re-encoded per attempt) and
 *   gzips with the default (slow) level.
 * Why not axios for range queries: loading it (form-data, mime-db, proxy agents, follow-redirects,
 * http2) adds ~17 MB to promflux's RSS and its start-up CPU, on the one path whose memory and CPU
 * are budgeted, while this path needs none of it: no redirects (reported instead), no proxy, no
 * body transformation, no decompression (done by the caller).
 *
 * Cancellation creates no AbortSignal per request: a timer for the timeout and a callback on the
 * caller's signal (core/abort-fanout.ts), both removed when the request settles. Node 20's
 * `AbortSignal.timeout` and `AbortSignal.any` signals survive young-generation collections, and
 * with two of them per write a backfill into a fast sink grew the old generation by MBs per
 * million samples until a mark-compact (the heap at peak doubled from 1M to 10M samples).
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
    if (opts.signal?.aborted) {
      reject(new HttpAbortError({ cause: opts.signal.reason }));
      return;
    }
    let settled = false;
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body) headers['Content-Length'] = opts.body.length;
    const req = requestFn(opts.url)(opts.url, {
      method: opts.method,
      headers,
      agent: opts.agent,
    });

    const finish = (err: Error | undefined, res?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe?.();
      if (err) reject(err);
      else resolve(res!);
    };
    // Handled here rather than by http.request's own `signal`: an abort after the response head
    // must settle with this error, not with the reset that destroying the body reports.
    const cancel = (err: Error): void => {
      req.destroy(err);
      finish(err);
    };
    const onAbort = (): void => cancel(new HttpAbortError({ cause: opts.signal?.reason }));
    const timer = setTimeout(
      () => cancel(new HttpTimeoutError(opts.url, opts.timeoutMs)),
      Math.min(opts.timeoutMs, MAX_TIMER_MS),
    );
    const unsubscribe = opts.signal && whenAborted(opts.signal, onAbort);

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

/** A response whose body is still to be read. */
export interface StreamingResponse {
  status: number;
  /** Lower-case header names, as node delivers them. */
  headers: http.IncomingHttpHeaders;
  data: Readable;
}

export interface StreamRequestOptions {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  agent: http.Agent;
  /** Aborts the request, before or after the response head arrived (the body then errors). */
  signal: AbortSignal;
}

/**
 * Sends a request and resolves with the response as soon as its head arrives, whatever the
 * status; the body is left for the caller to stream. Rejects on network errors and abort. Time
 * limits are the caller's, through `signal`: a body may wait in its socket for its turn (see
 * extract-range.ts), and only the caller knows which of its timeouts keep running meanwhile.
 */
export function streamRequest(opts: StreamRequestOptions): Promise<StreamingResponse> {
  return new Promise<StreamingResponse>((resolve, reject) => {
    const { signal } = opts;
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined) headers['Content-Length'] = Buffer.byteLength(opts.body);
    const req = requestFn(opts.url)(opts.url, {
      method: opts.method,
      agent: opts.agent,
      headers,
      signal,
    });
    // Kept for the request's lifetime: an error after the head (a reset mid-body) reaches the
    // body stream; without a listener here it would crash the process.
    req.on('error', reject);
    req.once('response', (res) => {
      // Aborting after the head arrived must end the body too, whatever node does with the socket.
      const onAbort = (): void => void res.destroy(new Error('aborted'));
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        res.once('close', () => signal.removeEventListener('abort', onAbort));
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, data: res });
    });
    req.end(opts.body);
  });
}

/**
 * A timeout that stops and starts again from zero, for a request whose body waits its turn
 * (`AbortSignal.timeout` cannot stop). Its signal aborts with a `TimeoutError` when it fires.
 * An infinite or absent duration never fires.
 */
export class RestartableTimeout {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {
    this.start();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Starts the full duration again (after {@link stop}). */
  start(): void {
    this.stop();
    if (!Number.isFinite(this.ms) || this.controller.signal.aborted) return;
    this.timer = setTimeout(
      () => this.controller.abort(new DOMException('The timeout fired.', 'TimeoutError')),
      this.ms,
    );
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * A signal that aborts `leftMs` from now (`AbortSignal.timeout`), or undefined when that is beyond
 * a timer's reach (a far deadline then never cuts anything short, instead of firing at once).
 */
export function deadlineSignal(leftMs: number): AbortSignal | undefined {
  return leftMs <= MAX_TIMER_MS ? AbortSignal.timeout(Math.max(0, leftMs)) : undefined;
}

/** One signal that aborts when any of `signals` does (undefined entries ignored). */
export function anySignal(signals: readonly (AbortSignal | undefined)[]): AbortSignal {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length === 1 ? present[0]! : AbortSignal.any(present);
}

/** A response header as one string (repeated values joined with `, `), or undefined. */
export function headerValue(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * A request error's text, with node's error code (`ECONNREFUSED connect ...`) and without
 * anything that looks like URL credentials.
 */
export function requestErrorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  const text = typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
  return text.replace(/\/\/[^/@\s]*@/g, '//');
}

function requestFn(url: URL): typeof http.request {
  return url.protocol === 'https:' ? https.request : http.request;
}
