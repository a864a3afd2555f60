import { createHash } from 'node:crypto';
import http from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/**
 * What the proxy does to one request. `at` is a fraction of a body, in [0, 1): where it is cut.
 *
 * Answer side (the upstream's response reaches the client damaged):
 * - `latency`: the answer is held `ms` first;
 * - `bandwidth`: the request body reaches the upstream, and the response body the client, at
 *   `bytesPerSecond`;
 * - `reset`: the head and the response body up to `at` are sent, then a TCP RST;
 * - `cut`: the same, then a clean close (FIN) short of the announced Content-Length;
 * - `stall`: the head and the response body up to `at` are sent (with `headless`, nothing at all),
 *   then nothing more until the client gives up;
 * - `lost`: the upstream received and answered the request; the client gets a RST instead.
 *
 * Request side (the upstream never sees the whole request):
 * - `reset-request` / `cut-request`: the request body up to `at` reaches the upstream, then that
 *   connection gets a RST / FIN; the client's connection gets a RST.
 *
 * `status`: the proxy answers itself (a 503 from a load balancer), the upstream sees nothing.
 */
export type Fault =
  | { kind: 'pass' }
  | { kind: 'latency'; ms: number }
  | { kind: 'bandwidth'; bytesPerSecond: number }
  | { kind: 'reset'; at: number }
  | { kind: 'cut'; at: number }
  | { kind: 'stall'; at: number; headless?: boolean }
  | { kind: 'lost' }
  | { kind: 'reset-request'; at: number }
  | { kind: 'cut-request'; at: number }
  | { kind: 'status'; status: number; retryAfter?: string };

export type FaultKind = Fault['kind'];

/** One request as the proxy received it, for the decision. */
export interface ProxiedRequest {
  method: string;
  /** Path and query string. */
  url: string;
  body: Buffer;
  /** 1 for the first request with this method, URL and body; 2 for its first repeat, ... */
  attempt: number;
  /** Order of first sight of this method, URL and body among distinct requests (0-based). */
  distinct: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Every request and the fault applied to it, in arrival order. */
  readonly log: { request: ProxiedRequest; fault: Fault }[];
  /** How often each fault kind was applied. */
  counts(): Partial<Record<FaultKind, number>>;
  stop(): Promise<void>;
}

/** Response headers the proxy sets itself (it sends whole bodies with a Content-Length). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);
/** Throttled bodies go out in slices this often. */
const TICK_MS = 20;

/**
 * A fault-injecting HTTP proxy on a free loopback port, in front of a real server's plain HTTP
 * port. Each request is read whole, `decide` picks its {@link Fault} (tests seed it), and the
 * request is forwarded (or not) and answered (or not) accordingly. Requests with the same method,
 * URL and body count as attempts of one request, so a decision can depend on how often it was
 * tried. Bodies are small in tests: both directions are buffered.
 */
