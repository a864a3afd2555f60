import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

/** A response whose body is still to be read. */
export interface StreamingResponse {
  status: number;
  /** Lower-case header names, as node delivers them. */
  headers: http.IncomingHttpHeaders;
  data: Readable;
}

export interface PostForStreamOptions {
  headers: Record<string, string>;
  agent: http.Agent;
  /** Aborts the request, before or after the response head arrived (the body then errors). */
  signal: AbortSignal;
}

/*
 * Range queries go through node:http rather than axios: loading axios (form-data, mime-db,
 * proxy agents, follow-redirects, http2) adds ~17 MB to promflux's RSS and its start-up CPU, on
 * the one path whose memory and CPU are budgeted, while this path needs none of it: no redirects
 * (reported instead), no proxy, no body transformation, no decompression (done by the client).
 * axios serves the operator-facing calls (`check`, `backfill --plan`) and is loaded only there.
 */

/**
 * POSTs a form body and resolves with the response as soon as its head arrives, whatever the
 * status; the body is left for the caller to stream. Rejects on network errors and abort.
 */
export function postForStream(
  url: string,
  body: string,
  opts: PostForStreamOptions,
): Promise<StreamingResponse> {
  return new Promise<StreamingResponse>((resolve, reject) => {
    const target = new URL(url);
    const request = target.protocol === 'https:' ? https.request : http.request;
    const req = request(target, {
      method: 'POST',
      agent: opts.agent,
      headers: { ...opts.headers, 'Content-Length': Buffer.byteLength(body) },
      signal: opts.signal,
    });
    // Kept for the request's lifetime: an error after the head (a reset mid-body) reaches the
    // body stream; without a listener here it would crash the process.
    req.on('error', reject);
    req.once('response', (res) =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, data: res }),
    );
    req.end(body);
  });
}
