import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  form: URLSearchParams;
}

export type Handler = (
  req: RecordedRequest,
  res: http.ServerResponse,
  index: number,
) => void | Promise<void>;

export interface FakePrometheus {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** An in-process HTTP server on 127.0.0.1 that records requests and answers via `handler`. */
export async function startFakePrometheus(handler: Handler): Promise<FakePrometheus> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = Buffer.concat(chunks).toString('utf8');
      const form = new URLSearchParams(req.method === 'POST' ? body : url.search);
      const recorded = { method: req.method ?? '', path: url.pathname, headers: req.headers, form };
      requests.push(recorded);
      Promise.resolve(handler(recorded, res, requests.length - 1)).catch((err: unknown) => {
        res.destroy(err as Error);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(text);
}

export function matrixBody(
  series: { metric: Record<string, string>; values: [number, string][] }[],
): string {
  return JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: series } });
}
