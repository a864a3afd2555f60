import type http from 'node:http';

import { createAgent, joinUrl, type HttpEndpointOptions } from '../../core/http.js';
import { httpRequest, type HttpResponse } from '../../core/http-client.js';

/**
 * The few administrative requests of the 1.x and 3.x provisioners, through the same node:http
 * function, endpoint options (headers, TLS, timeout) and keep-alive agent kind as the sinks.
 */
export class AdminHttp {
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly endpoint: HttpEndpointOptions,
    authorization: string | undefined,
  ) {
    this.agent = createAgent(endpoint.url, endpoint.tls, 2);
    this.headers = {
      ...endpoint.headers,
      ...(authorization ? { Authorization: authorization } : {}),
    };
  }

  request(
    method: 'GET' | 'POST',
    path: string,
    opts: { query?: Record<string, string>; body?: string; contentType?: string } = {},
  ): Promise<HttpResponse> {
    const url = new URL(joinUrl(this.endpoint.url, path));
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    return httpRequest({
      method,
      url,
      headers: opts.contentType
        ? { ...this.headers, 'Content-Type': opts.contentType }
        : this.headers,
      body: opts.body === undefined ? undefined : Buffer.from(opts.body),
      agent: this.agent,
      timeoutMs: this.endpoint.timeoutMs,
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
