import type { HttpEndpointOptions } from '../../src/core/http.js';

/** An endpoint with no extra headers, auth or TLS settings: what tests of a local server need. */
export function plainEndpoint(url: string, timeoutMs = 10_000): HttpEndpointOptions {
  return { url, timeoutMs, headers: {}, auth: { type: 'none' }, tls: {} };
}
