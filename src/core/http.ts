import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { clarifyTlsError } from './tls-errors.js';

/** Connection settings shared by every HTTP endpoint promflux talks to. Secrets already resolved. */
export interface HttpEndpointOptions {
  url: string;
  timeoutMs: number;
  headers: Record<string, string>;
  auth: AuthOptions;
  tls: TlsOptions;
}

export type AuthOptions =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string };

export interface TlsOptions {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecureSkipVerify?: boolean;
  serverName?: string;
}

/** A keep-alive agent for the endpoint's scheme, with its TLS material loaded once. */
export function createAgent(url: string, tls: TlsOptions, maxSockets = 16): http.Agent {
  const common = { keepAlive: true, maxSockets, keepAliveMsecs: 10_000 };
  if (new URL(url).protocol !== 'https:') return new http.Agent(common);
  const agent = new https.Agent({
    ...common,
    ca: tls.caFile ? readFileSync(tls.caFile) : undefined,
    cert: tls.certFile ? readFileSync(tls.certFile) : undefined,
    key: tls.keyFile ? readFileSync(tls.keyFile) : undefined,
    rejectUnauthorized: !tls.insecureSkipVerify,
    servername: tls.serverName,
  });
  // Every socket's TLS errors get the setting that fixes them, before the request sees them.
  const createConnection = agent.createConnection.bind(agent) as (...args: unknown[]) => Duplex;
  agent.createConnection = (...args: unknown[]): Duplex => {
    const socket = createConnection(...args);
    socket.prependListener('error', clarifyTlsError);
    return socket;
  };
  return agent;
}

export function authorizationHeader(auth: AuthOptions): string | undefined {
  switch (auth.type) {
    case 'none':
      return undefined;
    case 'basic':
      return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    case 'bearer':
      return `Bearer ${auth.token}`;
  }
}

/** Joins a base URL (which may carry a path prefix, e.g. Mimir's /prometheus) and an API path. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}
