import { readFile } from 'node:fs/promises';
import { connect, type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import type { CertFiles } from './test-pki.js';

export interface TlsProxy {
  /** `https://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Handshakes completed (with a verified client certificate when one is required). */
  handshakes: number;
  /** Connections accepted, whether or not their handshake completed. */
  connections: number;
  /** Client certificate subjects (CN) the proxy accepted, in order. */
  clientNames: string[];
  stop(): Promise<void>;
}

/**
 * A TLS-terminating proxy on a free loopback port: each connection's decrypted bytes are piped to
 * `127.0.0.1:<targetPort>` (a real server's plain HTTP port) and back. With `clientCa`, it asks
 * for a client certificate and refuses a connection without one that CA signed (mTLS).
 */
export async function startTlsProxy(opts: {
  targetPort: number;
  serverCert: CertFiles;
  clientCa?: string;
}): Promise<TlsProxy> {
  const [cert, key, ca] = await Promise.all([
    readFile(opts.serverCert.cert),
    readFile(opts.serverCert.key),
    opts.clientCa === undefined ? undefined : readFile(opts.clientCa),
  ]);
  const open = new Set<Socket>();
  const track = (socket: Socket): void => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };
  const server = tls.createServer(
    { cert, key, ca, requestCert: ca !== undefined, rejectUnauthorized: ca !== undefined },
    (client) => {
      proxy.handshakes++;
      const peer = client.getPeerCertificate();
      if (peer.subject?.CN) proxy.clientNames.push(String(peer.subject.CN));
      const upstream = connect(opts.targetPort, '127.0.0.1');
      track(upstream);
      client.pipe(upstream).pipe(client);
      const closeBoth = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.once('error', closeBoth).once('close', closeBoth);
      upstream.once('error', closeBoth).once('close', closeBoth);
    },
  );
  server.on('connection', (socket: Socket) => {
    proxy.connections++;
    track(socket);
  });
  // A refused handshake (unknown CA, no client certificate) is the point of some tests.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const proxy: TlsProxy = {
    url: `https://127.0.0.1:${port}`,
    port,
    handshakes: 0,
    connections: 0,
    clientNames: [],
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
