import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Registry } from 'prom-client';

import type { ServerAuthConfig } from '../config/types.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Redactor } from '../core/redact.js';
import { authChallenges, isAuthorized, requiresAuth } from './auth.js';
import { renderStatusPage } from './status-page.js';
import type { DaemonStatus } from './status.js';

export interface StatusServer {
  /** `http://host:port` actually bound (the port is real even when 0 was asked for). */
  readonly url: string;
  close(): Promise<void>;
}

/** Splits `host:port` (`:9469` = every interface, `[::1]:9469` for IPv6). */
export function parseListen(listen: string): { host: string | undefined; port: number } {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? undefined : host, port: Number(listen.slice(colon + 1)) };
}

export interface StatusServerDeps {
  registry: Registry;
  status: DaemonStatus;
  logger: Logger;
  /** Applied to every response body: errors shown there may echo a request's credentials. */
  redactor: Redactor;
  /** `server.auth`: credentials `/status` and `/` (and `/metrics` if asked) require. */
  auth?: ServerAuthConfig;
}

/**
 * The daemon's HTTP endpoints: `/metrics` (Prometheus text), `/healthz` (the process answers),
 * `/readyz` (200 once the last cycle reached both ends, else 503 with the reason), `/status`
 * (JSON) and `/` (an HTML page that refreshes itself). Read-only; GET and HEAD only. With
 * `auth`, `/status` and `/` (and `/metrics` with `protectMetrics`) answer 401 with
 * `WWW-Authenticate` to a request without the credentials; the probes stay open.
 */
export async function startStatusServer(
  listen: string,
  deps: StatusServerDeps,
): Promise<StatusServer> {
  const server = http.createServer((req, res) => {
    void respond(req, res, deps).catch((err: unknown) => {
      deps.logger.error({ err: describeError(err), path: req.url }, 'Status request failed.');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  const { host, port } = parseListen(listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function respond(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  deps: StatusServerDeps,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
    res.end('method not allowed\n');
    return;
  }
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const send = (status: number, type: string, body: string): void => {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : deps.redactor.redact(body));
  };
  if (requiresAuth(path, deps.auth) && !isAuthorized(req.headers.authorization, deps.auth!)) {
    res.writeHead(401, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
      'WWW-Authenticate': authChallenges(deps.auth!),
    });
    res.end(req.method === 'HEAD' ? undefined : 'unauthorized: see server.auth\n');
    return;
  }
  switch (path) {
    case '/metrics':
      send(200, deps.registry.contentType, await deps.registry.metrics());
      return;
    case '/healthz':
      send(200, 'text/plain; charset=utf-8', 'ok\n');
      return;
    case '/readyz': {
      const { ready, reason } = deps.status.readiness();
      send(ready ? 200 : 503, 'text/plain; charset=utf-8', `${reason}\n`);
      return;
    }
    case '/status':
      send(200, 'application/json', JSON.stringify(deps.status.snapshot(), null, 2) + '\n');
      return;
    case '/':
      send(200, 'text/html; charset=utf-8', renderStatusPage(deps.status.snapshot()));
      return;
    default:
      send(
        404,
        'text/plain; charset=utf-8',
        'not found: try /metrics, /healthz, /readyz, /status\n',
      );
  }
}
