import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One InfluxDB write seen by the tap: `sent` when it reaches the tap, `answered` once forwarded back. */
export interface TappedWrite {
  phase: 'sent' | 'answered';
  /** The retention policy (`rp`) the write names, or '' for the database default. */
  rp: string;
  status?: number;
}

/**
 * A plain forwarding HTTP proxy in front of InfluxDB that reports every `/write` to a listener,
 * synchronously, so a test can SIGKILL a writer at the moment a write is in flight (`sent`: the
 * request body is still being forwarded) or just acknowledged (`answered`: InfluxDB has the points,
 * the writer has not yet saved its watermark). Everything else passes untouched.
 */
export interface WriteTap {
  url: string;
  onWrite: ((write: TappedWrite) => void) | undefined;
  close(): Promise<void>;
}

export async function startWriteTap(target: string): Promise<WriteTap> {
  const tap: WriteTap = { url: '', onWrite: undefined, close: () => Promise.resolve() };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://tap');
    const isWrite = url.pathname === '/write';
    const rp = url.searchParams.get('rp') ?? '';
    if (isWrite) tap.onWrite?.({ phase: 'sent', rp });
    const upstream = request(
      `${target}${req.url ?? '/'}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => {
          if (isWrite) tap.onWrite?.({ phase: 'answered', rp, status: answer.statusCode });
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.on('error', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  tap.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tap.close = async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };
  return tap;
}
