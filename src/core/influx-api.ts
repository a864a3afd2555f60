import type http from 'node:http';

import { SinkError, describeError } from './errors.js';
import { createAgent, joinUrl, type HttpEndpointOptions } from './http.js';
import { redactUrl } from './redact.js';
import { headerValue, httpRequest } from './http-client.js';

export type InfluxWriteApi = 'v1' | 'v2';

/**
 * The API `auto` falls back to when the server does not say (no `X-Influxdb-Version` on `/ping`,
 * e.g. VictoriaMetrics, or the server is down): v2 when a token and an org are configured
 * (2.x/3.x credentials), else v1 (database + optional username/password).
 */
export function fallbackApi(config: { token?: string; org?: string }): InfluxWriteApi {
  return config.token !== undefined && config.org !== undefined ? 'v2' : 'v1';
}

/** What `/ping` told us about the server. */
export interface InfluxPing {
  status: number;
  /** `X-Influxdb-Version` (`1.6.7~rc0`, `v2.7.12`, `3.0.1`); absent on VictoriaMetrics. */
  version?: string;
  /** `X-Influxdb-Build` (`OSS`, `ENT`, `cloud2`). */
  build?: string;
}

/**
 * GET `/ping` (InfluxDB 1.x, 2.x, 3.x and VictoriaMetrics all answer 204). Rejects with a
 * `SinkError` when the server cannot be reached.
 */
export async function pingInflux(
  endpoint: HttpEndpointOptions,
  agent: http.Agent,
  signal?: AbortSignal,
): Promise<InfluxPing> {
  try {
    const res = await httpRequest({
      method: 'GET',
      url: new URL(joinUrl(endpoint.url, '/ping')),
      headers: { ...endpoint.headers },
      agent,
      timeoutMs: endpoint.timeoutMs,
      signal,
    });
    return {
      status: res.status,
      version: headerValue(res.headers, 'x-influxdb-version') || undefined,
      build: headerValue(res.headers, 'x-influxdb-build') || undefined,
    };
  } catch (err) {
    throw new SinkError(
      'SINK_WRITE_FAILED',
      `InfluxDB at ${redactUrl(endpoint.url)} is unreachable: ${describeError(err)}`,
      undefined,
      { cause: err },
    );
  }
}

/** `1.x` → v1; `2.x`, `3.x` (with or without a leading `v`) → v2; anything else → undefined. */
export function apiFromVersion(version: string | undefined): InfluxWriteApi | undefined {
  if (!version) return undefined;
  if (/^v?1\./i.test(version)) return 'v1';
  if (/^v?[23]\./i.test(version)) return 'v2';
  return undefined;
}

/**
 * Asks the server which write API to use: `X-Influxdb-Version` on `/ping` says 1.x (→ `/write`)
 * or 2.x/3.x (→ `/api/v2/write`). Servers that send no version header on `/ping` (VictoriaMetrics
 * 1.79 answers a bare 204; it accepts both APIs) get `whenUnknown`, which `createSink` derives
 * from the credentials: v2 when a token and an org are configured, else v1. Rejects with a
 * `SinkError` when the server is unreachable.
 */
export async function detectInfluxApi(
  endpoint: HttpEndpointOptions,
  options: { whenUnknown?: InfluxWriteApi; agent?: http.Agent; signal?: AbortSignal } = {},
): Promise<InfluxWriteApi> {
  const agent = options.agent ?? createAgent(endpoint.url, endpoint.tls, 1);
  try {
    const ping = await pingInflux(endpoint, agent, options.signal);
    return apiFromVersion(ping.version) ?? options.whenUnknown ?? 'v1';
  } finally {
    if (!options.agent) agent.destroy();
  }
}

/** What one `/ping` settled for `api: auto`: the API, or why the server did not say. */
export type ApiDetection = { api: InfluxWriteApi } | { api?: undefined; reason: string };

/**
 * One `/ping`, read for `api: auto`: a version header decides; a 2xx without one (VictoriaMetrics)
 * gets `whenUnknown`. Anything else (unreachable, an error page from a proxy in front of a server
 * that is down) settles nothing: the caller should ask again rather than keep a guess.
 */
export async function detectWriteApi(
  endpoint: HttpEndpointOptions,
  whenUnknown: InfluxWriteApi,
  options: { agent?: http.Agent; signal?: AbortSignal } = {},
): Promise<ApiDetection> {
  const agent = options.agent ?? createAgent(endpoint.url, endpoint.tls, 1);
  try {
    const ping = await pingInflux(endpoint, agent, options.signal);
    const api = apiFromVersion(ping.version);
    if (api) return { api };
    if (ping.status >= 200 && ping.status < 300) return { api: whenUnknown };
    return { reason: `/ping answered ${ping.status} without an X-Influxdb-Version header` };
  } catch (err) {
    return { reason: describeError(err) };
  } finally {
    if (!options.agent) agent.destroy();
  }
}

/** One-line description of the server for `check()` output. */
export function describePing(ping: InfluxPing, api: InfluxWriteApi): string {
  const apiText = api === 'v1' ? 'v1 API, /write' : 'v2 API, /api/v2/write';
  if (!ping.version) {
    return `reachable: no X-Influxdb-Version header on /ping (not InfluxDB itself, e.g. VictoriaMetrics); using the ${apiText}`;
  }
  const build = ping.build ? ` ${ping.build}` : '';
  return `reachable: InfluxDB ${ping.version}${build} (${apiText})`;
}
