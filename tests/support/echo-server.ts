import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What a leaky server or proxy says back: the request line and every header, `authorization`
 * first (so it is within the part of a body that error messages quote).
 */
export function echoRequest(req: http.IncomingMessage): string {
  const headers = Object.entries(req.headers)
    .sort(([a], [b]) => Number(b === 'authorization') - Number(a === 'authorization'))
    .map(([name, value]) => `${name}: ${String(value)}`)
    .join('\n');
  return `${req.method} ${req.url}\n${headers}`;
}

export interface EchoServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Requests answered so far. */
  requests: number;
  stop(): Promise<void>;
}

/**
 * A server (on a free loopback port) that answers every request with what `answer` returns for
 * it: stands for an InfluxDB 1.x or a Prometheus behind a proxy that echoes requests in its
 * error bodies.
 */
export async function startEchoServer(
  answer: (req: http.IncomingMessage) => { status: number; body: string },
): Promise<EchoServer> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      echo.requests++;
      const { status, body } = answer(req);
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const echo: EchoServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: 0,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return echo;
}