export async function startFaultProxy(opts: {
  targetPort: number;
  decide: (req: ProxiedRequest) => Fault;
}): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const attempts = new Map<string, { attempt: number; distinct: number }>();
  const log: FaultProxy['log'] = [];
  const agent = new http.Agent({ keepAlive: true });

  const server = http.createServer((req, res) => {
    void handle(req, res).catch(() => res.socket?.destroy());
  });
  server.on('connection', track);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readAll(req);
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const key = createHash('sha256').update(`${method} ${url}\n`).update(body).digest('hex');
    const seen = attempts.get(key) ?? { attempt: 0, distinct: attempts.size };
    seen.attempt++;
    attempts.set(key, seen);
    const request = { method, url, body, attempt: seen.attempt, distinct: seen.distinct };
    const fault = opts.decide(request);
    log.push({ request, fault });
    const socket = res.socket!;

    switch (fault.kind) {
      case 'status':
        res.writeHead(fault.status, {
          'Content-Type': 'text/plain; charset=utf-8',
          ...(fault.retryAfter !== undefined && { 'Retry-After': fault.retryAfter }),
        });
        res.end(`fault proxy: injected ${fault.status}\n`);
        return;
      case 'reset-request':
      case 'cut-request':
        await sendPartialRequest(req, body, Math.floor(fault.at * body.length), fault.kind);
        socket.resetAndDestroy();
        return;
      case 'latency':
        await sleep(fault.ms);
        break;
    }

    const rate = fault.kind === 'bandwidth' ? fault.bytesPerSecond : undefined;
    const answer = await forward(req, body, rate);
    if (fault.kind === 'lost') {
      socket.resetAndDestroy();
      return;
    }
    if (fault.kind === 'stall' && fault.headless) return; // the client's timeout ends it
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    }
    headers['content-length'] = answer.body.length;
    res.writeHead(answer.status, headers);
    // The head goes out now, whatever happens to the body (an empty write would not send it).
    res.flushHeaders();
    const cutAt = 'at' in fault ? Math.floor(fault.at * answer.body.length) : answer.body.length;
    switch (fault.kind) {
      case 'reset':
        await write(res, answer.body.subarray(0, cutAt));
        socket.resetAndDestroy();
        return;
      case 'cut':
        await write(res, answer.body.subarray(0, cutAt));
        socket.end();
        return;
      case 'stall':
        await write(res, answer.body.subarray(0, cutAt));
        return;
      case 'bandwidth':
        await throttled((slice) => write(res, slice), answer.body, fault.bytesPerSecond);
        res.end();
        return;
      default:
        res.end(answer.body);
    }
  }

  /** The request to the upstream, whole; its response read whole. */
  function forward(
    req: http.IncomingMessage,
    body: Buffer,
    bytesPerSecond: number | undefined,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const upstream = http.request(
        {
          host: '127.0.0.1',
          port: opts.targetPort,
          method: req.method,
          path: req.url,
          headers: upstreamHeaders(req.headers, opts.targetPort),
          agent,
        },
        (res) => {
          readAll(res).then(
            (data) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }),
            reject,
          );
        },
      );
      upstream.on('error', reject);
      if (bytesPerSecond === undefined) upstream.end(body);
      else {
        throttled((slice) => write(upstream, slice), body, bytesPerSecond).then(
          () => upstream.end(),
          reject,
        );
      }
    });
  }

  /** The request head and `bytes` of its body on a fresh upstream connection, then RST or FIN. */
  async function sendPartialRequest(
    req: http.IncomingMessage,
    body: Buffer,
    bytes: number,
    how: 'reset-request' | 'cut-request',
  ): Promise<void> {
    const upstream = connect(opts.targetPort, '127.0.0.1');
    track(upstream);
    await new Promise<void>((resolve, reject) => {
      upstream.once('connect', resolve).once('error', reject);
    });
    upstream.on('error', () => undefined);
    const head = [`${req.method} ${req.url} HTTP/1.1`, `Host: 127.0.0.1:${opts.targetPort}`];
    for (const [name, value] of Object.entries(req.headers)) {
      if (name === 'host' || name === 'connection' || value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) head.push(`${name}: ${v}`);
    }
    await write(upstream, Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'));
    if (bytes > 0) await write(upstream, body.subarray(0, bytes));
    if (how === 'reset-request') upstream.resetAndDestroy();
    else upstream.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    counts() {
      const counts: Partial<Record<FaultKind, number>> = {};
      for (const { fault } of log) counts[fault.kind] = (counts[fault.kind] ?? 0) + 1;
      return counts;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function upstreamHeaders(
  headers: http.IncomingHttpHeaders,
  port: number,
): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = { ...headers, host: `127.0.0.1:${port}` };
  delete out.connection;
  return out;
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** Resolves once `data` was handed to the socket (or rejects with the write's error). */
function write(to: NodeJS.WritableStream, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    to.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

/** `data` through `send` in slices, no faster than `bytesPerSecond`. */
async function throttled(
  send: (slice: Buffer) => Promise<void>,
  data: Buffer,
  bytesPerSecond: number,
): Promise<void> {
  const slice = Math.max(1, Math.floor((bytesPerSecond * TICK_MS) / 1000));
  for (let from = 0; from < data.length; from += slice) {
    await send(data.subarray(from, from + slice));
    if (from + slice < data.length) await sleep(TICK_MS);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
