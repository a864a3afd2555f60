import type http from 'node:http';

import type { HttpError, InfluxDB } from '@influxdata/influxdb-client';

import { authorizationHeader, type HttpEndpointOptions } from './http.js';

/*
 * What promflux's InfluxDB clients share (the sinks, provisioning, the stored-series reader):
 * credentials as headers, InfluxQL identifiers, the server's error text, the client library.
 */

/** The InfluxDB credentials of `load.influxdb`. */
export interface InfluxCredentials {
  endpoint: Pick<HttpEndpointOptions, 'auth'>;
  token?: string;
  username?: string;
  password?: string;
}

/** 1.x credentials: Basic for a username, `Token` for a token, else the endpoint's own auth. */
export function v1Authorization(config: InfluxCredentials): string | undefined {
  if (config.username !== undefined) {
    return authorizationHeader({
      type: 'basic',
      username: config.username,
      password: config.password ?? '',
    });
  }
  return config.token ? `Token ${config.token}` : authorizationHeader(config.endpoint.auth);
}

/** Quotes an InfluxQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A response as far as {@link serverErrorMessage} reads it. */
export interface ServerAnswer {
  status?: number;
  body?: string;
  /** Lower-case names (node's `IncomingHttpHeaders`). */
  headers?: Record<string, string | string[] | undefined>;
}

const MAX_MESSAGE_CHARS = 2000;

/**
 * The server's error text: `{"code","message"}` (2.x/3.x), `{"error"}` (1.x), the
 * `X-Influxdb-Error` or `X-Platform-Error-Code` header, the plain body, or the status alone.
 */
export function serverErrorMessage(res: ServerAnswer): string {
  const text = (res.body ?? '').trim();
  let message: string | undefined;
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      if (typeof json.message === 'string' && json.message) message = json.message;
      else if (typeof json.error === 'string' && json.error) message = json.error;
    } catch {
      // not JSON after all: fall through to headers and plain text
    }
  }
  message ??=
    header(res.headers, 'x-influxdb-error') ?? header(res.headers, 'x-platform-error-code');
  if (!message && text) message = text;
  if (!message) message = res.status ? `HTTP ${res.status}` : 'no response';
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message;
}

function header(
  headers: Record<string, string | string[] | undefined> | undefined,
  name: string,
): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first ? first : undefined;
}

/**
 * The client library's InfluxDB object on the sink's endpoint (headers, timeout, TLS agent), for
 * the OrgsAPI/BucketsAPI look-ups. Loaded on demand, not at start-up: only `check` and
 * provisioning need the library (~0.1 s of CPU).
 */
export async function createInfluxClient(
  config: { endpoint: HttpEndpointOptions; token?: string },
  agent: http.Agent,
): Promise<InfluxDB> {
  const { InfluxDB } = await import('@influxdata/influxdb-client');
  return new InfluxDB({
    url: config.endpoint.url,
    token: config.token,
    timeout: config.endpoint.timeoutMs,
    headers: config.endpoint.headers,
    transportOptions: { agent },
  });
}

/** The client library's HttpError, recognised without loading the library. */
export function isHttpError(err: unknown): err is HttpError {
  return err instanceof Error && err.name === 'HttpError' && 'statusCode' in err;
}
